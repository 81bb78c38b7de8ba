"""Small UI pieces shared by pages: the series selector, KPI cards, charts, score tables."""

from __future__ import annotations

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from dashapp.auth import admin_token, is_admin
from forecasting.data.frequency import Frequency, period_unit
from pipeline.formatting import score, scores
from pipeline.serving import Scope

TOTAL = "__total__"
#: how every plain data table looks: the page's font, scrolling sideways inside its box
TABLE_STYLE = {
    "style_table": {"overflowX": "auto"},
    "style_cell": {"fontFamily": "inherit", "fontSize": 14},
}
INTERVAL_NOTE = (
    "The shaded bands are prediction intervals, built to hold 80% (darker) and 95% "
    "(lighter) of actual values; how much they held in the run's held-out tests is on the "
    "Overview's production card. A wider band means "
    "less certainty, not a worse model. Past the horizon the models were validated for, "
    "the bands are extrapolated (they keep widening, at least like a random walk) and that "
    "part of the chart is shaded grey."
)


def selector_options(options: dict[str, list[str]]) -> list[dict]:
    items = [{"label": "All series (total)", "value": TOTAL}]
    items += [{"label": f"Group: {g}", "value": f"group:{g}"} for g in options["groups"]]
    items += [{"label": s, "value": f"series:{s}"} for s in options["series"]]
    return items


def parse_selector(value: str | None) -> Scope:
    if not value or value == TOTAL:
        return Scope()
    kind, _, rest = value.partition(":")
    return Scope(series=rest) if kind == "series" else Scope(group=rest)


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


#: the recent window a growth card compares, in the data's own periods
GROWTH_WINDOW = {"days": 28, "weeks": 4, "months": 3}


def growth_card(history: pd.Series, freq: Frequency) -> dbc.Col:
    """Growth of the last 28 days, 4 weeks or 3 months over the same span before."""
    unit = period_unit(freq)
    window = min(GROWTH_WINDOW.get(unit, 28), len(history) // 2)
    recent = history.tail(window).sum()
    before = history.iloc[-2 * window : -window].sum() if window else 0
    growth = f"{(recent / before - 1) * 100:+.1f}%" if before else "n/a"
    span = f"{window} {unit}" if window != 1 else f"1 {unit.rstrip('s')}"
    return kpi_card(
        f"Growth, last {span}", growth, f"last {span} vs the {span} before", id_="overview-growth"
    )


def chart(id_: str, figure: go.Figure | None = None, title: str = "") -> html.Div:
    """A chart under a heading that wraps on a narrow screen (``<id>-title``, for callbacks)."""
    graph = dcc.Graph(id=id_, config={"displaylogo": False, "responsive": True})
    if figure is not None:
        graph.figure = figure
    return html.Div(
        [html.H6(title, id=f"{id_}-title", className="chart-title"), loading(graph)],
        className="mb-3",
    )


def tuning_sentence(models: list[dict]) -> str:
    """What Optuna tuned in the run, in words (nothing, when trials were 0)."""
    tuned = [m for m in models if (m.get("trials") or 0) > 0]
    if not tuned:
        return "No model was tuned (trials = 0): each ran with its default parameters."
    names = ", ".join(f"{m['model']} ({m['trials']} trials)" for m in tuned)
    rest = "" if len(tuned) == len(models) else "; the others ran with their default parameters"
    return f"Tuned with Optuna: {names}{rest}."


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
    """The held-out scores of a run's models (with validation and tuning columns if asked).

    Headers are two rows (group, metric) so that a dozen columns fit a laptop screen;
    on a phone the table scrolls inside its box. Scores go through ``formatting``.
    """
    from dash import dash_table

    rows, columns = [], [{"name": ["", "model"], "id": "model"}]
    if tuning:  # seconds are the whole validation (fits on every fold, plus trials if any)
        columns += [
            {"name": ["validation", "score"], "id": "validation"},
            {"name": ["validation", "Optuna trials"], "id": "trials"},
            {"name": ["validation", "seconds"], "id": "seconds"},
        ]
    metrics = list(models[0]["test"]) if models else []
    group = "held-out test" if tuning else "held-out"
    columns += [{"name": [group, m.upper()], "id": m} for m in metrics]
    for m in models:
        row = {"model": m["model"] + (" (served)" if m["selected"] else "")}
        if m.get("true_drivers"):
            row["model"] += f" (with true {', '.join(m['true_drivers'])})"
        if m.get("diverged"):  # its forecast for these series was replaced by seasonal naive
            row["model"] += f" (diverged on {len(m['diverged'])} series, replaced)"
        if tuning:
            row["validation"] = score(m["validation_score"])
            row |= {"trials": m["trials"], "seconds": round(m["seconds"] or 0, 1)}
        row |= scores(m["test"])
        rows.append(row)
    return dash_table.DataTable(
        rows,
        columns,
        id=id_,
        sort_action="native",
        merge_duplicate_headers=True,
        style_table={"overflowX": "auto", "maxWidth": "100%"},
        style_cell={"fontFamily": "inherit", "fontSize": 13, "padding": "2px 6px"},
        style_header={"fontWeight": "600", "whiteSpace": "normal"},
    )


def true_drivers_note(models: list[dict]) -> html.P | None:
    """What "with true ..." after a model's name means, where a row says it."""
    named = sorted({d for m in models for d in m.get("true_drivers") or ()})
    if not named:
        return None
    return html.P(
        f'Marked "with true {", ".join(named)}": scored with the actual values of the '
        "held-out periods, which a forecast has only where a plan gives them. Without a "
        "plan the other scores are the ones to compare; the Overview says which serves.",
        className="small text-muted",
        id="true-drivers-note",
    )


def access_panel() -> html.Div:
    """Who may change things here: open, signed in, or a sign-in form."""
    if not admin_token():
        return dbc.Alert(
            "Retraining is open: anyone who can reach this page can upload data and start or "
            "cancel runs. Set ADMIN_TOKEN to restrict it (see the README).",
            color="warning",
            id="retraining-open",
        )
    if is_admin():
        return html.Div(
            [
                html.Span(
                    "Signed in: you may upload data and start or cancel runs. ",
                    id="retraining-signed-in",
                ),
                dbc.Button(
                    "Sign out", id="retraining-sign-out", size="sm", color="secondary", outline=True
                ),
            ],
            className="mb-3",
        )
    return dbc.Card(
        dbc.CardBody(
            [
                html.P(
                    "Uploading data and starting or cancelling runs needs the admin token. "
                    "Everything else is open to read.",
                    className="mb-2",
                ),
                dbc.InputGroup(
                    [
                        dbc.Input(
                            id="retraining-token", type="password", placeholder="Admin token"
                        ),
                        dbc.Button("Sign in", id="retraining-sign-in", color="primary"),
                    ]
                ),
            ]
        ),
        className="mb-3",
    )
