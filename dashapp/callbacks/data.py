"""The data page's callbacks (its layout: ``dashapp.pages.data``)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, dash_table, html

from dashapp import components as ui
from dashapp import figures
from dashapp.callbacks.registry import callback
from dashapp.state import app_state
from pipeline.formatting import scores
from pipeline.serving import queries, reports


@callback(
    Output("data-history", "figure"),
    Output("data-history-title", "children"),
    Output("data-table", "data"),
    Output("data-table", "columns"),
    Input("data-series", "value"),
)
def update_history(selector):
    reads = app_state().reads
    scope = ui.parse_selector(selector)
    history = queries.history(reads, scope)
    quantity, _freq = reports.quantity(reads)
    fig = figures.history_with_forecast(history, None, quantity, tail=10_000)
    title = (
        f"History of {quantity}: {scope.label} (red: outliers; open grey: periods the "
        "file had no value for, filled by the gap rule)"
    )
    table = history_table(history, quantity)
    columns = [{"name": c, "id": c} for c in table.columns]
    return fig, title, table.to_dict("records"), columns


def history_table(history: pd.DataFrame, quantity: str) -> pd.DataFrame:
    """The history's rows, newest first, as the Data page's table shows them: a group's sum
    of decimals carries float noise (a stranger read 36.769999999999996 for 36.77)."""
    table = history.assign(date=history["ds"].dt.date.astype(str), y=history["y"].round(4))
    table = table[["date", "y", "outliers", "filled"]].rename(columns={"y": quantity})
    return table.iloc[::-1]


@callback(
    Output("data-accuracy", "children"),
    Output("data-importance", "figure"),
    Input("data-series", "value"),
)
def update_accuracy(_selector):
    reads = app_state().reads
    if not reads.serves():
        return ui.no_model_notice(), figures.empty("No trained model yet")
    models = reports.model_table(reads)
    per_series = reports.run_artifact(reads, "per_series")
    metrics = [c for c in per_series.columns if c not in ("unique_id", "model")]
    shown = [
        {**row, **scores({m: row[m] for m in metrics})} for row in per_series.to_dict("records")
    ]
    accuracy = html.Div(
        [
            html.P(
                "Scores on the last periods of each series, held out from training "
                "(lower is better; WAPE, sMAPE, MAPE and bias in %).",
                className="small",
            ),
            ui.score_table(models, "data-model-metrics"),
            ui.true_drivers_note(models),
            html.P("Per series:", className="small mt-2"),
            dash_table.DataTable(
                shown,
                [{"name": c, "id": c} for c in per_series.columns],
                id="data-series-metrics",
                page_size=15,
                filter_action="native",
                sort_action="native",
                style_table={"overflowX": "auto"},
            ),
        ]
    )
    importance = reports.feature_importance(reads)
    if not importance:
        return accuracy, figures.empty("No tree model (xgboost, random_forest) was trained")
    fig = go.Figure()
    for name, values in importance.items():
        top = dict(list(values.items())[:15])
        fig.add_trace(go.Bar(x=list(top.values()), y=list(top), name=name, orientation="h"))
    fig.update_layout(barmode="group", yaxis={"autorange": "reversed"})
    rows = max(len(v) for v in importance.values())
    height = max(460, 120 + 14 * rows * len(importance))
    return accuracy, figures.responsive(fig, "share of importance", "input", height=height)
