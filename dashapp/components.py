"""Small UI pieces shared by pages: the series selector, KPI cards, notices."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from pipeline.serve import Selection

TOTAL = "__total__"
INTERVAL_NOTE = (
    "The shaded bands are prediction intervals: in held-out tests, about 80% (darker) and "
    "95% (lighter) of actual values fell inside bands built this way. A wider band means "
    "less certainty, not a worse model."
)


def selector_options(options: dict[str, list[str]]) -> list[dict]:
    items = [{"label": "All series (total)", "value": TOTAL}]
    items += [{"label": f"Group: {g}", "value": f"group:{g}"} for g in options["groups"]]
    items += [{"label": s, "value": f"series:{s}"} for s in options["series"]]
    return items


def parse_selector(value: str | None) -> Selection:
    if not value or value == TOTAL:
        return Selection()
    kind, _, rest = value.partition(":")
    return Selection(series=rest) if kind == "series" else Selection(group=rest)


def series_selector(id_: str, options: dict[str, list[str]]) -> html.Div:
    return html.Div(
        [
            dbc.Label("Series", html_for=id_),
            dcc.Dropdown(
                id=id_,
                options=selector_options(options),
                value=TOTAL,
                clearable=False,
                searchable=True,
            ),
        ],
        className="mb-3",
    )


def kpi_card(title: str, value: str, note: str = "", id_: str | None = None) -> dbc.Col:
    body = [html.Div(title, className="text-muted small"), html.H4(value, className="mb-0")]
    if note:
        body.append(html.Div(note, className="small text-muted"))
    return dbc.Col(dbc.Card(dbc.CardBody(body), id=id_ or ""), xs=12, sm=6, lg=3, className="mb-2")


def no_model_notice() -> dbc.Alert:
    return dbc.Alert(
        [
            "No model serves yet. Go to ",
            dcc.Link("Retraining", href="/retraining"),
            " to upload sales data and train one.",
        ],
        color="info",
    )


def error_notice(message: str) -> dbc.Alert:
    return dbc.Alert(message, color="warning")


def loading(children, id_: str | None = None) -> dcc.Loading:
    return dcc.Loading(children, type="default", **({"id": id_} if id_ else {}))


def score_table(models: list[dict], id_: str, tuning: bool = False):
    """The held-out scores of a run's models (with validation and tuning columns if asked)."""
    from dash import dash_table

    rows = []
    for m in models:
        row = {"model": m["model"] + (" (served)" if m["selected"] else "")}
        if tuning:
            row["validation score"] = round(m["validation_score"], 3)
        prefix = "test " if tuning else ""
        row |= {f"{prefix}{k}": round(v, 3) for k, v in m["test"].items()}
        if tuning:
            row |= {"trials": m["trials"], "seconds": m["seconds"]}
        rows.append(row)
    return dash_table.DataTable(
        rows,
        [{"name": c, "id": c} for c in rows[0]],
        id=id_,
        sort_action="native",
        style_table={"overflowX": "auto"},
    )
