"""Step ``train``: tune and validate every model, score it on the held-out window, select,
refit on all history, store the serving model and track everything in MLflow.

The test window (the last H periods of every series) is held out of tuning,
selection and interval calibration; the scores on it are the run's metrics.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from forecasting import progress
from forecasting.data.closures import describe_closures
from forecasting.data.frequency import UNITS, default_horizon, stored_horizon
from forecasting.data.ladder import min_train, quiet_stops
from forecasting.data.partitions import Partitions
from forecasting.data.spec import DataSpec
from forecasting.evaluation.why import why_served
from forecasting.models import BASELINE, MODELS
from forecasting.partitioned import partitioned_backtest
from forecasting.partitioned_serving import Catalogue
from forecasting.progress import Pacing
from forecasting.serving.effects import driver_effects, group_effects
from forecasting.serving.model import SERVED, ServingModel
from forecasting.workflow import (
    SERVED_WITHOUT_PLAN,
    BacktestReport,
    TrainOptions,
    backtest,
    production_model,
)
from pipeline.context import RunContext
from pipeline.engines import fits_on
from pipeline.formatting import behind_baseline, describe_holdout
from pipeline.model_records import metrics_of, model_rows, track
from pipeline.options import RunOptions
from pipeline.pacing import train_parts
from pipeline.scratch import TRAIN, scratch_folder
from pipeline.serving_store import serving_artifacts
from pipeline.stored import resolve_dataset_info, spec_from_info
from pipeline.system import optuna_storage
from pipeline.tracking import Tracker
from pipeline.trained import Trained, log_diverged, mark_diverged
from pipeline.training_data import TrainedOn, TrainingData
from storage import run_rows
from storage.datasets import drivers_named
from storage.results import save_model_results


def train_options(
    opts: RunOptions, storage=None, study_prefix: str = "sales", named: bool = False
) -> TrainOptions:
    """The workflow's options for what a run was asked. ``named``: the stored version's
    drivers were named by the user, so a run on it uses them as a run on the file did
    (retraining after an append screened them, and dropped a price a stranger named)."""
    return TrainOptions(
        models=tuple(opts.models) if opts.models is not None else None,
        trials=opts.trials,
        timeout=opts.timeout,
        n_windows=opts.windows,
        selection=opts.selection,
        drivers="all" if opts.reading.exog or named else "auto",
        constraints=opts.constraints,
        storage=storage,
        study_prefix=study_prefix,
    )


def train(
    ctx: RunContext, opts: RunOptions, dataset_id: int | None, tracker: Tracker | None
) -> Trained:
    dataset_id, info = resolve_dataset_info(ctx.db, dataset_id)
    run_rows.update_run(ctx.db, ctx.run_id, dataset_id=dataset_id)
    with scratch_folder(TRAIN) as folder:
        data = TrainingData.read(ctx.db, dataset_id, info, opts.partition_rows, folder)
        return _trained(ctx, opts, dataset_id, info, data, tracker, folder)


def _trained(
    ctx: RunContext,
    opts: RunOptions,
    dataset_id: int,
    info: dict,
    data: TrainingData,
    tracker: Tracker | None,
    folder: Path,
) -> Trained:
    spec = spec_from_info(info)
    plan = data.plan
    h = opts.horizon or default_horizon(spec.freq)
    options = train_options(
        opts,
        storage=optuna_storage(ctx.settings) if opts.trials > 0 else None,
        study_prefix=f"run-{ctx.run_id}",
        named=drivers_named(info),
    )
    # what the backtest will fit: one series leaves out the models that learn across series
    options, _ = options.for_panel(data.series(), bool(spec.exog))
    ctx.log.info(
        "training on data set version %d: %d series, horizon %d, models %s, %d trials each; "
        "holidays of %s; drivers %s",
        dataset_id,
        data.series(),
        h,
        ",".join(options.model_names()),
        opts.trials,
        spec.country or "no country",
        (", ".join(spec.exog) + (" (named)" if options.drivers == "all" else " (screened)"))
        if spec.exog
        else "none",
    )
    added = [m for m in options.model_names() if m not in (opts.models or MODELS)]
    if added:
        ctx.log.info(
            "always candidates added: %s (naive, seasonal naive and the intermittent-demand "
            "models compete for every series, so the choice cannot lose badly to them)",
            ", ".join(added),
        )
    screened_drivers = len(spec.exog) if options.drivers == "auto" else 0
    shape = data.shape(spec.season_length)
    parts = train_parts(shape, options, tracker is not None, h, screened_drivers)
    pacing = Pacing(ctx.reporter(), parts)
    scheduler = ctx.settings.dask_scheduler_address
    # every reader forecasts with the file's plan; the totals as validation says
    horizon = stored_horizon(spec.freq, h)
    with progress.active(ctx.reporter()), fits_on(opts.engine, opts.jobs, scheduler) as where:
        ctx.log.info("fitting the series on %s", where)
        if data.parts is not None:
            report, serving = _by_partition(
                ctx, data.parts, spec, h, options, pacing, plan, horizon, opts.partition_rows,
                folder,
            )  # fmt: skip
        else:
            df = data.frame
            report = backtest(df, spec, h, options, pacing.part("backtest"))
            serving = production_model(
                df, spec, h, report.outcome, pacing.part("production"), plan, horizon
            )
    ctx.log.info("%s", serving.coherence.describe())
    closures = describe_closures(serving.closures)
    if closures:
        ctx.log.info("%s", closures)
    if not report.outcome.tuning and (serving.profile["ladder_step"] == "short").any():
        needs = h + min_train(h, spec.season_length)
        ctx.log.warning(
            "no series is long enough to validate a model for %d periods ahead (that needs "
            "%d periods of history): each is served its mean level. Train on the whole "
            "history, or a shorter horizon; new actuals go on top of a stored version with "
            "Add new actuals, not Replace data",
            h, needs,
        )  # fmt: skip
    pacing.part("saving").report(0.0, "saving the fitted models")
    diverged = report.outcome.diverged()
    series = serving_series(serving, diverged)
    effects = driver_effects(serving)
    path = ctx.artifacts.save(
        ctx.run_id,
        {
            **serving_artifacts(serving),
            "per_series": report.per_series,
            "backtest": report.actuals,
            "series": series,
            "effects": effects,
        },
    )
    h_val = report.outcome.serving.horizon if report.outcome.serving is not None else h
    trained_on = TrainedOn.of(data, spec, h, h_val, options.n_windows)
    _log_effects(ctx, effects, trained_on.keys, serving.spec)
    served = metrics_of(report.summary.loc[SERVED])
    coverage = {f"coverage{k}": round(v, 4) for k, v in report.coverage.items()}
    held_out = report.holdout()  # counts the series a plan moves: worked out once
    headline = _headline(held_out, plan)
    steps = report.coverage_by_step
    if headline == "without_plan":  # the file plans no driver: that is what serves
        served = metrics_of(report.summary.loc[SERVED_WITHOUT_PLAN])
        coverage = {f"coverage{k}": round(v, 4) for k, v in report.coverage_without_plan.items()}
        steps = report.coverage_by_step_without_plan
    by_step = {f"coverage{k}_by_step": [round(v, 4) for v in steps[k]] for k in steps.columns}
    _log_series(ctx, series)
    _log_quiet_stops(ctx, serving)
    log_diverged(ctx.log, serving, diverged, "")
    drivers = report.outcome.drivers  # their verdicts were logged when they were made
    ctx.log.info(
        "served %s: held-out MASE %.3f, RMSSE %.3f, WAPE %.1f%%; interval coverage %s%s",
        serving.describe(),
        served["mase"],
        served["rmsse"],
        served["wape"],
        coverage,
        " (without a plan: the file plans no driver)" if headline == "without_plan" else "",
    )
    baseline = (
        metrics_of(report.summary.loc[BASELINE]) if BASELINE in report.summary.index else None
    )
    if baseline:
        warning = behind_baseline(served, baseline)
        if warning:
            ctx.log.warning("%s", warning)
    holdout = describe_holdout({"holdout": held_out})
    if holdout:
        ctx.log.info("%s", holdout)
    trained = Trained(dataset_id, spec, h, serving, report, trained_on)
    rows = model_rows(trained)
    pacing.finish("saving")
    if tracker is not None:
        mlflow_part = pacing.part("MLflow")
        mlflow_part.report(0.0, "logging to MLflow")
        trained.registered_version = track(
            tracker, trained, rows, served, coverage, mlflow_part.report
        )
    save_model_results(ctx.db, ctx.run_id, rows)
    run_rows.update_run(
        ctx.db,
        ctx.run_id,
        selected_model=serving.describe()[:255],
        metrics={
            **served,
            **coverage,
            **by_step,
            "horizon": h,
            #: False: every series too short, rules serve (a run then does not replace one
            #: that validated models: ``pipeline.execution``)
            "validated": bool(report.outcome.tuning),
            "headline": headline,
            #: seasonal naive's held-out scores, for the outcome line's warning
            "baseline": baseline or {},
            "drivers": drivers.report if drivers else {},
            "holdout": held_out,
            "screened": [screen.to_dict() for screen in report.outcome.screens],
            "choice_tests": [test.to_dict() for test in report.outcome.selection.tests()],
            "failed": report.outcome.failed,
            "why": _why(report.outcome),
            "coherence": serving.coherence.report(),
        },
        artifact_path=str(path),
    )
    return trained


def _by_partition(
    ctx: RunContext,
    parts: Partitions,
    spec: DataSpec,
    h: int,
    options: TrainOptions,
    pacing: Pacing,
    plan: pd.DataFrame | None,
    horizon: int,
    rows: int,
    folder: Path,
) -> tuple[BacktestReport, ServingModel]:
    """A catalogue: the backtest, the final fits and the serving model's build a
    partition of whole series (at most ``rows`` rows) at a time (``forecasting.
    partitioned``, ``forecasting.partitioned_serving``), so that no process holds every
    series' rows or fits at once; the partitions and their fits live in the run's
    scratch ``folder`` until the serving model is built."""
    ctx.log.info("a catalogue: %s", parts.describe(rows))
    report = partitioned_backtest(parts, spec, h, options, pacing.part("backtest"), keep=folder)
    catalogue = Catalogue(parts, folder)
    serving = production_model(
        None, spec, h, report.outcome, pacing.part("production"), plan, horizon, catalogue
    )
    return report, serving


def _headline(holdout: dict | None, plan: pd.DataFrame | None) -> str:
    """Which held-out scores head the run: those with the drivers' true values where the
    file plans them, else those without a plan, the forecast that then serves (a
    stranger's run headed its 'perfect plan' MASE 0.711 while 0.856 served)."""
    if holdout is None or plan is not None or not holdout["series_a_plan_moves"]:
        return "with_plan"
    return "without_plan"


def _why(outcome) -> list[dict]:
    """The served choice's validation score against the runner-up's and the baseline's."""
    profile = outcome.profile
    classes = profile["demand_class"] if profile is not None else None
    return why_served(outcome.selection.scores, outcome.selection.choice, classes)


def serving_series(serving: ServingModel, diverged: dict[str, dict[str, str]]) -> pd.DataFrame:
    """Per series: ladder step, demand class, what serves it and which models diverged on it."""
    return mark_diverged(serving.series_table(), diverged)


def _log_effects(ctx: RunContext, effects: pd.DataFrame, keys: pd.DataFrame, spec) -> None:
    """The served model's price elasticities and promotion lifts, over all series."""
    attributes = keys[["unique_id", *[c for c in spec.attributes if c in keys.columns]]]
    for row in group_effects(effects, attributes).query("group == 'total'").itertuples():
        what = "price elasticity" if row.role == "price" else "promotion lift x"
        if row.effect is None or row.effect != row.effect:
            ctx.log.info("driver %s: no served forecast uses it", row.driver)
            continue
        ctx.log.info(
            "driver %s: %s %.2f (median of the %d of %d series served using it)",
            row.driver, what, row.effect, row.series, row.of,
        )  # fmt: skip


def _log_quiet_stops(ctx: RunContext, serving: ServingModel) -> None:
    """The series that stopped selling at the end of the file, by their own history."""
    stops = quiet_stops(serving.profile) if serving.profile is not None else []
    if len(stops):
        unit = UNITS.get(serving.spec.freq.name, "periods")
        ctx.log.warning(
            "%d series sold nothing in their last periods, which their own history makes "
            "unlikely (e.g. %s: %d %s): delisted or out of stock? They are forecast to "
            "sell again; drop their rows after the last sale if they stopped",
            len(stops), stops.index[0], stops.iloc[0], unit,
        )  # fmt: skip


def _log_series(ctx: RunContext, series: pd.DataFrame) -> None:
    steps = series["ladder_step"].value_counts().to_dict()
    classes = series["demand_class"].value_counts().to_dict()
    ctx.log.info("every series forecast; ladder steps %s; demand classes %s", steps, classes)
