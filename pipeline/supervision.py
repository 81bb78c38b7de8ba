"""Supervise one run's executing process: it ends, or it is ended, and its row says how.

Every run executes in ``python -m pipeline execute ID`` (a fresh interpreter
leading its own process group) with a supervisor as its parent: the command
line that started it, or, for runs started by the web app, a small detached
process, ``python -m pipeline.supervision ID``, that belongs to no web worker
(so neither a worker's restart nor Dash cancelling its background job touches
the run). The supervisor

- notices at once when the executing process dies (``kill -9``, a crash), stops
  whatever is left of its process group and marks the run failed;
- makes a cancel land: when the run has not stopped ``GRACE_SECONDS`` after
  the request (it is stuck, or in one long computation), its process group is
  stopped (SIGTERM, then SIGKILL) and the run is marked cancelled.

The executing process dies with its supervisor (a parent-death signal), so a
killed supervisor takes the run with it and the crash recovery at the next
start or submission marks it failed. Imports stay light: no numeric libraries.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import psutil

from pipeline.leftovers import clear_abandoned
from pipeline.processes import spawn_executor, stop_group
from pipeline.runlog import log_path, stderr_path
from storage import run_reads, run_rows
from storage.artifacts import ArtifactStore
from storage.database import Database
from storage.run_rows import Owner
from storage.settings import Settings, load_settings

#: seconds a cancel request waits for the run to stop at a check before its processes are
#: stopped: a check comes about every second, but one model fit can take several seconds
GRACE_SECONDS = 10.0
#: seconds between two looks at the run's process and row
POLL_SECONDS = 0.25
STDERR_LINES = 20


@dataclass
class Supervisor:
    db: Database
    settings: Settings
    run_id: int
    process: subprocess.Popen
    #: the executing process, as the run's row names it
    owner: Owner
    grace: float = GRACE_SECONDS
    #: set to a reason (e.g. "SIGTERM") to stop the run at once as failed
    stop_reason: str | None = None
    _stop_due: float | None = field(default=None, repr=False)

    def watch(self, on_update: Callable[[dict], None] | None = None) -> dict:
        """Until the run's processes are gone and its row is final; returns the row."""
        owner = self.owner
        while True:
            try:
                code = self.process.wait(timeout=POLL_SECONDS)
            except subprocess.TimeoutExpired:
                code = None
            run = run_reads.get_run(self.db, self.run_id)
            if on_update is not None and run is not None:
                on_update(run)
            if code is not None:
                self._drop_empty_stderr()
                return self._after_exit(owner, code)
            if self._stop_is_due(run):
                return self._stop(owner, run)

    def _stop_is_due(self, run: dict | None) -> bool:
        """Asked to stop (or already ended elsewhere) and still running after the grace."""
        asked = (
            self.stop_reason is not None
            or run is None
            or run["cancel_requested"]
            or run["status"] not in ("queued", "running")
        )
        if not asked:
            return False
        if self._stop_due is None:
            self._stop_due = time.monotonic() + (0 if self.stop_reason else self.grace)
        return time.monotonic() >= self._stop_due

    def _stop(self, owner: Owner, run: dict | None) -> dict:
        stop_group(owner)
        self.process.wait()
        run = run_reads.get_run(self.db, self.run_id)
        if run is None or run["status"] not in ("queued", "running"):
            return run  # it ended by itself meanwhile: keep what it left
        self._sweep()
        step = run["step"] or "start"
        if self.stop_reason:
            run_rows.finish(
                self.db,
                self.run_id,
                "failed",
                error=f"Stopped ({self.stop_reason}) during step {step}; start a new run.",
            )
        else:
            run_rows.finish(
                self.db,
                self.run_id,
                "cancelled",
                error=(
                    f"Cancelled on request during step {step}: it did not stop at a check "
                    f"within {self.grace:.0f} s, so its processes were stopped."
                ),
            )
        return run_reads.get_run(self.db, self.run_id)

    def _after_exit(self, owner: Owner, code: int) -> dict:
        """The executing process ended: stop its helpers; a run it left active failed."""
        stop_group(owner, term_seconds=1.0)
        run = run_reads.get_run(self.db, self.run_id)
        if run is not None and run["status"] in ("queued", "running"):
            self._sweep()
            how = (
                f"killed or crashed: {signal.Signals(-code).name}"
                if code < 0
                else f"killed or crashed: exit status {code}"
            )
            self._copy_stderr()
            run_rows.finish(
                self.db,
                self.run_id,
                "failed",
                error=run_rows.abandoned_error(owner, run["step"], how),
            )
            run = run_reads.get_run(self.db, self.run_id)
        return run

    def _sweep(self) -> None:
        """What a run that ended unfinished may have left: half-written model files, its
        model folder, the data set version it stored."""
        ArtifactStore(self.settings.models_dir).remove_partial()
        clear_abandoned(self.db, self.settings, self.run_id)

    def _drop_empty_stderr(self) -> None:
        path = stderr_path(self.settings.logs_dir, self.run_id)
        if path.is_file() and not path.stat().st_size:
            path.unlink(missing_ok=True)

    def _copy_stderr(self) -> None:
        """A crash's last words (a fatal error, a traceback) into the run's log."""
        source = stderr_path(self.settings.logs_dir, self.run_id)
        if not source.is_file() or not source.stat().st_size:
            return
        tail = source.read_text(encoding="utf-8", errors="replace").splitlines()[-STDERR_LINES:]
        with open(log_path(self.settings.logs_dir, self.run_id), "a", encoding="utf-8") as log:
            log.write("".join(f"stderr: {line}\n" for line in tail))


def start(db: Database, settings: Settings, run_id: int) -> Supervisor:
    """Spawn the run's executing process as a child of this one, and supervise it."""
    process = spawn_executor(run_id, settings, stderr_path(settings.logs_dir, run_id))
    owner = Owner(Owner.current().host, process.pid, psutil.Process(process.pid).create_time())
    run_rows.hand_over(db, run_id, owner)
    return Supervisor(db, settings, run_id, process, owner)


@contextlib.contextmanager
def _stop_on_signal(supervisor: Supervisor) -> Iterator[None]:
    """SIGTERM, SIGHUP or SIGINT stops the run as failed; afterwards the signal goes on to
    whoever handled it before (a Celery worker's warm shutdown), so it is not swallowed."""
    received: list[int] = []

    def handler(signum: int, _frame) -> None:
        supervisor.stop_reason = f"the supervisor received {signal.Signals(signum).name}"
        received.append(signum)

    signums = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
    before = {signum: signal.signal(signum, handler) for signum in signums}
    try:
        yield
    finally:
        for signum, previous in before.items():
            signal.signal(signum, previous)
        if received:
            os.kill(os.getpid(), received[0])


def supervise(settings: Settings, run_id: int) -> None:
    """Take the run over, execute it in a child and supervise it until it ends.

    The body of the detached supervisor below and of a Celery worker's task
    (``pipeline/workers.py``): either way this process answers for the run.
    """
    db = Database(settings.resolved_database_url())
    try:
        run_rows.hand_over(db, run_id, Owner.current())
        try:
            supervisor = start(db, settings, run_id)
        except OSError as exc:
            run_rows.finish(db, run_id, "failed", error=f"The run could not be started: {exc}")
            return
        with _stop_on_signal(supervisor):
            supervisor.watch()
    finally:
        db.dispose()


def detached(run_id: int) -> None:
    """``python -m pipeline.supervision ID``: report the supervisor's pid and leave.

    The launcher forks before anything else runs (no threads, no numeric
    libraries yet) and exits, so the supervisor is nobody's child in the web app.
    """
    pid = os.fork()
    if pid:
        print(pid, flush=True)
        os._exit(0)
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    supervise(load_settings(), run_id)


if __name__ == "__main__":
    detached(int(sys.argv[1]))
