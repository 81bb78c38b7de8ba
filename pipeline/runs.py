"""The front door for runs: check, submit, cancel, status, follow and read the log.

The command line, the JSON API, the dashboard pages and ``python -m dashapp``'s
first-start sample all come through here; nothing else creates or launches a
run. A run is persisted first (one active at a time, enforced by the
database), then executed by ``python -m pipeline execute ID`` in a fresh
interpreter under a supervisor (``pipeline/supervision.py``): the command line
supervises its own runs in the foreground; anything else gets a detached
supervisor that belongs to no web worker or, with ``REDIS_URL`` set, is queued
for a Celery run worker that supervises it (``pipeline/workers.py``).

What the door promises:

- a cancel lands: at the run's next check (about a second), or after
  ``GRACE_SECONDS`` its processes are stopped and it reads ``cancelled``;
- a run whose heartbeat (progress reports and cancellation checks) has not
  advanced for ``RUN_STALL_SECONDS`` (default 120 s: longer than one model fit
  between two checks on thousands of series, short enough that a hung run is
  named within a couple of minutes) reads as stalled, and can be cancelled;
- a run whose processes died is marked failed by its supervisor at once, or,
  if the supervisor died too, by the recovery at the next start
  (``open_system``), submission or cancel, or by another run worker's sweep
  (within ``RUN_STALL_SECONDS`` when it ran on another host). Reading a run never
  writes anything.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from forecasting.data.reading_options import NO_CALENDAR
from forecasting.errors import DataError
from pipeline import supervision, uploads, workers
from pipeline.options import RunOptions
from pipeline.processes import ROOT, child_env, stop_group
from pipeline.runlog import read_log as _read_log
from pipeline.system import System
from pipeline.uploads import Upload
from pipeline.workers import QueueUnavailable
from storage import run_reads, run_rows
from storage.database import Database
from storage.datasets import dataset_info, latest_dataset_id
from storage.run_rows import Owner, RunConflict
from storage.settings import Settings

__all__ = ["GRACE_SECONDS", "QueueUnavailable", "RunConflict"]

GRACE_SECONDS = supervision.GRACE_SECONDS
ACTIVE = ("queued", "running")
NO_DATA = (
    "No data set is stored yet: upload a CSV first (Retraining page, POST /api/upload, "
    "or python -m pipeline ingest --csv FILE)."
)


class UnknownDataset(DataError):
    """A run asked for a data set version that is not stored; the API's 422 names it."""

    field = "dataset_id"


def connect(settings: Settings) -> System:
    """The system without migrating or recovering: for a process that only follows runs."""
    return System(settings, Database(settings.resolved_database_url()))


def prepare(system: System, opts: RunOptions) -> RunOptions:
    """Check what the run needs before anything is stored; a stored data set is named.

    A run that does not ingest trains the most recent data set version (the latest
    upload) unless the request names one.
    """
    if "ingest" in opts.steps:
        if not opts.csv or not _is_file(opts.csv):
            raise DataError(f"The file {opts.source_name or opts.csv} does not exist.")
        opts = resolve_append(system, opts)
        opts, _ = keep_calendar(opts, None if opts.append else latest_version(system))
        if opts.append and opts.kind == "ingest" and system.settings.retrain_after_append:
            opts = replace(opts, kind="run")  # RETRAIN_AFTER_APPEND: the append trains too
        return opts
    dataset_id = opts.dataset_id or latest_dataset_id(system.db)
    if dataset_id is None:
        raise DataError(NO_DATA)
    if dataset_info(system.db, dataset_id) is None:
        raise UnknownDataset(f"Data set version {dataset_id} does not exist.")
    return replace(opts, dataset_id=dataset_id)


def resolve_append(system: System, opts: RunOptions) -> RunOptions:
    """An append names the version it goes on: the latest, unless one was named."""
    if not opts.append:
        return opts
    base = opts.append_to or latest_dataset_id(system.db)
    if base is None:
        raise DataError(
            "There is no data set to add new actuals to: upload the whole file first "
            "(Replace data, or python -m pipeline ingest --csv FILE without --append)."
        )
    if dataset_info(system.db, base) is None:
        raise DataError(f"Data set version {base} does not exist.")
    return replace(opts, append_to=base)


def latest_version(system: System) -> dict | None:
    """The latest stored data set version's description, or None when none is stored."""
    latest = latest_dataset_id(system.db)
    return dataset_info(system.db, latest) if latest else None


def keep_calendar(opts: RunOptions, stored: dict | None) -> tuple[RunOptions, int | None]:
    """A whole file read without a calendar reads with ``stored``'s (the latest version),
    and the version it came from (None: nothing stored, or a calendar was asked for).
    Next month's export keeps the holidays the planner chose: a stranger's Bavarian
    calendar went back to the deployment's default with every Replace data. An append
    reads with the calendar of the version it extends anyway."""
    if opts.append or opts.reading.country is not None or stored is None:
        return opts, None
    country = stored.get("country") or NO_CALENDAR
    return replace(opts, reading=replace(opts.reading, country=country)), stored["id"]


def accept_upload(
    system: System, raw: bytes, name: str, reading: RunOptions, free: bool = False
) -> tuple[Upload, RunOptions]:
    """The upload sequence every caller shares (the API, the Retraining page): an append
    names the version it goes on, the file is judged (a wrong file says so whatever else
    is going on: ``DataError``, nothing kept), with ``free`` the one-run rule is checked
    (``RunConflict``, before anything is kept), then the file is kept for the run that
    stores it. Returns the kept upload and the reading it was judged with."""
    reading = resolve_append(system, reading)
    stored = None if reading.append else latest_version(system)  # what a whole file replaces
    reading, calendar_from = keep_calendar(reading, stored)
    checked = uploads.judge(system.settings, raw, reading, system.db)
    busy = active(system) if free else None
    if busy is not None:
        raise RunConflict(busy["id"])
    workers.check_reachable(system.settings)  # the run that stores it could not be queued
    upload = uploads.keep(system.settings, raw, name, reading, checked, calendar_from)
    dropped = uploads.dropped_history(stored, upload.report)
    if dropped:
        upload.report["replaces"] = {"dataset_id": stored["id"], "note": dropped}
    return upload, reading


def submit(system: System, opts: RunOptions) -> dict:
    """Persist the run and start it in the background; ``RunConflict`` while one is active,
    ``QueueUnavailable`` (nothing stored) when runs go to workers and Redis is away."""
    opts = prepare(system, opts)
    workers.check_reachable(system.settings)
    run_id = _create(system, opts)
    if system.settings.redis_url:
        _queue(system.settings, system.db, run_id)
    else:
        _launch_detached(system.settings, system.db, run_id)
    return status(system, run_id)


def ingest(system: System, upload: Upload, reading: RunOptions, wait: float = 0.0) -> dict:
    """Store an accepted upload as a new data set version: an ingest run (ingest, EDA) with
    its log. With ``wait``, follow it up to that many seconds; returns the run."""
    opts = replace(reading, kind="ingest", csv=str(upload.path), source_name=upload.name)
    run = submit(system, opts)
    return follow(system, run["id"], poll=0.2, timeout=wait) if wait else run


def run_here(
    system: System, opts: RunOptions, on_update: Callable[[dict], None] | None = None
) -> dict:
    """Persist the run, execute it in a child process and supervise it until it ends.

    Ctrl-C asks the run to cancel (it lands within the grace period); a second
    Ctrl-C stops it at once. If this process is killed, the run's process dies with it.
    """
    opts = prepare(system, opts)
    run_id = _create(system, opts)
    supervisor = supervision.start(system.db, system.settings, run_id)
    while True:
        try:
            return supervisor.watch(on_update)
        except KeyboardInterrupt:
            if run_rows.cancel_requested(system.db, run_id):
                supervisor.grace = 0.0
            run_rows.request_cancel(system.db, run_id)


def cancel(system: System, run_id: int) -> dict:
    """Ask a queued or running run to stop; ``KeyError`` when there is no such run.

    A run whose processes are already gone (its supervisor died too), or that still
    waits for a run worker, ends here.
    """
    if run_reads.get_run(system.db, run_id) is None:
        raise KeyError(run_id)
    if run_rows.request_cancel(system.db, run_id) in ACTIVE:
        owner = run_rows.owner_of(system.db, run_id)
        if owner is None or owner.is_queue or owner.is_alive() is False:
            stop_group(owner)
            run_rows.finish(
                system.db,
                run_id,
                "cancelled",
                error="Cancelled on request; its process had already ended.",
            )
    return status(system, run_id)


def status(system: System, run_id: int) -> dict | None:
    """The run as stored, plus whether it looks stalled; ``None`` when there is no such run."""
    run = run_reads.get_run(system.db, run_id)
    if run is None:
        return None
    run["production"] = run["id"] == run_reads.production_run_id(system.db)
    return _with_liveness(run, system.settings.run_stall_seconds)


def list_runs(system: System, limit: int = 50) -> list[dict]:
    stall = system.settings.run_stall_seconds
    return [_with_liveness(r, stall) for r in run_reads.list_runs(system.db, limit)]


def active(system: System) -> dict | None:
    """The queued or running run, if any."""
    run_id = run_rows.active_run_id(system.db)
    return status(system, run_id) if run_id is not None else None


def production_run_id(system: System) -> int | None:
    return run_reads.production_run_id(system.db)


def read_log(system: System, run_id: int, offset: int = 0) -> tuple[str, int]:
    """Whole log lines from byte ``offset`` on, and the offset to ask for next."""
    return _read_log(system.settings.logs_dir, run_id, offset)


def log_text(system: System, run_id: int) -> str:
    text, _ = _read_log(system.settings.logs_dir, run_id, 0, limit=1 << 30)
    return text


def follow(
    system: System,
    run_id: int,
    on_update: Callable[[dict], None] | None = None,
    poll: float = 0.5,
    timeout: float | None = None,
) -> dict:
    """Read the run every ``poll`` seconds until it ends (or ``timeout``); returns it."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        run = status(system, run_id)
        if run is None:
            raise KeyError(run_id)
        if on_update is not None:
            on_update(run)
        if run["status"] not in ACTIVE or (deadline is not None and time.monotonic() > deadline):
            return run
        time.sleep(poll)


def is_active(run: dict) -> bool:
    return run["status"] in ACTIVE


def _create(system: System, opts: RunOptions) -> int:
    return run_rows.create_run(
        system.db, opts.kind, opts.to_dict(), opts.dataset_id, system.settings.stall_window
    )


def _launch_detached(settings: Settings, db: Database, run_id: int) -> None:
    """Start the run's supervisor outside this process tree; a failed start fails the run."""
    try:
        launched = subprocess.run(
            [sys.executable, "-m", "pipeline.supervision", str(run_id)],
            cwd=ROOT,
            env=child_env(settings),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
        problem = launched.stderr.strip()[-500:] if launched.returncode else None
    except (OSError, subprocess.TimeoutExpired) as exc:
        problem = str(exc)
    if problem:
        run_rows.finish(db, run_id, "failed", error=f"The run could not be started: {problem}")


def _queue(settings: Settings, db: Database, run_id: int) -> None:
    """Hand the run to the run workers (``REDIS_URL``); a failed hand-over fails the run."""
    run_rows.hand_over(db, run_id, Owner.queue())
    try:
        workers.enqueue(settings, run_id)
    except Exception as exc:  # kombu's and redis' errors: Redis went away since the check
        run_rows.finish(
            db, run_id, "failed", error=f"The run could not be queued for a worker: {exc}"
        )


def _with_liveness(run: dict, stall_seconds: float) -> dict:
    quiet = None
    if run["status"] in ACTIVE and run["heartbeat_at"]:
        beat = datetime.fromisoformat(run["heartbeat_at"])
        quiet = max(0.0, (datetime.now(UTC) - beat).total_seconds())
    return {
        **run,
        "quiet_seconds": None if quiet is None else round(quiet),
        "stalled": quiet is not None and quiet > stall_seconds,
    }


def _is_file(path: str) -> bool:
    return Path(path).is_file()
