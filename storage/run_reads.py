"""Reading runs: one, the newest, the serving one, and the shape every caller gets (a
dict with the time left); the lifecycle that writes them is ``storage.run_rows``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from storage.database import MAX_ID, Database
from storage.run_rows import as_utc
from storage.tables import ACTIVE_STATUSES, Production, Run, utcnow


def get_run(db: Database, run_id: int) -> dict | None:
    if not 0 < run_id <= MAX_ID:
        return None
    with db.session() as s:
        run = s.get(Run, run_id)
        if run is None:
            return None
        production = s.scalar(select(Production.run_id).where(Production.id == 1))
        return run_dict(run, production)


def list_runs(db: Database, limit: int = 50) -> list[dict]:
    with db.session() as s:
        production = s.scalar(select(Production.run_id).where(Production.id == 1))
        runs = s.scalars(select(Run).order_by(Run.id.desc()).limit(limit)).all()
        return [run_dict(r, production) for r in runs]


def production_run_id(db: Database) -> int | None:
    with db.session() as s:
        return s.scalar(select(Production.run_id).where(Production.id == 1))


def run_dict(run: Run, production: int | None = None) -> dict:
    def stamp(moment: datetime | None) -> str | None:
        moment = as_utc(moment)
        return moment.isoformat(timespec="seconds") if moment else None

    return {
        "id": run.id,
        "kind": run.kind,
        "status": run.status,
        "step": run.step,
        "progress": run.progress,
        "message": run.message,
        "dataset_id": run.dataset_id,
        "options": run.options,
        "created_at": stamp(run.created_at),
        "started_at": stamp(run.started_at),
        "finished_at": stamp(run.finished_at),
        "error": run.error,
        "selected_model": run.selected_model,
        "metrics": run.metrics,
        "step_seconds": run.step_seconds,
        "mlflow_run_id": run.mlflow_run_id,
        "cancel_requested": run.cancel_requested,
        "heartbeat_at": stamp(run.heartbeat_at or run.created_at),
        "eta_seconds": seconds_left(run),
        "production": production is not None and production == run.id,
        #: a succeeded training run whose model files retention removed
        "pruned": bool(run.status == "succeeded" and run.selected_model and not run.artifact_path),
    }


def past_retention(db: Database, keep: int, kept: tuple[int, ...] = ()) -> list[dict]:
    """Training runs that still hold a model but fall outside the ``keep`` newest ones;
    the serving run and the ``kept`` ids are never among them."""
    with db.session() as s:
        serving = s.scalar(select(Production.run_id).where(Production.id == 1))
        holders = s.scalars(
            select(Run).where(Run.artifact_path.is_not(None)).order_by(Run.id.desc())
        ).all()
        old = holders[max(keep, 0) :]
        return [run_dict(r, serving) for r in old if r.id != serving and r.id not in kept]


def seconds_left(run: Run) -> int | None:
    """Whole seconds until an active run expects to end (None when it has no estimate).

    Never 0 while work remains: a run inside one long computation writes no progress, so
    its last estimate runs out (it read 0 s at 68% for half a minute, issue 28); then the
    pace since it started says how much longer, at least a second."""
    end = as_utc(run.expected_end)
    if end is None or run.status not in ACTIVE_STATUSES:
        return None
    now = utcnow()
    left = (end - now).total_seconds()
    started, done = as_utc(run.started_at), run.progress or 0.0
    if left < 1 and started is not None and 0 < done < 1:
        left = (now - started).total_seconds() * (1 - done) / done
    return max(1, round(left))
