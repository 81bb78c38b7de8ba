"""Run rows: create (one active at a time), claim, progress, cancel, finish, recover.

The single-active-run rule lives in the database (``runs.active`` is unique),
so two processes or two gunicorn workers cannot both start training. Every
change of status is conditional on the status it expects, so the process
executing a run and the one supervising it can both try to end it and only
the first succeeds (a run stopped as cancelled is never promoted afterwards).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psutil
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from storage.database import Database
from storage.tables import ACTIVE_STATUSES, Production, Run, utcnow

#: a run owned by another host is presumed dead when its heartbeat is this old
STALE_AFTER = timedelta(minutes=10)
#: the owner's host while a run waits for a run worker
QUEUE_HOST = "queue"
TERMINAL = ("succeeded", "failed", "cancelled")


class RunConflict(Exception):
    """A run is already queued or running; only one may be at a time."""

    def __init__(self, running_id: int | None):
        self.running_id = running_id
        super().__init__(
            f"Run {running_id} is already in progress; only one run at a time. "
            f"Wait for it to finish or cancel it (python -m pipeline cancel {running_id})."
        )


@dataclass(frozen=True)
class Owner:
    """The process that answers for a run: host, pid and the pid's start time (pids get
    reused). Its submitter until its supervisor, then its executing process, take it over."""

    host: str
    pid: int
    started: float

    @classmethod
    def queue(cls) -> Owner:
        """No process yet: the run waits in the run workers' queue (``REDIS_URL``)."""
        return cls(QUEUE_HOST, 0, time.time())

    @property
    def is_queue(self) -> bool:
        return self.host == QUEUE_HOST

    @classmethod
    def current(cls) -> Owner:
        pid = os.getpid()
        return cls(socket.gethostname(), pid, psutil.Process(pid).create_time())

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}:{self.started:.2f}"

    @classmethod
    def parse(cls, text: str | None) -> Owner | None:
        try:
            host, pid, started = (text or "").rsplit(":", 2)
            return cls(host, int(pid), float(started))
        except ValueError:
            return None

    def is_alive(self) -> bool | None:
        """True/False for a process on this host; None when it runs elsewhere (or waits in
        the queue)."""
        if self.host != socket.gethostname():
            return None
        try:
            process = psutil.Process(self.pid)
            if process.status() == psutil.STATUS_ZOMBIE:
                return False
            return abs(process.create_time() - self.started) < 1.0
        except psutil.NoSuchProcess:
            return False


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored here is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def create_run(
    db: Database,
    kind: str,
    options: dict,
    dataset_id: int | None = None,
    stale_after: timedelta = STALE_AFTER,
) -> int:
    """Persist a queued run owned by this process, or raise ``RunConflict``.

    A conflict with a run whose process died (``recover_abandoned``, with ``stale_after``)
    is resolved (marked failed) and retried once.
    """
    try:
        return _insert_run(db, kind, options, dataset_id)
    except IntegrityError:
        if not recover_abandoned(db, stale_after=stale_after):
            raise RunConflict(active_run_id(db)) from None
    try:
        return _insert_run(db, kind, options, dataset_id)
    except IntegrityError:
        raise RunConflict(active_run_id(db)) from None


def _insert_run(db: Database, kind: str, options: dict, dataset_id: int | None) -> int:
    with db.session() as s:
        run = Run(
            kind=kind,
            status="queued",
            active=True,
            options=options,
            dataset_id=dataset_id,
            owner=str(Owner.current()),
            progress=0.0,
        )
        s.add(run)
        s.flush()
        return run.id


def active_run_id(db: Database) -> int | None:
    with db.session() as s:
        return s.scalar(select(Run.id).where(Run.active.is_(True)))


def claim(db: Database, run_id: int) -> bool:
    """The executing process takes a queued run over; False when it is no longer queued."""
    now = utcnow()
    with db.session() as s:
        taken = s.execute(
            update(Run)
            .where(Run.id == run_id, Run.status == "queued")
            .values(
                status="running",
                owner=str(Owner.current()),
                started_at=now,
                heartbeat_at=now,
            )
        )
        return taken.rowcount == 1


def hand_over(db: Database, run_id: int, owner: Owner) -> bool:
    """Name the process that now answers for a queued run (its supervisor, then executor)."""
    with db.session() as s:
        moved = s.execute(
            update(Run).where(Run.id == run_id, Run.status == "queued").values(owner=str(owner))
        )
        return moved.rowcount == 1


def owner_of(db: Database, run_id: int) -> Owner | None:
    with db.session() as s:
        return Owner.parse(s.scalar(select(Run.owner).where(Run.id == run_id)))


def report(
    db: Database,
    run_id: int,
    progress: float,
    message: str,
    step: str | None = None,
    expected_end: datetime | None = None,
) -> None:
    values = {
        "progress": round(progress, 4),
        "message": message[:500],
        "heartbeat_at": utcnow(),
        "expected_end": expected_end,
    }
    if step is not None:
        values["step"] = step
    with db.session() as s:
        s.execute(update(Run).where(Run.id == run_id).values(**values))


def update_run(db: Database, run_id: int, **values) -> None:
    with db.session() as s:
        s.execute(update(Run).where(Run.id == run_id).values(**values))


def finish(
    db: Database,
    run_id: int,
    status: str,
    *,
    error: str | None = None,
    promote: bool = False,
    **values,
) -> bool:
    """End an active run; with ``promote`` the production switch commits in the same
    transaction. False (and nothing changed) when the run had already ended."""
    if status not in TERMINAL:
        raise ValueError(f"{status!r} is not a final status")
    if promote and status != "succeeded":
        raise ValueError("Only a succeeded run may serve.")
    with db.session() as s:
        ended = s.execute(
            update(Run)
            .where(Run.id == run_id, Run.status.in_(ACTIVE_STATUSES))
            .values(
                status=status,
                active=None,
                finished_at=utcnow(),
                error=error,
                **({"progress": 1.0} if status == "succeeded" else {}),
                **values,
            )
        )
        if ended.rowcount != 1:
            return False
        if promote:
            current = s.get(Production, 1)
            if current is None:
                s.add(Production(id=1, run_id=run_id))
            else:
                current.previous_run_id = current.run_id
                current.run_id = run_id
                current.promoted_at = utcnow()
        return True


class NotPromotable(Exception):
    """A run that cannot serve: it did not succeed, trained nothing, or was pruned."""


def promote(
    db: Database, run_id: int, before_commit: Callable[[], None] | None = None
) -> int | None:
    """Make an earlier succeeded run serve again; returns the run it replaced.

    ``before_commit`` runs inside the transaction (the MLflow alias moves there): if it
    raises, nothing changes. Only a succeeded run that trained and still has its model
    may serve; anything else raises ``NotPromotable`` saying why (KeyError: no such run).
    """
    with db.session() as s:
        run = s.get(Run, run_id)
        if run is None:
            raise KeyError(run_id)
        if run.status != "succeeded":
            raise NotPromotable(f"Run {run_id} is {run.status}; only a succeeded run can serve.")
        if not run.selected_model:
            raise NotPromotable(
                f"Run {run_id} ({run.kind}) trained no model; promote a training run."
            )
        if not run.artifact_path:
            raise NotPromotable(
                f"Run {run_id} was pruned (KEEP_RUNS): its model files are gone; promote a "
                "run that still has its model, or train again."
            )
        current = s.get(Production, 1)
        previous = current.run_id if current is not None else None
        if previous == run_id:
            return previous
        if current is None:
            s.add(Production(id=1, run_id=run_id))
        else:
            current.previous_run_id = current.run_id
            current.run_id = run_id
            current.promoted_at = utcnow()
        s.flush()
        if before_commit is not None:
            before_commit()
        return previous


def request_cancel(db: Database, run_id: int) -> str:
    """Set the cancellation flag; returns the run's status (raises KeyError if unknown)."""
    with db.session() as s:
        run = s.get(Run, run_id)
        if run is None:
            raise KeyError(run_id)
        if run.status in ACTIVE_STATUSES:
            run.cancel_requested = True
        return run.status


def cancel_requested(db: Database, run_id: int) -> bool:
    with db.session() as s:
        return bool(s.scalar(select(Run.cancel_requested).where(Run.id == run_id)))


def heartbeat(db: Database, run_id: int) -> bool:
    """The executing run is alive and reached a check; returns whether it should stop."""
    with db.session() as s:
        s.execute(update(Run).where(Run.id == run_id).values(heartbeat_at=utcnow()))
        return bool(s.scalar(select(Run.cancel_requested).where(Run.id == run_id)))


def abandoned_error(owner: Owner | None, step: str | None, how: str = "killed or crashed") -> str:
    if owner is not None and owner.is_queue:
        return (
            "No run worker took this run from the queue: start one with the same REDIS_URL "
            "and DATA_DIR (python -m pipeline worker). The previous production model keeps "
            "serving; start a new run."
        )
    where = f"pid {owner.pid} on {owner.host}" if owner else "an unknown process"
    return (
        f"The process running this run ({where}) ended without finishing it "
        f"({how}) during step {step or 'start'}. "
        "The previous production model keeps serving; start a new run."
    )


def recover_abandoned(
    db: Database,
    on_abandoned: Callable[[int, Owner | None], None] | None = None,
    stale_after: timedelta = STALE_AFTER,
) -> list[int]:
    """Mark runs whose process died (kill -9, crash, reboot) as failed; returns their ids.

    A process on this host is looked up; one on another host (a run worker) is taken
    for dead once the run's heartbeat is older than ``stale_after``.
    ``on_abandoned(run_id, owner)`` is called for each, e.g. to stop helpers left behind.
    """
    recovered = []
    dead_owners = []
    now = utcnow()
    with db.session() as s:
        for run in s.scalars(select(Run).where(Run.status.in_(ACTIVE_STATUSES))):
            owner = Owner.parse(run.owner)
            alive = owner.is_alive() if owner else False
            if alive is None:
                beat = as_utc(run.heartbeat_at or run.created_at)
                alive = now - beat < stale_after
            if alive:
                continue
            run.status = "failed"
            run.active = None
            run.finished_at = now
            run.error = abandoned_error(owner, run.step)
            recovered.append(run.id)
            dead_owners.append(owner)
    if on_abandoned is not None:
        for run_id, owner in zip(recovered, dead_owners, strict=True):
            on_abandoned(run_id, owner)
    return recovered


def mark_pruned(db: Database, run_id: int) -> None:
    """The run's model files are gone: it reads as pruned and can no longer serve."""
    with db.session() as s:
        s.execute(update(Run).where(Run.id == run_id).values(artifact_path=None))
