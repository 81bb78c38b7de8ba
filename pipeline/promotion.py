"""Roll back: make an earlier succeeded run serve again, with its MLflow alias.

The database switch and the alias move are one step: the alias moves inside the
transaction, so a failed move changes nothing, and a switch that fails to commit
after the move puts the alias back. Every reader picks the change up at its next
request (``pipeline.serving.production``).
"""

from __future__ import annotations

import logging

from pipeline import registry
from pipeline.runlog import append_line
from pipeline.runs import status
from pipeline.system import System
from storage import run_reads, run_rows
from storage.datasets import dataset_info, latest_dataset_id, sales_column
from storage.run_rows import NotPromotable

__all__ = ["NotPromotable", "promote"]

log = logging.getLogger(__name__)


def promote(system: System, run_id: int) -> dict:
    """Serve ``run_id``; returns the run. ``KeyError``: no such run; ``NotPromotable``:
    it failed, was cancelled, trained nothing, or its model files are gone."""
    run = run_reads.get_run(system.db, run_id)
    if run is None:
        raise KeyError(run_id)
    trained = run["status"] == "succeeded" and run["selected_model"] and not run["pruned"]
    if trained and not system.artifacts.path(run_id).is_dir():
        raise NotPromotable(
            f"Run {run_id}'s model files are gone from {system.artifacts.path(run_id)}; "
            "promote another run or train again."
        )
    settings = system.settings
    version = registry.version_of(settings, run["mlflow_run_id"]) if run["mlflow_run_id"] else None
    before = registry.production_version(settings) if version else None

    def move_alias() -> None:
        if version is not None:
            registry.move_alias(settings, version)

    try:
        previous = run_rows.promote(system.db, run_id, move_alias)
    except NotPromotable:
        raise
    except Exception:
        if version is not None and before is not None and before != version:
            registry.move_alias(settings, before)  # the switch did not commit
        raise
    said = f"run {run_id} serves again (promoted by hand; run {previous} served before)"
    if version:
        said += f"; MLflow {registry.REGISTERED_MODEL} version {version} is @production"
    said += _other_sales(system, run)
    append_line(system.settings.logs_dir, run_id, said)
    log.info("%s", said)
    return status(system, run_id)


def _other_sales(system: System, run: dict) -> str:
    """A warning when the run forecast another column than the newest version's sales
    (a stranger served a revenue run over unit actuals without a word)."""
    latest = latest_dataset_id(system.db)
    if not latest or not run.get("dataset_id") or run["dataset_id"] == latest:
        return ""
    was = sales_column(dataset_info(system.db, run["dataset_id"]))
    now = sales_column(dataset_info(system.db, latest))
    if not was or not now or was == now:
        return ""
    return (
        f"; note: it forecasts {was!r}, while the newest data set version ({latest}) reads "
        f"{now!r} as the sales"
    )
