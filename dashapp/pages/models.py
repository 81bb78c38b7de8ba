"""Models: the held-out backtest of every model, their scores, and how tuning went.

The page's layout; what changes it is ``dashapp.callbacks.models``.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashapp import components as ui
from dashapp import figures, loop_views
from dashapp.state import app_state
from forecasting.evaluation.departures import Departure
from forecasting.evaluation.screening import describe_screen
from pipeline.formatting import describe_holdout
from pipeline.serving import queries, reports

dash.register_page(__name__, path="/models", name="Models", order=3, title="Models")


def layout(**_):
    state = app_state()
    reads = state.reads
    if not reads.serves():
        return html.Div([html.H2("Models"), ui.no_model_notice()])
    prod = reads.serving_run()
    models = reports.model_table(reads, prod.run["id"])
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
    names = [m["model"] for m in models]
    return html.Div(
        [
            html.H2("Models"),
            html.P(
                f"Run {prod.run['id']} trained {len(models)} models and serves "
                f"{prod.run['selected_model']}. {ui.tuning_sentence(models)} Every model was "
                "compared on rolling-origin folds of the training window, then scored on the "
                f"last {prod.serving.horizon} periods of every series, which it never saw.",
                className="text-muted",
                id="models-intro",
            ),
            html.P(
                describe_holdout(prod.run["metrics"]) or "",
                className="text-muted",
                id="models-holdout",
            ),
            html.P(loop_views.why_sentence(prod.run) or "", className="small", id="models-why"),
            html.P(
                loop_views.realised_sentence(reads, prod.run["id"]) or "",
                className="small",
                id="models-realised",
            ),
            html.Div(links),
            _choice_tests(prod.run.get("metrics") or {}),
            _failed(prod.run.get("metrics") or {}),
            _screens(prod.run.get("metrics") or {}),
            dbc.Row(
                [
                    dbc.Col(
                        ui.series_selector("models-series", queries.series_options(reads)), md=6
                    ),
                    dbc.Col(
                        [
                            dbc.Label("Compare with", html_for="models-compare"),
                            dcc.Dropdown(
                                id="models-compare",
                                options=names,
                                value=[],
                                multi=True,
                                placeholder="the served forecast alone; add models here",
                            ),
                        ],
                        md=6,
                        className="mb-3",
                    ),
                ]
            ),
            ui.chart("models-backtest"),
            ui.chart(
                "models-comparison", figures.model_comparison(models), figures.comparison_title()
            ),
            html.H5("Scores"),
            html.P(
                "Validation score: mean of MASE and RMSSE over the validation folds. Test "
                "columns: the held-out window (WAPE, sMAPE, MAPE and bias in %).",
                className="small text-muted",
            ),
            ui.score_table(models, "models-table", tuning=True),
            ui.true_drivers_note(models),
            html.H5("Runs: held out and what happened", className="mt-4"),
            html.P(
                "Every succeeded training run with the score its backtest promised and, once "
                "new actuals were added (Retraining, Add new actuals), the score its stored "
                "forecast got on them. Pick a run and serve it again to roll back; failed, "
                "cancelled and pruned runs cannot serve.",
                className="small text-muted",
            ),
            html.Div(loop_views.runs_table(reads), id="models-runs-area"),
            dbc.Button(
                "Serve this run",
                id="models-promote",
                color="warning",
                outline=True,
                className="mt-2",
            ),
            dcc.ConfirmDialog(id="models-promote-confirm"),
            html.Div(id="models-promote-message", className="mt-2"),
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


def _choice_tests(metrics: dict) -> html.Div:
    """How the served choice was made: each pool's test of the default combination."""
    tests = [Departure.from_dict(t) for t in metrics.get("choice_tests") or []]
    if not tests:
        return html.Div(id="models-choice-tests")
    return html.Div(
        [
            html.H5("How the served forecast was chosen"),
            html.P(
                "Each demand family starts on an equal-weight combination of strong models; "
                "a pool of series leaves it only for a candidate that validates better "
                "series after series and fold after fold (paired t of 2), by 2% or more, "
                "and in no fold worse by that much.",
                className="small text-muted",
            ),
            html.Ul([html.Li(t.describe()) for t in tests], className="small"),
        ],
        id="models-choice-tests",
    )


def _failed(metrics: dict) -> html.Div:
    """The models the run left out because their fit, validation or tuning failed."""
    failed = metrics.get("failed") or {}
    if not failed:
        return html.Div(id="models-failed")
    return html.Div(
        [
            html.H5("Left out: these models failed, the run went on without them"),
            html.Ul([html.Li(f"{m}: {why}") for m, why in failed.items()], className="small"),
        ],
        id="models-failed",
    )


def _screens(metrics: dict) -> html.Div:
    """What the sample said of each expensive model the run did not fit on every series."""
    screens = metrics.get("screened") or []
    if not screens:
        return html.Div(id="models-screens")
    return html.Div(
        [
            html.H5("Models left out, or tried on a sample first"),
            html.Ul([html.Li(describe_screen(s)) for s in screens], className="small"),
        ],
        id="models-screens",
    )
