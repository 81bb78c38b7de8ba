"""What a run that ended unfinished leaves behind, removed in one place.

A run can end unfinished four ways: it fails or is cancelled in its own process, its
supervisor stops it, its process dies under the supervisor, or it dies with its
supervisor and a later sweep finds it (``storage.run_rows.recover_abandoned``). Each
way must leave the data and the serving model as they were: no model files, and not
the data set version its ingest stored (a stranger's killed run kept one, and the
Overview took it for new actuals).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable

from pipeline.processes import stop_group
from pipeline.runlog import append_line
from storage import run_reads, run_rows
from storage.artifacts import ArtifactStore
from storage.database import Database
from storage.run_rows import Owner
from storage.settings import Settings


def clear_unfinished(db: Database, settings: Settings, run_id: int) -> int | None:
    """Remove an unfinished run's model files and the data set version it stored; returns
    that version's id, or None when it stored none."""
    shutil.rmtree(ArtifactStore(settings.models_dir).path(run_id), ignore_errors=True)
    run = run_reads.get_run(db, run_id)
    if not run or run.get("dataset_id") is None:
        return None
    # pandas, plotly and forecasting's imports only where a version is kept: every
    # entry point's start-up sweeps (``pipeline.system.open_system``)
    from pipeline.eda_report import report_dir
    from pipeline.options import STEPS
    from storage.datasets import delete_dataset

    if "ingest" not in STEPS[run["kind"]]:
        return None  # a training run on a stored version: the version is not its own
    stored = run["dataset_id"]
    run_rows.update_run(db, run_id, dataset_id=None)
    delete_dataset(db, stored)

    # its EDA report too: a database may give the next version the same id
    shutil.rmtree(report_dir(settings.reports_dir, stored), ignore_errors=True)
    return stored


def dropped_version_line(stored: int) -> str:
    return (
        f"data set version {stored}, which this run stored, is removed: the stored data are "
        "as before the run; start it again to store the file"
    )


def clear_abandoned(db: Database, settings: Settings, run_id: int) -> None:
    """``clear_unfinished`` for a run whose process died, said in the run's own log."""
    stored = clear_unfinished(db, settings, run_id)
    if stored is not None:
        append_line(settings.logs_dir, run_id, dropped_version_line(stored))


def on_abandoned(db: Database, settings: Settings) -> Callable[[int, Owner | None], None]:
    """What a sweep does for each run whose process died (``recover_abandoned``): stop what
    is left of its process group, then ``clear_abandoned``."""

    def clear(run_id: int, owner: Owner | None) -> None:
        stop_group(owner)
        clear_abandoned(db, settings, run_id)

    return clear
