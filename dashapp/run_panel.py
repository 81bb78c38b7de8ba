"""The Retraining page's run panel: start, follow, cancel, and the history of runs.

Layout pieces and what each callback does; the page wires them (Dash executes a
page module once per app, so callbacks declared there exist in every app).

Pressing Start is judged in the web request (signed in? options valid? data to
train on?); a refusal is a message on the page. An accepted start goes to a
Dash background job (diskcache) that submits the run through the front door
(``pipeline/runs.py``) and follows it until it ends, keeping Start disabled
meanwhile. The job never trains: the run executes in its own fresh interpreter,
so a web worker that already ran XGBoost or OpenMP cannot hang it. Cancel stops
following and asks the run to stop; it lands within the grace period.

The bar is drawn by one poll, every second, from the database, in every tab,
whoever started the run. It used to be drawn from the background job's progress
channel while a job followed: that channel is keyed by a hash of the job's
inputs, so two tabs that sent the same start (same options, same click count)
shared one, and diskcache hands each progress value to whichever tab asks first
and deletes it; a tab could show 29% for minutes while the runs table, read
from the database, showed 70%. Every start request now carries a token of its
own as well. Bar, bar label, status line and the runs table come from one
reading of the run (``run_view``), so they cannot disagree.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

import dash
import dash_bootstrap_components as dbc
from dash import dash_table, dcc, html

from dashapp.auth import is_admin
from dashapp.state import app_state, background_settings
from forecasting.data.reading_options import ReadingOptions
from forecasting.errors import DataError
from forecasting.models import MODELS
from pipeline import runs
from pipeline.formatting import behind_baseline, duration, time_left, unplanned_drivers
from pipeline.options import RunOptions
from pipeline.workers import QueueUnavailable, check_reachable
from storage.run_rows import RunConflict

COLORS = {"succeeded": "success", "failed": "danger", "cancelled": "secondary"}
SIGN_IN_TO_START = "Sign in to start training: enter the admin token above."
CONFIRM_FIRST = (
    "Tick 'I understand ...' above first: a successful run replaces the model that serves "
    "forecasts."
)
SIGN_IN_TO_CANCEL = "Sign in to cancel runs: enter the admin token above."
#: the progress bar and status line, in the order ``run_view`` fills them
BAR = (
    ("retraining-progress", "value"),
    ("retraining-progress", "label"),
    ("retraining-progress", "color"),
    ("retraining-progress", "animated"),
    ("retraining-status", "children"),
    ("retraining-log-run", "children"),
)


@dataclass(frozen=True)
class RunView:
    """What the page shows of one run, all from one reading of it."""

    percent: int
    label: str
    color: str
    animated: bool
    status: str
    run_id: str

    @property
    def bar(self) -> tuple:
        return self.percent, self.label, self.color, self.animated, self.status, self.run_id


def run_view(run: dict) -> RunView:
    """Active: its progress; ended: a full bar in the outcome's colour, and the outcome."""
    if runs.is_active(run):
        percent = round(run["progress"] * 100)
        where = f"step {run['step']}, {percent}%" if run["step"] else f"{percent}%"
        if run["cancel_requested"]:
            status = (
                f"Run {run['id']}: cancelling ({where}); it stops at its next check, or "
                f"within {runs.GRACE_SECONDS:.0f} s."
            )
            color = "secondary"
        elif run["stalled"]:
            status = (
                f"Run {run['id']}: stalled, no progress for {run['quiet_seconds'] // 60} min "
                f"({where}). It may be stuck: Cancel stops it."
            )
            color = "warning"
        else:
            status = f"Run {run['id']}: {run['status']}, {where}"
            left = time_left(run.get("eta_seconds"))
            status += f", {left}" if left else ""
            status += f" ({run['message']})" if run["message"] else ""
            color = "primary"
        return RunView(percent, f"{percent}%", color, True, status, str(run["id"]))
    return RunView(
        100, run["status"], COLORS[run["status"]], False, ended_text(run), str(run["id"])
    )


def ended_text(run: dict) -> str:
    """When an ended run ended and what it took; its outcome is the alert below the bar
    (the status line used to repeat it word for word)."""
    text = f"Run {run['id']} ended"
    if run.get("finished_at"):
        text += f" at {datetime.fromisoformat(run['finished_at']):%H:%M:%S} UTC"
        took = _took(run)
        text += f", {took} after it started" if took else ""
    return text + "."


def outcome_text(run: dict) -> str:
    text = f"Run {run['id']} {run['status']}."
    if run["error"]:
        text += f" {run['error']}"
    elif run["status"] == "succeeded" and run["kind"] in ("run", "train"):
        if run["production"]:
            text += f" Now serving {run['selected_model']}."
        elif not (run.get("metrics") or {}).get("validated", True):
            text += (
                " It validated no model (no series is long enough for the horizon), so the "
                "run that served before keeps serving; its log says what a file needs."
            )
        else:  # promoted away since, or a run that did not beat the one serving
            text += f" It trained {run['selected_model']}; another run serves (Models page)."
        for said in (_behind_baseline(run), unplanned_drivers(run.get("metrics"))):
            text += f" {said}" if said else ""
    elif run["status"] == "succeeded" and run["kind"] == "ingest" and run["dataset_id"]:
        text += f" Stored as data set version {run['dataset_id']}."
    return text


def outcome_alert(run: dict) -> dbc.Alert:
    color = "warning" if _behind_baseline(run) else COLORS[run["status"]]
    return dbc.Alert(outcome_text(run), color=color, id="retraining-outcome")


def _behind_baseline(run: dict) -> str | None:
    """The held-out warning of a succeeded training run whose forecast did worse than
    seasonal naive (a stranger's run replaced the serving model and this line was
    silent; the Overview said it)."""
    if run["status"] != "succeeded" or run["kind"] not in ("run", "train"):
        return None
    metrics = run.get("metrics") or {}
    return behind_baseline(metrics, metrics.get("baseline"))


def controls() -> html.Div:
    """Start and Cancel, where refusals and submissions say what happened."""
    return html.Div(
        [
            html.Div(
                [
                    dbc.Button(
                        "Start training", id="retraining-start", color="primary", className="me-2"
                    ),
                    dbc.Button("Cancel run", id="retraining-cancel", color="danger", outline=True),
                    dbc.Checkbox(
                        id="retraining-train-too",
                        label="Train on an uploaded file (untick to only store it, e.g. new "
                        "actuals to score the last forecast on)",
                        value=True,
                        className="mt-2",
                    ),
                ],
                className="my-3",
            ),
            html.Div(id="retraining-message"),
            html.Div(id="retraining-submit-message"),
            html.Div(id="retraining-cancel-message"),
            dcc.Store(id="retraining-start-request"),
            dcc.Store(id="retraining-start-busy", data=False),
        ]
    )


def progress_and_history() -> html.Div:
    """The bar, status line, outcome and live log of the current run; the runs table."""
    return html.Div(
        [
            dbc.Progress(
                id="retraining-progress",
                value=0,
                label="",
                striped=True,
                animated=False,
                style={"height": "1.5rem"},
                className="mb-2",
            ),
            html.Div(id="retraining-status", className="small mb-2"),
            html.Div(id="retraining-outcome-area"),
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


#: how long "Starting the run" shows at most: it goes once the bar follows the run
STARTING_NOTICE_MS = 12_000


def _notice(text: str, id_: str, color: str = "warning") -> dbc.Alert:
    return dbc.Alert(text, color=color, id=id_)


def whole(value: float | str | None, name: str) -> int | None:
    """A whole number from a form field, or None when blank; 2.5 is refused, not cut to 2."""
    if value in (None, ""):
        return None
    if float(value) != int(float(value)):
        raise DataError(f"The {name} must be a whole number, got {value}.")
    return int(float(value))


def start_options(
    pending: dict | None,
    models: list[str] | None,
    trials: float | None,
    horizon: float | None,
    exog: list[str] | None,
    train_too: bool = True,
) -> RunOptions:
    """What the form asks for; ``DataError`` saying what to change. An uploaded file is
    stored and trained on, or with ``train_too`` off only stored."""
    blocked = start_blocked(pending)
    if blocked:
        raise DataError(blocked)
    pending = pending if pending and pending.get("path") else None
    kind = ("run" if train_too else "ingest") if pending else "train"
    reading = ReadingOptions()  # training a stored version reads no file
    if pending:  # the columns the upload was read with, the drivers ticked
        reading = replace(ReadingOptions.from_dict(pending.get("reading") or {}), exog=exog or ())
    return RunOptions(
        kind=kind,
        csv=pending["path"] if pending else None,
        source_name=pending["name"] if pending else None,
        append=bool(pending and pending.get("append_to")),
        append_to=pending.get("append_to") if pending else None,
        reading=reading,
        # every model ticked is the default set (the expensive ones screened on a sample)
        models=None if not models or set(models) >= set(MODELS) else list(models),
        trials=whole(trials, "number of trials") or 0,
        horizon=whole(horizon, "horizon"),
    )


def start_blocked(pending: dict | None) -> str | None:
    """Why Start must wait on what the upload left, or None."""
    if pending and pending.get("refused"):
        return (
            "The last file was not accepted, so nothing would be trained on it: upload a "
            "file that is accepted, or reload the page to train the stored data."
        )
    if pending and pending.get("needs_target"):
        return "Choose the sales column (above) and read the file again first."
    return None


def ask_to_start(
    clicks: int,
    confirmed: bool | None,
    pending: dict | None,
    models: list[str] | None,
    trials: float | None,
    horizon: float | None,
    exog: list[str] | None,
    train_too: bool | None = True,
) -> tuple:
    """Judge the start here, where the session is known; the background job submits."""
    if not is_admin():
        return _notice(SIGN_IN_TO_START, "retraining-sign-in-needed"), dash.no_update
    if not confirmed:
        return _notice(CONFIRM_FIRST, "retraining-refused"), dash.no_update
    system = app_state().system
    try:
        asked = start_options(pending, models, trials, horizon, exog, train_too is not False)
        opts = runs.prepare(system, asked)
        check_reachable(system.settings)
    except (DataError, QueueUnavailable) as exc:
        return _notice(str(exc), "retraining-refused"), dash.no_update
    current = runs.active(system)
    if current is not None:
        text = f"Run {current['id']} is already in progress; wait for it or cancel it."
        return _notice(text, "retraining-refused"), dash.no_update
    starting = dbc.Alert(  # gone once the bar has taken over, so it never outlives the run
        "Starting the run: the bar below follows it in a few seconds.",
        color="info",
        id="retraining-starting",
        duration=STARTING_NOTICE_MS,
    )
    return starting, start_request(opts, clicks)


def start_request(opts: RunOptions, clicks: int) -> dict:
    """What the background job gets: with a token of its own, since a job's cache key is a
    hash of its inputs and two tabs' identical starts must not share one."""
    return {"options": opts.to_dict(), "clicks": clicks, "token": uuid.uuid4().hex}


def submit_and_follow(request: dict | None) -> dbc.Alert | None:
    """The background job: submit through the front door, then read the run until it ends."""
    if not request:
        return None
    system = runs.connect(background_settings())
    try:
        run = runs.submit(system, RunOptions.from_dict(request["options"]))
        runs.follow(system, run["id"], poll=1.0)
    except (RunConflict, DataError, QueueUnavailable) as exc:
        return _notice(str(exc), "retraining-refused")
    finally:
        system.db.dispose()
    return None


def cancel() -> dbc.Alert:
    if not is_admin():
        return _notice(SIGN_IN_TO_CANCEL, "retraining-sign-in-needed")
    system = app_state().system
    current = runs.active(system)
    if current is None:
        return dbc.Alert("No run is in progress.", color="info")
    runs.cancel(system, current["id"])
    return dbc.Alert(
        f"Cancellation of run {current['id']} requested; it stops at its next check, or "
        f"within {runs.GRACE_SECONDS:.0f} s.",
        color="secondary",
        id="retraining-cancel-requested",
        duration=STARTING_NOTICE_MS,  # the run's outcome below says when it has stopped
    )


def poll(shown: str | None) -> tuple:
    """Every tab reads the same state from the database: the active or the latest run."""
    listing = runs.list_runs(app_state().system, 20)
    rows = [_row(r) for r in listing]
    columns = [{"name": c, "id": c} for c in (rows[0] if rows else {})]  # none: no header
    if not listing:
        empty = (0, "", "primary", False, "No runs yet.", dash.no_update)
        return *empty, None, rows, columns, None
    run = next((r for r in listing if runs.is_active(r)), listing[0])
    view = run_view(run)
    new_log = view.run_id if view.run_id != (shown or "") else dash.no_update
    bar = (*view.bar[:-1], new_log)
    outcome = None if runs.is_active(run) else outcome_alert(run)
    link = html.A(
        f"Download the log of run {run['id']}",
        href=f"/api/runs/{run['id']}/log.txt",
        id="retraining-log-link",
    )
    return *bar, outcome, rows, columns, link


def _row(r: dict) -> dict:
    status = "stalled" if r["stalled"] else r["status"]
    return {
        "run": r["id"],
        "kind": r["kind"],
        "status": status + (" (serving)" if r["production"] else ""),
        "step": r["step"] or "",
        "progress": f"{r['progress']:.0%}",
        "time left": time_left(r.get("eta_seconds")),
        "submitted": _utc(r["created_at"]),
        "took": _took(r),
        "model": r["selected_model"] or "",
        "MASE": f"{r['metrics']['mase']:.3f}" if (r["metrics"] or {}).get("mase") else "",
        "error": (r["error"] or "")[:160],
    }


def _utc(stamp: str | None) -> str:
    """``2026-12-06 09:10:23 UTC``: the status line's clock, not ISO's."""
    return f"{datetime.fromisoformat(stamp):%Y-%m-%d %H:%M:%S} UTC" if stamp else ""


def _took(run: dict) -> str:
    """From its start to its end, as the status line counts it; empty while it runs."""
    started, finished = run.get("started_at"), run.get("finished_at")
    if not (started and finished):
        return ""
    took = datetime.fromisoformat(finished) - datetime.fromisoformat(started)
    return duration(took.total_seconds())
