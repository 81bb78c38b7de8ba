"""Retraining: upload with a validation report, options, a background run with live progress
and log, cancel, and the history of runs.

The run's state lives in the database, so a reload or a second tab shows the
same run; only the run's options (with a file path) cross into the background
job. The run panel (start, progress, cancel, runs) is ``dashapp/run_panel.py``.
The page's layout; what changes it is ``dashapp.callbacks.retraining``.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashapp import components as ui
from dashapp import run_panel
from forecasting.models import ALWAYS, MODELS
from pipeline.formatting import PAST_PLAN_NOTE, candidate_label

dash.register_page(__name__, path="/retraining", name="Retraining", order=4, title="Retraining")

REQUIREMENTS = [
    "One row per date (and per series): a date column, a sales column, optionally id columns "
    "(store, item, category) and drivers known in advance (price, promo, marketing spend).",
    "Daily, weekly or monthly dates; the format is detected. Comma or semicolon separated.",
    "Any history per series: a product with a few days of sales gets a level forecast with "
    "wide bands, one never sold a zero forecast; models are validated on the series with "
    "a season plus the horizon (e.g. 7 + 28 days for daily data) or more.",
]
COSTS = (
    "Training validates every chosen model on rolling-origin folds, fitting each once and "
    "moving it forward, so time grows with the series and the models chosen: on 2 cores the "
    "bundled 9-series sample takes about 30 s, 2,500 monthly parts about a minute, 2,660 "
    "weekly departments about three. With every model ticked, Prophet and SARIMA are tried "
    "on a sample of series first and fitted on the rest only where they win; tuning trials "
    "multiply the cost. The bar shows the time left. One run at a time."
)


MODE_NOTE = (
    "Replace data: the file is the whole history. Add new actuals: the file holds the "
    "periods since (same columns); they go on top of the stored data as a new version, a "
    "stored period with a new value is a revision (the new value wins), and the Overview "
    "then shows how the last forecast did against them."
)

MODELS_NOTE = (
    "With every model ticked (the default), the expensive ones ("
    + ", ".join(m for m in MODELS if MODELS[m].expensive)
    + ") are first tried on a sample of series and fitted on the rest only where they beat "
    "the others there. Untick any to choose yourself: then every ticked model is fitted on "
    "every series. " + PAST_PLAN_NOTE
)


def layout(**_):
    # the baseline, naive and the intermittent-demand models compete for every series
    model_options = [
        {"label": candidate_label(m), "value": m, "disabled": m in ALWAYS} for m in MODELS
    ]
    return html.Div(
        [
            html.H2("Retraining"),
            html.Div(ui.access_panel(), id="retraining-access"),
            dbc.Card(
                dbc.CardBody(
                    [
                        html.H5("What the data must look like"),
                        html.Ul([html.Li(r) for r in REQUIREMENTS]),
                        html.H5("What training costs"),
                        html.P(COSTS, className="mb-0"),
                    ]
                ),
                className="mb-3",
            ),
            dbc.Checkbox(
                id="retraining-confirm",
                label="I understand that a successful run replaces the model that serves "
                "forecasts (a failed or cancelled run changes nothing).",
                value=False,
                className="mb-2",
            ),
            dbc.RadioItems(
                id="retraining-mode",
                options=[
                    {"label": "Replace data", "value": "replace"},
                    {"label": "Add new actuals", "value": "append"},
                ],
                value="replace",
                inline=True,
                className="mb-1",
            ),
            html.Div(MODE_NOTE, className="small text-muted mb-2"),
            dcc.Upload(
                id="retraining-upload",
                children=html.Div(["Drop a sales CSV here or ", html.A("choose a file")]),
                disabled=True,
                className="upload-zone mb-2",
                max_size=-1,
            ),
            html.Div(id="retraining-report"),
            dcc.Store(id="retraining-pending"),
            html.H5("Options", className="mt-3"),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            dbc.Label("Models"),
                            dbc.Checklist(
                                id="retraining-models",
                                options=model_options,
                                value=list(MODELS),
                                inline=True,
                            ),
                            html.Div(MODELS_NOTE, className="small text-muted"),
                        ],
                        md=6,
                    ),
                    dbc.Col(
                        [
                            dbc.Label("Drivers known in advance"),
                            dbc.Checklist(id="retraining-exog", options=[], value=[], inline=True),
                            html.Div(
                                "Upload a file to see its numeric columns.",
                                id="retraining-exog-note",
                                className="small text-muted",
                            ),
                            html.Div(id="retraining-exog-ticked", className="small"),
                        ],
                        md=6,
                    ),
                    dbc.Col(
                        [
                            dbc.Label("Optuna trials per model", html_for="retraining-trials"),
                            dbc.Input(
                                id="retraining-trials", type="number", min=0, max=200, value=0
                            ),
                        ],
                        md=3,
                    ),
                    dbc.Col(
                        [
                            dbc.Label("Horizon (blank: usual)", html_for="retraining-horizon"),
                            dbc.Input(id="retraining-horizon", type="number", min=1),
                        ],
                        md=3,
                    ),
                ]
            ),
            run_panel.controls(),
            run_panel.progress_and_history(),
        ]
    )
