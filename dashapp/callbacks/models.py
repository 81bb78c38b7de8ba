"""The models page's callbacks (its layout: ``dashapp.pages.models``)."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import optuna
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, html

from dashapp import components as ui
from dashapp import figures, loop_views
from dashapp.auth import is_admin
from dashapp.callbacks.registry import callback
from dashapp.state import app_state
from forecasting.errors import DataError
from forecasting.serving.model import SERVED
from pipeline.formatting import counted
from pipeline.serving import queries, reports


@callback(
    Output("models-backtest", "figure"),
    Output("models-backtest-title", "children"),
    Input("models-series", "value"),
    Input("models-compare", "value"),
)
def backtest_chart(selector, compare):
    reads = app_state().reads
    scope = ui.parse_selector(selector)
    prod = reads.serving_run()
    backtest = reports.run_artifact(reads, "backtest")
    chosen = queries.members(scope, prod.keys)
    rows, early = aligned_holdout(backtest.loc[backtest["unique_id"].isin(chosen)])
    trained = [m["model"] for m in reports.model_table(reads, prod.run["id"])]
    shown = [c for c in (compare or []) if c in trained and c in rows.columns]
    summed = rows.groupby("ds")[["y", SERVED, *shown]].sum().reset_index()
    history = queries.history(reads, scope)
    history = history.loc[history["ds"] < summed["ds"].min()].tail(3 * len(summed))
    fig = go.Figure(
        go.Scatter(x=history["ds"], y=history["y"], name="history", line={"color": "#999"})
    )
    fig.add_trace(
        go.Scatter(
            x=summed["ds"],
            y=summed["y"],
            name="actual (held out)",
            line={"color": "black", "width": 2.5},
        )
    )
    for col in [SERVED, *shown]:
        name = f"served: {prod.run['selected_model']}" if col == SERVED else col
        fig.add_trace(go.Scatter(x=summed["ds"], y=summed[col], name=name, mode="lines"))
    fig.update_layout(hovermode="x unified")
    quantity, _freq = reports.quantity(reads)
    title = f"Backtest of {quantity} on the held-out window: {scope.label}"
    if early:
        title += (
            f" ({counted(early, 'series', 'series')} end before the file's last period; "
            "each is scored on its own last periods and left out of this sum)"
        )
    return figures.responsive(fig, figures.DATE_AXIS, quantity), title


def aligned_holdout(rows: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The held-out rows of the series whose window ends where the file ends, and how many
    series were left out: a series that ends early is held out on its own last periods,
    and adding it to a sum drew the total low where its window stopped (a stranger's
    delisted article; Tourism's 41 early endings)."""
    last = rows.groupby("unique_id")["ds"].max()
    aligned = last.index[last == last.max()]
    return rows.loc[rows["unique_id"].isin(aligned)], len(last) - len(aligned)


@callback(Output("models-tuning", "children"), Input("models-study", "value"))
def tuning(model):
    if not model:
        return html.P("Train with trials > 0 to tune models with Optuna.", className="small")
    reads = app_state().reads
    try:
        study = reports.tuning_study(reads, model)
    except DataError as exc:
        return ui.error_notice(str(exc))
    row = next(m for m in reports.model_table(reads) if m["model"] == model)
    parts = [_optuna_chart(optuna.visualization.plot_optimization_history(study), "history")]
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if len(complete) >= 2 and complete[0].params:
        try:
            parts.append(
                _optuna_chart(optuna.visualization.plot_param_importances(study), "importance")
            )
        except (RuntimeError, ValueError) as exc:
            parts.append(html.P(f"Parameter importance unavailable: {exc}", className="small"))
    parts.append(
        html.P(
            f"{row['trials']} trials, {row['pruned']} stopped early by the median "
            f"pruner; best parameters: {row['params']}",
            className="small",
        )
    )
    return parts


def _optuna_chart(fig: go.Figure, name: str):
    title = figures.take_title(fig)
    return ui.chart(f"models-{name}", figures.responsive(fig, height=440), title)


@callback(
    Output("models-promote-confirm", "displayed"),
    Output("models-promote-confirm", "message"),
    Output("models-promote-message", "children"),
    Input("models-promote", "n_clicks"),
    State("models-runs", "selected_rows"),
    State("models-runs", "data"),
    prevent_initial_call=True,
)
def ask_to_promote(clicks, selected, rows):
    if not clicks:
        return False, "", dash.no_update
    if not selected:
        return False, "", dbc.Alert("Pick a run in the table first.", color="info")
    row = rows[selected[0]]
    return (
        True,
        f"Serve run {row['run']} ({row['model']}) again? It replaces the serving model for "
        "every page, the API and MLflow's production alias, until another run is promoted "
        "or trains.",
        None,
    )


@callback(
    Output("models-promote-message", "children", allow_duplicate=True),
    Output("models-runs-area", "children"),
    Input("models-promote-confirm", "submit_n_clicks"),
    State("models-runs", "selected_rows"),
    State("models-runs", "data"),
    prevent_initial_call=True,
)
def promote(confirmed, selected, rows):
    from pipeline.promotion import NotPromotable
    from pipeline.promotion import promote as serve_again

    if not confirmed or not selected:
        return dash.no_update, dash.no_update
    if not is_admin():
        alert = dbc.Alert("Sign in on the Retraining page to change which run serves.",
                          color="warning", id="models-promote-refused")  # fmt: skip
        return alert, dash.no_update
    run_id = int(rows[selected[0]]["run"])
    state = app_state()
    try:
        serve_again(state.system, run_id)
    except NotPromotable as exc:
        return dbc.Alert(str(exc), color="danger", id="models-promote-refused"), dash.no_update
    text = f"Run {run_id} serves now. Reload a page to see its forecasts."
    return (
        dbc.Alert(text, color="success", id="models-promoted"),
        loop_views.runs_table(state.reads),
    )
