"""Retraining: upload with a validation report, options, a background run with live progress
and log, cancel, and the history of runs.

The run's state lives in the database, so a reload or a second tab shows the
same run; only the run id and a file path cross into the background job.
"""

from __future__ import annotations

import base64

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dash_table, dcc, html

from dashapp.auth import admin_token, is_admin, sign_in, sign_out
from dashapp.state import app_state, background_settings
from forecasting.errors import DataError
from forecasting.models import BASELINE, MODELS
from pipeline.options import RunOptions
from storage import runs
from storage.datasets import latest_dataset_id

dash.register_page(__name__, path="/retraining", name="Retraining", order=4, title="Retraining")

REQUIREMENTS = [
    "One row per date (and per series): a date column, a sales column, optionally id columns "
    "(store, item, category) and drivers known in advance (price, promo, marketing spend).",
    "Daily, weekly or monthly dates; the format is detected. Comma or semicolon separated.",
    "At least two seasons of history per series plus the forecast horizon (e.g. 2 weeks + 28 "
    "days for daily data); shorter series are named and left out.",
]
COSTS = (
    "Training tunes and validates every chosen model, so time grows with series, models and "
    "trials: on 2 cores the bundled 9-series sample takes about 35 s with every model and no "
    "tuning trials, 54 daily series about 2 minutes, 2,660 weekly series about half an hour. "
    "Prophet and SARIMA fit each series separately and cost most. One run at a time."
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


def layout(**_):
    model_options = [{"label": m, "value": m, "disabled": m == BASELINE} for m in MODELS]
    return html.Div(
        [
            html.H2("Retraining"),
            html.Div(access_panel(), id="retraining-access"),
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
                        ],
                        md=6,
                    ),
                    dbc.Col(
                        [
                            dbc.Label("Drivers known in advance (use as inputs)"),
                            dbc.Checklist(id="retraining-exog", options=[], value=[], inline=True),
                            html.Div(
                                "Upload a file to see its numeric columns.",
                                id="retraining-exog-note",
                                className="small text-muted",
                            ),
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
            html.Div(
                [
                    dbc.Button(
                        "Start training", id="retraining-start", color="primary", className="me-2"
                    ),
                    dbc.Button("Cancel run", id="retraining-cancel", color="danger", outline=True),
                ],
                className="my-3",
            ),
            html.Div(id="retraining-message"),
            dbc.Progress(
                id="retraining-progress",
                value=0,
                label="",
                striped=True,
                animated=True,
                style={"height": "1.5rem"},
                className="mb-2",
            ),
            html.Div(id="retraining-status", className="small mb-2"),
            html.Div(id="retraining-log-run", className="d-none"),
            html.Pre(id="retraining-log", className="run-log"),
            html.Div(id="retraining-download"),
            html.H5("Runs", className="mt-4"),
            dash_table.DataTable(
                id="retraining-runs",
                page_size=10,
                style_table={"overflowX": "auto"},
                style_cell={"fontFamily": "inherit", "fontSize": 14, "whiteSpace": "normal"},
            ),
            dcc.Interval(id="retraining-poll", interval=1000),
        ]
    )


@callback(
    Output("retraining-access", "children"),
    Input("retraining-sign-in", "n_clicks"),
    State("retraining-token", "value"),
    prevent_initial_call=True,
)
def do_sign_in(clicks, token):
    if not clicks:  # the button was just drawn, not pressed
        return dash.no_update
    if sign_in(token or ""):
        return access_panel()
    failed = dbc.Alert(
        "That is not the admin token.", color="danger", id="retraining-sign-in-failed"
    )
    return [access_panel(), failed]


@callback(
    Output("retraining-access", "children", allow_duplicate=True),
    Input("retraining-sign-out", "n_clicks"),
    prevent_initial_call=True,
)
def do_sign_out(clicks):
    if not clicks:  # drawn with the signed-in panel, not pressed
        return dash.no_update
    sign_out()
    return access_panel()


@callback(Output("retraining-upload", "disabled"), Input("retraining-confirm", "value"))
def allow_upload(confirmed):
    return not confirmed


@callback(
    Output("retraining-exog", "options"),
    Output("retraining-exog-note", "children"),
    Input("retraining-pending", "data"),
)
def driver_choices(pending):
    if not pending or not pending.get("drivers"):
        return [], "No numeric driver columns in the upload." if pending else ""
    return (
        [{"label": d, "value": d} for d in pending["drivers"]],
        "Tick only values you will know for the future (a plan), not outcomes.",
    )


@callback(
    Output("retraining-report", "children"),
    Output("retraining-pending", "data"),
    Input("retraining-upload", "contents"),
    State("retraining-upload", "filename"),
    prevent_initial_call=True,
)
def validate_upload(contents, filename):
    from dashapp.uploads import check_size, save_pending
    from pipeline.steps.ingest import validate_csv

    state = app_state()
    try:
        raw = base64.b64decode(contents.split(",", 1)[1])
        check_size(state, raw)
        data = validate_csv(raw, state.settings, RunOptions(kind="eda"))
    except DataError as exc:
        return dbc.Alert(
            [
                html.B("This file was not accepted: "),
                str(exc),
                html.Div("Nothing was stored.", className="small"),
            ],
            color="danger",
            id="retraining-rejected",
        ), None
    except (ValueError, IndexError):
        return dbc.Alert("The upload could not be read as a file.", color="danger"), None
    path = save_pending(state, raw)
    drivers = list(data.loaded.mapping.drivers)
    return _report_card(data, filename), {"path": path, "name": filename, "drivers": drivers}


def _report_card(data, filename: str) -> dbc.Card:
    report = data.validation_report()
    mapping = report["detected"]["mapping"]
    r = report["cleaning"]
    items = [
        f"Date column: {mapping['date']}; sales column: {mapping['target']}; series ids: "
        f"{', '.join(mapping['ids']) or 'none (one series)'}.",
        f"Possible drivers: {', '.join(mapping['drivers']) or 'none'}; attributes: "
        f"{', '.join(mapping['attributes']) or 'none'}.",
        f"{r['series']} series, {r['rows_out']:,} rows, {r['freq_name']}, {r['start']} to "
        f"{r['end']}.",
        f"Cleaning: {r['exact_duplicates_dropped']} duplicate rows dropped, "
        f"{r['duplicate_periods_summed']} same-period rows summed, {r['gaps_filled']} gaps "
        f"filled ({r['gap_policy']}), {r['leading_zeros_trimmed']} leading zeros trimmed, "
        f"{r['outliers_flagged']} outliers flagged.",
    ]
    items += [note[0].upper() + note[1:].rstrip(".") + "." for note in data.notes()[1:]]
    if r["dropped_series"]:
        items.append(
            f"Left out ({len(r['dropped_series'])}): "
            + "; ".join(f"{k}: {v}" for k, v in list(r["dropped_series"].items())[:5])
        )
    return dbc.Card(
        dbc.CardBody(
            [
                html.H5(f"Validation report: {filename}"),
                html.Ul([html.Li(i) for i in items]),
                html.P("Nothing is stored until you start training.", className="small mb-0"),
            ]
        ),
        color="success",
        outline=True,
        id="retraining-accepted",
    )


@callback(
    Output("retraining-message", "children"),
    Input("retraining-start", "n_clicks"),
    State("retraining-pending", "data"),
    State("retraining-models", "value"),
    State("retraining-trials", "value"),
    State("retraining-horizon", "value"),
    State("retraining-exog", "value"),
    background=True,
    progress=[
        Output("retraining-progress", "value"),
        Output("retraining-progress", "label"),
        Output("retraining-log-run", "children"),
    ],
    running=[(Output("retraining-start", "disabled"), True, False)],
    prevent_initial_call=True,
)
def start_training(set_progress, _clicks, pending, models, trials, horizon, exog):
    """The background job: create the run row, then execute the pipeline here."""
    from pipeline.runner import execute, start_run
    from pipeline.system import open_system
    from storage.runs import RunConflict

    system = open_system(background_settings())
    try:
        opts = RunOptions(
            kind="run" if pending else "train",
            csv=pending["path"] if pending else None,
            source_name=pending["name"] if pending else None,
            models=list(models or MODELS),
            trials=int(trials or 0),
            horizon=int(horizon) if horizon else None,
            exog=list(exog or []) if pending else [],
        )
        if not pending and latest_dataset_id(system.db) is None:
            raise DataError("Upload a CSV first: there is no stored data to train on.")
        run_id = start_run(system, opts)
    except (DataError, RunConflict) as exc:
        return dbc.Alert(str(exc), color="warning")
    set_progress((0, "queued", str(run_id)))

    def on_progress(value: float, message: str) -> None:
        set_progress((round(value * 100), f"{value:.0%} {message[:40]}", str(run_id)))

    result = execute(system, run_id, on_progress)
    system.db.dispose()
    color = {"succeeded": "success", "cancelled": "secondary"}.get(result["status"], "danger")
    text = f"Run {run_id} {result['status']}."
    if result["error"]:
        text += f" {result['error']}"
    elif result["selected_model"]:
        text += f" Now serving {result['selected_model']}."
    return dbc.Alert(text, color=color, id="retraining-outcome")


@callback(
    Output("retraining-status", "children"),
    Output("retraining-runs", "data"),
    Output("retraining-runs", "columns"),
    Output("retraining-log-run", "children", allow_duplicate=True),
    Output("retraining-download", "children"),
    Output("retraining-progress", "value", allow_duplicate=True),
    Input("retraining-poll", "n_intervals"),
    State("retraining-log-run", "children"),
    prevent_initial_call="initial_duplicate",
)
def poll(_n, shown):
    """Every tab reads the same state from the database: the active or latest run."""
    db = app_state().system.db
    runs.recover_abandoned(db)  # a run whose process was killed shows as failed, with why
    listing = runs.list_runs(db, 20)
    rows = [
        {
            "run": r["id"],
            "kind": r["kind"],
            "status": r["status"] + (" (serving)" if r["production"] else ""),
            "step": r["step"] or "",
            "progress": f"{r['progress']:.0%}",
            "started": r["created_at"],
            "model": r["selected_model"] or "",
            "MASE": f"{r['metrics']['mase']:.3f}" if (r["metrics"] or {}).get("mase") else "",
            "error": (r["error"] or "")[:160],
        }
        for r in listing
    ]
    columns = [{"name": c, "id": c} for c in (rows[0] if rows else {"run": 0})]
    if not listing:
        return "No runs yet.", rows, columns, dash.no_update, None, dash.no_update
    active = next((r for r in listing if r["status"] in ("queued", "running")), None)
    run = active or listing[0]
    status = f"Run {run['id']}: {run['status']}"
    if run["step"]:
        status += f", step {run['step']}"
    status += f", {run['progress']:.0%}"
    if run["message"] and active:
        status += f" ({run['message']})"
    link = html.A(
        f"Download the log of run {run['id']}",
        href=f"/api/runs/{run['id']}/log.txt",
        id="retraining-log-link",
    )
    progress = round(run["progress"] * 100) if active else dash.no_update
    log_run = str(run["id"]) if str(run["id"]) != (shown or "") else dash.no_update
    return status, rows, columns, log_run, link, progress


@callback(
    Output("retraining-message", "children", allow_duplicate=True),
    Input("retraining-cancel", "n_clicks"),
    prevent_initial_call=True,
)
def cancel(_clicks):
    db = app_state().system.db
    run_id = runs.active_run_id(db)
    if run_id is None:
        return dbc.Alert("No run is in progress.", color="info")
    runs.request_cancel(db, run_id)
    return dbc.Alert(
        f"Cancellation of run {run_id} requested; it stops at its next check.",
        color="secondary",
        id="retraining-cancel-requested",
    )
