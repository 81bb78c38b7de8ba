"""Retention: the model files, MLflow runs and stored forecasts of old runs go.

The newest ``KEEP_RUNS`` training runs (default 10) keep everything; so do the
serving run and the runs named in ``KEEP_RUN_IDS``, whatever their age. A pruned
run keeps its row, its scores and its log, so the history of runs still reads
whole; it can no longer serve (promotion says why), and its realised accuracy is
gone with its stored forecast.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field

from pipeline import registry
from pipeline.runlog import append_line
from pipeline.system import System
from storage import run_reads, run_rows
from storage.results import delete_forecasts


@dataclass
class Pruned:
    """What a prune removed: run ids, forecast rows, MLflow runs."""

    runs: list[int] = field(default_factory=list)
    forecast_rows: int = 0
    mlflow_runs: int = 0
    kept: int = 0

    def describe(self) -> str:
        if not self.runs:
            return (
                f"nothing to prune: only the {self.kept} newest training runs, the serving run "
                "and KEEP_RUN_IDS hold a model"
            )
        return (
            f"pruned {len(self.runs)} runs ({', '.join(map(str, self.runs))}): their model "
            f"files, {self.forecast_rows:,} stored forecast rows and {self.mlflow_runs} MLflow "
            "runs; the serving run and the newest runs kept"
        )


def prune(system: System, keep: int | None = None) -> Pruned:
    """Remove what the retention setting no longer keeps; returns what went."""
    settings = system.settings
    keep = settings.keep_runs if keep is None else keep
    if keep < 1:
        raise ValueError(f"KEEP_RUNS must be at least 1, got {keep}.")
    old = run_reads.past_retention(system.db, keep, settings.keep_run_ids)
    result = Pruned(kept=keep)
    tracked = [r["mlflow_run_id"] for r in old if r["mlflow_run_id"]]
    if tracked:
        result.mlflow_runs = registry.forget(settings, tracked)
    for run in old:
        run_rows.mark_pruned(system.db, run["id"])  # first: it can no longer be promoted
        shutil.rmtree(system.artifacts.path(run["id"]), ignore_errors=True)
        result.forecast_rows += delete_forecasts(system.db, run["id"])
        append_line(
            settings.logs_dir,
            run["id"],
            "pruned: model files, stored forecast and MLflow run removed by retention (KEEP_RUNS)",
        )
        result.runs.append(run["id"])
    return result
