"""The retraining page's callbacks (its layout: ``dashapp.pages.retraining``)."""

from __future__ import annotations

import base64

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, html

from dashapp import run_panel
from dashapp.auth import is_admin, sign_in, sign_out
from dashapp.callbacks.registry import callback
from dashapp.components import access_panel
from dashapp.state import app_state
from dashapp.upload_views import report_card
from forecasting.data.reading_options import NO_CALENDAR, ReadingOptions
from forecasting.errors import DataError
from pipeline import runs
from pipeline.options import RunOptions
from storage.datasets import dataset_info, latest_dataset_id

#: what the pending store says after a file was refused: Start waits for a file that is not
REFUSED = {"refused": True}


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


@callback(
    Output("retraining-upload", "disabled"),
    Output("retraining-message", "children", allow_duplicate=True),
    Input("retraining-confirm", "value"),
    prevent_initial_call="initial_duplicate",
)
def allow_upload(confirmed):
    """Uploads wait for the tick; ticking it clears what a refused start said (a stranger
    saw "Tick 'I understand' first" stay on screen through the run that followed)."""
    return not confirmed, None if confirmed else dash.no_update


@callback(
    Output("retraining-start", "disabled"),
    Output("retraining-start", "title"),
    Input("retraining-pending", "data"),
    Input("retraining-start-busy", "data"),
)
def start_waits(pending, busy):
    """Start is disabled while a start is being handed over, while the last upload was
    refused, or while its sales column is a guess the planner has not confirmed (the run
    would train what they did not ask for). One callback decides from both: the handover's
    end re-enabled Start over a refused file when the two set it apart."""
    why = run_panel.start_blocked(pending)
    return bool(busy) or bool(why), why or ""


@callback(
    Output("retraining-start", "children"),
    Input("retraining-train-too", "value"),
    Input("retraining-pending", "data"),
)
def start_label(train_too, pending):
    """The button says what it will do: store a waiting file, train on it, or train on
    the latest stored data set version (a stranger's second run started on stored data
    without the page saying which)."""
    if pending and pending.get("refused"):
        return "Start training"
    if pending:
        return "Start training on the uploaded file" if train_too else "Store the file"
    latest = latest_dataset_id(app_state().system.db)
    return f"Start training on data set version {latest}" if latest else "Start training"


@callback(
    Output("retraining-exog", "options"),
    Output("retraining-exog-note", "children"),
    Input("retraining-pending", "data"),
)
def driver_choices(pending):
    if not pending:
        return [], _stored_drivers()
    if pending.get("append_to"):  # new actuals are read as the stored version was
        return [], _stored_drivers(extending=pending["append_to"])
    if not pending.get("drivers"):
        return [], "No numeric driver columns in the upload."
    return (
        [
            {
                "label": f"{d} (looks like an outcome of the sales: leave it unticked)"
                if d in pending.get("outcomes", {})
                else d,
                "value": d,
            }
            for d in pending["drivers"]
        ],
        "Tick the columns whose future values you will know (prices and promotions you "
        "set): exactly those are used. With none ticked, only columns the file gives "
        "values for past the last sale (a plan) are tried, each kept where validation says "
        "it helps beyond noise. A column you will not know ahead (a cost, a count of the "
        "same sales) is an outcome: leave it unticked.",
    )


@callback(
    Output("retraining-exog-ticked", "children"),
    Input("retraining-exog", "value"),
    State("retraining-pending", "data"),
)
def ticked_drivers(ticked, pending):
    """What the ticks do to the report's driver line: the report describes the file as
    read, so "not tried" stays there after a tick (a stranger thought the tick ignored)."""
    if not ticked or not pending:
        return ""
    text = (
        f"Ticked, so given to every model that reads drivers, whatever the report above "
        f"says of the file alone: {', '.join(ticked)}. Validation then picks what serves "
        "each series, with or without them."
    )
    outcomes = [d for d in ticked if d in (pending.get("outcomes") or {})]
    if outcomes:
        text += (
            f" {', '.join(outcomes)} looks like an outcome of the sales: a model that reads "
            "it forecasts the sales from themselves."
        )
    return text


def _stored_drivers(extending: int | None = None) -> str:
    """With no upload waiting, the drivers Start trains the stored version with (a stranger
    found the tick boxes gone and could not tell whether the ones named still held); with
    new actuals waiting, that they are read with those drivers (a second stranger saw
    empty tick boxes under a report that said the drivers were named)."""
    db = app_state().system.db
    latest = extending or latest_dataset_id(db)
    info = dataset_info(db, latest) if latest else None
    if not info:
        return ""
    exog = list(info.get("exog") or [])
    if extending:
        return (
            f"New actuals are read with the drivers of data set version {latest}, which "
            f"they extend: {', '.join(exog) or 'none'}; a run uses them as it did."
        )
    if not exog:
        return f"Data set version {latest} was stored without drivers; upload a file to name some."
    return (
        f"Start trains data set version {latest} with the drivers it was stored with: "
        f"{', '.join(exog)}. Upload a file to name others."
    )


@callback(
    Output("retraining-report", "children"),
    Output("retraining-pending", "data"),
    Input("retraining-upload", "contents"),
    State("retraining-upload", "filename"),
    State("retraining-mode", "value"),
    prevent_initial_call=True,
)
def validate_upload(contents, filename, mode):
    if not is_admin():
        return dbc.Alert(
            "Sign in to upload data: enter the admin token above.",
            color="warning",
            id="retraining-sign-in-needed",
        ), None
    try:
        raw = base64.b64decode(contents.split(",", 1)[1])
    except (ValueError, IndexError):
        return dbc.Alert("The upload could not be read as a file.", color="danger"), REFUSED
    reading = RunOptions(kind="eda", append=mode == "append")
    return _judged(raw, filename, reading)


@callback(
    Output("retraining-report", "children", allow_duplicate=True),
    Output("retraining-pending", "data", allow_duplicate=True),
    Input("retraining-reread", "n_clicks"),
    State("retraining-read-date", "value"),
    State("retraining-read-target", "value"),
    State("retraining-read-ids", "value"),
    State("retraining-read-gaps", "value"),
    State("retraining-read-country", "value"),
    State("retraining-pending", "data"),
    prevent_initial_call=True,
)
def read_again(clicks, date, target, ids, gaps, country, pending):
    """The same file read with the columns, the gap rule and the holidays the planner
    chose: nothing is stored yet."""
    if not clicks or not pending or not pending.get("path"):
        return dash.no_update, dash.no_update
    if not is_admin():
        return dash.no_update, dash.no_update
    try:
        chosen = ReadingOptions(
            date=date, target=target, ids=ids or (), gap_policy=gaps or "auto", country=country
        )
    except DataError as exc:  # a calendar the holidays package does not know
        return dbc.Alert(str(exc), color="danger", id="retraining-rejected"), dash.no_update
    reading = RunOptions(kind="eda", reading=chosen)
    with open(pending["path"], "rb") as handle:
        raw = handle.read()
    return _judged(raw, pending["name"], reading)


def _judged(raw: bytes, filename: str, reading: RunOptions):
    """An upload judged with a reading: the report card and what Start will use, or the
    refusal (and Start waits for a file that is accepted)."""
    try:
        system = app_state().system
        upload, reading = runs.accept_upload(system, raw, filename, reading)
    except (DataError, runs.QueueUnavailable) as exc:
        return dbc.Alert(
            [
                html.B("This file was not accepted: "),
                str(exc),
                html.Div(
                    "Nothing was stored, and Start waits for a file that is accepted.",
                    className="small",
                ),
            ],
            color="danger",
            id="retraining-rejected",
        ), REFUSED
    mapping = upload.report["detected"]["mapping"]
    pending = {
        "path": str(upload.path),
        "name": upload.name,
        "drivers": upload.drivers,
        "outcomes": upload.report.get("outcomes", {}),
        "append_to": reading.append_to,
        # what Start reads the file with: the columns as detected or chosen here
        "reading": {
            "date": mapping["date"],
            "target": mapping["target"],
            "ids": mapping["ids"],
            "gap_policy": upload.report["cleaning"]["gap_policy"],
            "country": upload.report.get("country") or NO_CALENDAR,
        },
        # the sales column was guessed among several: Start waits for the planner's word
        "needs_target": bool(mapping.get("target_candidates")) and reading.reading.target is None,
    }
    return report_card(upload.report, upload.notes, filename), pending


@callback(
    Output("retraining-message", "children"),
    Output("retraining-start-request", "data"),
    Input("retraining-start", "n_clicks"),
    State("retraining-confirm", "value"),
    State("retraining-pending", "data"),
    State("retraining-models", "value"),
    State("retraining-trials", "value"),
    State("retraining-horizon", "value"),
    State("retraining-exog", "value"),
    State("retraining-train-too", "value"),
    prevent_initial_call=True,
)
def ask_to_start(clicks, confirmed, pending, models, trials, horizon, exog, train_too):
    return run_panel.ask_to_start(
        clicks, confirmed, pending, models, trials, horizon, exog, train_too
    )


@callback(
    Output("retraining-submit-message", "children"),
    Input("retraining-start-request", "data"),
    background=True,
    running=[(Output("retraining-start-busy", "data"), True, False)],
    cancel=[Input("retraining-cancel", "n_clicks")],
    prevent_initial_call=True,
)
def submit_and_follow(request):
    return run_panel.submit_and_follow(request)


@callback(
    Output("retraining-starting", "is_open"),
    Input("retraining-log-run", "children"),
    prevent_initial_call=True,
)
def started(_run_shown):
    """The bar follows a new run: "Starting the run" has said its piece (it stayed its
    whole 12 s while the bar already moved)."""
    return False


@callback(
    Output("retraining-cancel-message", "children"),
    Input("retraining-cancel", "n_clicks"),
    prevent_initial_call=True,
)
def cancel(_clicks):
    return run_panel.cancel()


@callback(
    Output("retraining-cancel-message", "children", allow_duplicate=True),
    Input("retraining-progress", "animated"),
    State("retraining-cancel-message", "children"),
    prevent_initial_call=True,
)
def cancel_landed(active, notice):
    """ "Cancellation requested" goes once the run has stopped: the outcome below says how
    it ended (a stranger saw the request stay beside "cancelled" for seconds)."""
    requested = (notice or {}).get("props", {}).get("id") == "retraining-cancel-requested"
    return None if requested and not active else dash.no_update


@callback(
    *[Output(*target) for target in run_panel.BAR],
    Output("retraining-outcome-area", "children"),
    Output("retraining-runs", "data"),
    Output("retraining-runs", "columns"),
    Output("retraining-download", "children"),
    Input("retraining-poll", "n_intervals"),
    State("retraining-log-run", "children"),
)
def poll(_n, shown):
    return run_panel.poll(shown)
