"""Models: the held-out backtest of every model, their scores, and how tuning went."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import optuna
import plotly.graph_objects as go
from dash import Input, Output, callback, dcc, html

from dashapp import components as ui
from dashapp import figures
from dashapp.state import app_state

dash.register_page(__name__, path="/models", name="Models", order=3, title="Models")


def layout(**_):
    state = app_state()
    service = state.service
    if not service.has_production():
        return html.Div([html.H2("Models"), ui.no_model_notice()])
    prod = service.production()
    models = service.model_table(prod.run["id"])
    links = []
    if state.settings.mlflow_ui_url:
        links.append(
            dbc.Button(
                "Open MLflow",
                href=state.settings.mlflow_ui_url,
                target="_blank",
                color="link",
                id="models-mlflow-link",
            )
        )
    if state.settings.optuna_dashboard_url:
        links.append(
            dbc.Button(
                "Open the Optuna dashboard",
                href=state.settings.optuna_dashboard_url,
                target="_blank",
                color="link",
                id="models-optuna-link",
            )
        )
    tuned = [m["model"] for m in models if m["study_name"]]
    return html.Div(
        [
            html.H2("Models"),
            html.P(
                f"Run {prod.run['id']} trained {len(models)} models and serves "
                f"{prod.run['selected_model']}. Each model was tuned and compared on "
                "rolling-origin folds of the training window, then scored on the last "
                f"{prod.serving.horizon} periods of every series, which it never saw.",
                className="text-muted",
            ),
            html.Div(links),
            ui.series_selector("models-series", service.series_options()),
            ui.loading(dcc.Graph(id="models-backtest", config={"displaylogo": False})),
            dcc.Graph(
                figure=figures.model_comparison(models),
                id="models-comparison",
                config={"displaylogo": False},
            ),
            html.H5("Scores"),
            html.P(
                "Validation score: mean of MASE and RMSSE over the validation folds. Test "
                "columns: the held-out window (WAPE, sMAPE, MAPE and bias in %).",
                className="small text-muted",
            ),
            ui.score_table(models, "models-table", tuning=True),
            html.H5("Tuning", className="mt-4"),
            dcc.Dropdown(
                id="models-study",
                options=tuned,
                value=tuned[0] if tuned else None,
                placeholder="no model was tuned in this run (trials = 0)",
            ),
            ui.loading(html.Div(id="models-tuning")),
        ]
    )


@callback(Output("models-backtest", "figure"), Input("models-series", "value"))
def backtest_chart(selector):
    service = app_state().service
    selection = ui.parse_selector(selector)
    prod = service.production()
    backtest = service.run_artifact("backtest")
    chosen = service.members(selection, prod.keys)
    rows = backtest.loc[backtest["unique_id"].isin(chosen)]
    columns = [c for c in rows.columns if c not in ("unique_id", "ds")]
    summed = rows.groupby("ds")[columns].sum().reset_index()
    history = service.history(selection)
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
    for col in columns:
        if col != "y":
            fig.add_trace(
                go.Scatter(
                    x=summed["ds"],
                    y=summed[col],
                    name=col,
                    mode="lines",
                    visible=True if col == "selected" else "legendonly",
                )
            )
    fig.update_layout(
        title=f"Backtest on the held-out window: {selection.label} "
        "(click a model in the legend to show it)",
        height=420,
        hovermode="x unified",
    )
    return fig


@callback(Output("models-tuning", "children"), Input("models-study", "value"))
def tuning(model):
    if not model:
        return html.P("Train with trials > 0 to tune models with Optuna.", className="small")
    state = app_state()
    row = next(m for m in state.service.model_table() if m["model"] == model)
    try:
        study = optuna.load_study(
            study_name=row["study_name"], storage=state.settings.resolved_optuna_storage()
        )
    except KeyError:
        return ui.error_notice(f"The study {row['study_name']} is no longer stored.")
    parts = [
        dcc.Graph(figure=optuna.visualization.plot_optimization_history(study), id="models-history")
    ]
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if len(complete) >= 2 and complete[0].params:
        try:
            parts.append(
                dcc.Graph(
                    figure=optuna.visualization.plot_param_importances(study),
                    id="models-importance",
                )
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
