"""Execute a persisted run: its steps in order, then one final status.

Called only in the run's own process (``python -m pipeline execute ID``, which
the front door in ``pipeline/runs.py`` spawns). Only a succeeded run is
promoted; the switch commits with the run's final status in one transaction,
and only if nobody (its supervisor, after a cancel's grace period) ended it first.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from forecasting.data.frequency import default_horizon, frequency_from_alias
from forecasting.errors import DataError
from forecasting.evaluation.costs import Shape
from forecasting.progress import Cancelled
from pipeline.context import RunContext
from pipeline.leftovers import clear_unfinished, dropped_version_line
from pipeline.options import RunOptions
from pipeline.pacing import step_seconds
from pipeline.runlog import run_logging
from pipeline.steps.eda import eda
from pipeline.steps.forecast import forecast
from pipeline.steps.ingest import ingest
from pipeline.steps.train import train, train_options
from pipeline.system import System
from pipeline.tracking import PRODUCTION_ALIAS, REGISTERED_MODEL, Tracker
from storage import run_reads, run_rows
from storage.database import Database
from storage.datasets import dataset_info, drivers_named, latest_dataset_id

log = logging.getLogger(__name__)
#: a failed run's reason is shown on the pages and in the API: at most this long
LONGEST_REASON = 400


class Stopped(BaseException):
    """The process was told to stop (SIGTERM): end the run now, wherever it is.

    A ``BaseException``, so no ``except Exception`` in library code swallows it.
    """


def execute(
    system: System, run_id: int, on_progress: Callable[[float, str], None] | None = None
) -> dict:
    """Run every step of a queued run; never raises for a data error, a failure or a cancel.

    A run that is no longer queued (cancelled before it started) is left as it is.
    """
    db, settings = system.db, system.settings
    row = run_reads.get_run(db, run_id)
    if row is None:
        raise KeyError(run_id)
    opts = RunOptions.from_dict(row["options"])
    if not run_rows.claim(db, run_id):
        return run_reads.get_run(db, run_id)
    with run_logging(settings.logs_dir, run_id) as run_log:
        ctx = RunContext(db, settings, run_id, run_log, on_progress)
        run_log.info("run %d (%s) started: steps %s", run_id, opts.kind, " -> ".join(opts.steps))
        try:
            version = _steps(ctx, opts)
        except Cancelled:
            _end(ctx, "cancelled", f"Cancelled on request during step {ctx.current_step}.")
        except DataError as exc:
            _end(ctx, "failed", str(exc))
        except KeyboardInterrupt:
            _end(ctx, "cancelled", "Interrupted (Ctrl-C).")
            raise
        except Stopped:
            if run_rows.cancel_requested(db, run_id):
                _end(ctx, "cancelled", f"Cancelled on request during step {ctx.current_step}.")
            else:
                _end(ctx, "failed", f"Stopped (SIGTERM) during step {ctx.current_step}.")
            raise
        except Exception as exc:
            run_log.exception("run %d failed", run_id)
            _end(ctx, "failed", failure_reason(exc, ctx.current_step))
        else:
            trained = "train" in opts.steps
            kept = _kept_serving(db, run_id) if trained else None
            promote = trained and kept is None
            if run_rows.finish(
                db, run_id, "succeeded", promote=promote, step_seconds=ctx.step_seconds
            ):
                run_log.info(
                    "run %d succeeded%s", run_id, "; it now serves forecasts" if promote else ""
                )
                if kept is not None:
                    run_log.warning(
                        "run %d does not serve: it validated no model (no series is long "
                        "enough for the horizon), and run %d, which did, keeps serving. "
                        "Promote it (Models page, POST /api/runs/%d/promote) to serve it anyway",
                        run_id, kept, run_id,
                    )  # fmt: skip
                if version is not None and promote:
                    _set_alias(version, run_log)
            else:
                shutil.rmtree(ctx.artifacts.path(run_id), ignore_errors=True)
                run_log.warning("run %d had already been ended; its result is not kept", run_id)
    return run_reads.get_run(db, run_id)


def _kept_serving(db: Database, run_id: int) -> int | None:
    """The serving run that keeps serving although ``run_id`` trained: a run that
    validated no model (a four-week file stored by Replace data, served its series'
    levels) does not replace one that did (a stranger's did, and its MASE of the levels
    on 27 held-out days read better than the real model's)."""
    serving = run_reads.production_run_id(db)
    if serving is None:
        return None
    metrics = (run_reads.get_run(db, run_id) or {}).get("metrics") or {}
    if metrics.get("validated", True):
        return None
    before = (run_reads.get_run(db, serving) or {}).get("metrics") or {}
    return serving if before.get("validated", True) else None


def _steps(ctx: RunContext, opts: RunOptions) -> str | None:
    """Execute the steps in order; returns the registered MLflow model version, if any."""
    tracker = Tracker(ctx.settings, ctx.run_id) if opts.track else None
    state: dict = {"dataset_id": opts.dataset_id}
    ctx.plan(expected_seconds(ctx, opts, opts.dataset_id))

    def body() -> None:
        for name in opts.steps:
            with ctx.step(name):
                if name == "ingest":
                    state["dataset_id"] = ingest(ctx, opts)
                    ctx.plan(expected_seconds(ctx, opts, state["dataset_id"]))
                elif name == "eda":
                    eda(ctx, state["dataset_id"], tracker, opts.reading_rows)
                elif name == "train":
                    state["trained"] = train(ctx, opts, state["dataset_id"], tracker)
                elif name == "forecast":
                    forecast(ctx, state["trained"])

    if tracker is None:
        body()
        return None
    tags = {"kind": opts.kind, "source": opts.source_name or str(opts.csv or "")}
    with tracker.parent(tags) as mlflow_id:
        run_rows.update_run(ctx.db, ctx.run_id, mlflow_run_id=mlflow_id)
        tracker.log_params(
            {k: v for k, v in opts.to_dict().items() if v not in (None, [], "") and k != "csv"}
        )
        body()
        tracker.log_metrics(ctx.step_seconds, "seconds")
    trained = state.get("trained")
    return trained.registered_version if trained else None


def expected_seconds(ctx: RunContext, opts: RunOptions, dataset_id: int | None) -> dict:
    """The steps' expected seconds: from the stored data set's shape, else the file's size."""
    shape = None
    info = dataset_info(ctx.db, dataset_id) if dataset_id else None
    if dataset_id is None and "ingest" not in opts.steps:
        latest = latest_dataset_id(ctx.db)
        info = dataset_info(ctx.db, latest) if latest else None
    options = train_options(opts, named=drivers_named(info))
    h, drivers = 0, 0
    if info:
        series = max(int(info["series"]), 1)
        freq = frequency_from_alias(info["freq"])
        shape = Shape(series, info["rows"] / series, int(info["rows"]), freq.season_length)
        h = opts.horizon or default_horizon(freq)
        drivers = len(info.get("exog") or []) if options.drivers == "auto" else 0
    return step_seconds(opts.steps, options, opts.track, shape, opts.csv, h, drivers)


def failure_reason(exc: Exception, step: str | None) -> str:
    """An unexpected error in words a page can show: what failed, in which step, and that
    the traceback is in the run's log. A database error is said by the database's own
    message, without SQLAlchemy's statement, parameters and documentation link."""
    where = f" during step {step}" if step else ""
    if isinstance(exc, MemoryError):
        return (
            f"The run ran out of memory{where}. Train fewer models, or give the machine "
            "more memory; the previous model keeps serving."
        )
    cause = getattr(exc, "orig", None) if isinstance(exc, SQLAlchemyError) else None
    if cause is not None:
        said = f"The database failed{where}: {type(cause).__name__}: {cause}"
    else:
        said = f"{type(exc).__name__}{where}: {exc}"
    said = said.splitlines()[0] if said.strip() else said
    if len(said) > LONGEST_REASON:
        said = said[: LONGEST_REASON - 3] + "..."
    return said + " (the traceback is in the run's log)"


def _end(ctx: RunContext, status: str, reason: str) -> None:
    """A failed or cancelled run keeps nothing that could be mistaken for a model, nor the
    data set version it stored on the way (a stranger's cancelled run left one, and the
    Overview took it for new actuals)."""
    (ctx.log.warning if status == "cancelled" else ctx.log.error)("run %s: %s", status, reason)
    stored = clear_unfinished(ctx.db, ctx.settings, ctx.run_id)
    if stored is not None:
        ctx.log.warning("%s", dropped_version_line(stored))
    run_rows.finish(ctx.db, ctx.run_id, status, error=reason, step_seconds=ctx.step_seconds)


def _set_alias(version: str, run_log: logging.Logger) -> None:
    try:
        Tracker.set_production(version)
        run_log.info(
            "MLflow: %s version %s is now @%s", REGISTERED_MODEL, version, PRODUCTION_ALIAS
        )
    except Exception as exc:  # tracking must not undo a promotion that already committed
        run_log.error("could not move the MLflow alias to version %s: %s", version, exc)
