"""The planner's loop on the pages: the last forecast against what happened, drift, every
run's held-out and realised scores, and why the served model serves.

Everything is read through ``pipeline.serving.accuracy`` (the figures
``GET /api/accuracy`` gives); this module only lays them out.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dash_table, html

from dashapp import figures
from dashapp.components import TABLE_STYLE, chart
from forecasting.evaluation.why import describe_why
from pipeline.serving import Scope, ServingCache, accuracy
from storage.datasets import dataset_info, sales_column

FIGURES = (
    ("mase", "MASE", False),
    ("rmsse", "RMSSE", False),
    ("wape", "WAPE", True),
    ("bias", "bias", True),
    ("coverage80", "inside 80% band", True),
    ("coverage95", "inside 95% band", True),
)


def shown(value, percent: bool) -> str:
    if value is None or value != value:
        return "–"
    return f"{value:.1%}" if percent else f"{value:.3f}"


def why_sentence(run: dict) -> str | None:
    """Why the run's served model serves, from the figures kept with it. The figures are
    the drivers' choice: where the run is headed without a plan (none on file), the
    sentence says so (a stranger read it as what served)."""
    metrics = run.get("metrics") or {}
    said = describe_why(metrics.get("why") or [])
    if said and metrics.get("headline") == "without_plan":
        return f"Why, with a plan: {said.removeprefix('Why: ')}"
    return said


def realised_sentence(cache: ServingCache, serving_id: int | None) -> str | None:
    """How earlier runs did once their actuals arrived, for telling luck from skill."""
    parts = []
    for row in accuracy.every_run(cache, limit=10):
        got = row["realised"]
        if row["run"]["id"] == serving_id or not got:
            continue
        parts.append(
            f"run {row['run']['id']} realised MASE {shown(got['mase'], False)} over "
            f"{row['periods']} periods (held out {shown(row['promised']['mase'], False)})"
        )
    return ("Earlier runs once actuals arrived: " + "; ".join(parts[:3]) + ".") if parts else None


def last_forecast_section(cache: ServingCache, scope: Scope, quantity: str) -> list:
    """'Last forecast vs what happened': chart, figures and the drift verdict (nothing
    before any actuals arrived)."""
    compared = accuracy.against_actuals(cache, scope)
    if compared is None:
        return []
    run, got = compared.run, compared.realised
    # the column that run forecast, which the serving run's may not be (after a rollback)
    if run.get("dataset_id"):
        quantity = sales_column(dataset_info(cache.system.db, run["dataset_id"])) or quantity
    tail = compared.history.tail(max(3 * len(compared.forecast), 24))
    fig = figures.history_with_forecast(tail, compared.forecast, quantity)
    verdict = accuracy.drift(got, run)
    serving = cache.run_id() == run["id"]
    promised = accuracy.promised(run)
    table = dbc.Table(
        [
            html.Thead(html.Tr([html.Th(""), html.Th("what happened"), html.Th("held out")])),
            html.Tbody(
                [
                    html.Tr(
                        [
                            html.Td(label),
                            html.Td(shown(got.overall.get(key), pct)),
                            html.Td(shown(promised.get(key), pct)),
                        ]
                    )
                    for key, label, pct in FIGURES
                ]
            ),
        ],
        size="sm",
        bordered=False,
        className="mb-2",
        id="overview-realised-table",
    )
    said = (
        f"Run {run['id']}'s forecast ({'serving' if serving else 'served earlier'}) against "
        f"the {got.periods} periods of actuals added since ({got.overall['first']} to "
        f"{got.overall['last']}, all {got.overall['series_count']} series; the chart shows "
        "the selection)."
    )
    alert = None
    if serving and verdict.drifted:
        alert = dbc.Alert(
            [
                html.B("The forecast has drifted: "),
                f"{verdict.why}. Retrain on the Retraining page to learn from the new actuals. ",
                html.Span(f"({verdict.rule})", className="small"),
            ],
            color="warning",
            id="overview-drift",
        )
    elif serving:
        alert = html.P(
            f"No drift: {verdict.why} ({verdict.rule}).",
            className="small text-muted",
            id="overview-drift",
        )
    return [
        html.H4("Last forecast vs what happened", className="mt-4", id="overview-realised"),
        html.P(said, className="small"),
        *([alert] if alert is not None else []),
        chart("overview-realised-chart", fig, title=f"{quantity}: forecast and actuals"),
        table,
    ]


def runs_table(cache: ServingCache) -> dash_table.DataTable:
    """Every succeeded training run: held-out and realised scores, which serves."""
    serving = cache.run_id()
    rows = []
    for row in accuracy.every_run(cache):
        run, got = row["run"], row["realised"] or {}
        rows.append(
            {
                "run": run["id"],
                "serves": "serving" if run["id"] == serving else "",
                "finished": (run["finished_at"] or "")[:16].replace("T", " "),
                "data set": run["dataset_id"],
                "model": run["selected_model"],
                "forecasts": row["sales"] or "",
                "held-out MASE": shown(row["promised"]["mase"], False),
                "realised MASE": shown(got.get("mase"), False),
                "realised WAPE": shown(got.get("wape"), True),
                "periods with actuals": "none: the newest data reads another sales column"
                if row["other_sales"]
                else row["periods"],
                "state": "pruned" if run["pruned"] else "kept",
            }
        )
    columns = [{"name": c, "id": c} for c in (rows[0] if rows else {"run": 0})]
    return dash_table.DataTable(
        rows, columns, id="models-runs", row_selectable="single", page_size=10, **TABLE_STYLE
    )
