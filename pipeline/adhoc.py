"""One-shot commands on a CSV with nothing stored: ``backtest`` and ``forecast --csv``.

For trying models on a file; the stored, tracked way is ``python -m pipeline run``.
"""

from __future__ import annotations

import argparse
import gc
import logging
import time
from pathlib import Path

import pandas as pd

from forecasting.data.catalogue import estimated_rows, read_catalogue
from forecasting.data.cleaning import CleaningReport
from forecasting.data.dataset import Dataset, prepare
from forecasting.data.frequency import check_horizon
from forecasting.data.loading import read_plan_csv
from forecasting.data.partitions import Partitions
from forecasting.data.schema import without_rows
from forecasting.errors import DataError
from forecasting.evaluation.metrics import METRIC_NAMES
from forecasting.partitioned import partitioned_backtest
from forecasting.progress import Reporter
from forecasting.serving.model import SERVED
from forecasting.serving.requests import ForecastRequest, answer
from forecasting.workflow import (
    SERVED_WITHOUT_PLAN,
    BacktestReport,
    ForecastOutcome,
    TrainOptions,
    backtest,
    train_and_forecast,
)
from pipeline import json_output
from pipeline.engines import fits_on
from pipeline.formatting import counted, describe_plan, scores
from pipeline.options import limits_from, reading_from_args
from pipeline.scratch import BACKTEST, scratch_folder
from pipeline.terminal import terminal_progress, write_forecast_csv
from storage.settings import load_settings

log = logging.getLogger("pipeline")


def run_adhoc(args: argparse.Namespace) -> int:
    check_horizon(args.horizon)
    options = TrainOptions(
        models=tuple(m.strip() for m in args.models.split(",") if m.strip())
        if args.models
        else None,
        trials=args.trials,
        timeout=args.timeout,
        n_windows=args.windows,
        selection=args.selection,
        drivers="all" if args.exog else "auto",
        constraints=not args.no_constraints,
        storage=args.optuna_storage,
        study_prefix=f"{args.command}-{time.strftime('%Y%m%d-%H%M%S')}",
    )
    try:
        options.model_names()
    except ValueError as exc:
        raise DataError(str(exc)) from exc
    settings = load_settings()
    reading = reading_from_args(args).with_default_calendar(settings.holiday_country)
    # the engine first: an unreachable cluster is said before the file is read
    with fits_on(args.engine, args.jobs, settings.dask_scheduler_address):
        if args.command == "backtest" and estimated_rows(args.csv) > args.partition_rows:
            return _backtest_catalogue(args, reading, options, limits_from(settings))
        data = prepare(args.csv, reading, horizon=args.horizon, limits=limits_from(settings))
        _print_dataset(data.cleaned.report, data.notes())
        return _run(args, data, options)


def _backtest_catalogue(args, reading, options: TrainOptions, limits) -> int:
    """A file of more rows than a partition: read into cleaned partitions without ever
    holding it whole (``forecasting.data.catalogue``), then backtested partition by
    partition."""
    with scratch_folder(BACKTEST) as folder:
        with terminal_progress(args.quiet) as bar:  # minutes for tens of millions of rows
            catalogue = read_catalogue(
                args.csv, reading, Path(folder) / "partitions", rows=args.partition_rows,
                limits=limits, reporter=Reporter(on_progress=bar),
            )  # fmt: skip
        check_horizon(args.horizon, catalogue.data.spec.freq)
        _print_dataset(catalogue.data.cleaned.report, catalogue.notes())
        print(catalogue.partitions.describe(args.partition_rows))
        with terminal_progress(args.quiet) as bar:
            report = partitioned_backtest(
                catalogue.partitions, catalogue.data.spec, args.horizon, options,
                Reporter(on_progress=bar), Path(folder),
            )  # fmt: skip
    lookup = catalogue.lookup if catalogue.data.loaded.mapping.ids else None
    return _print_backtest(args, catalogue.data, lookup, report)


def _run(args: argparse.Namespace, data: Dataset, options: TrainOptions) -> int:
    with terminal_progress(args.quiet) as bar:
        reporter = Reporter(on_progress=bar)
        if args.command == "backtest":
            return _backtest(args, data, options, reporter)
        return _forecast(args, data, options, reporter)


def _print_dataset(r: CleaningReport, notes: list[str]) -> None:
    print(f"{r.series} series, {r.rows_out} rows, {r.freq_name} ({r.freq}), {r.start} to {r.end}")
    for note in notes:
        print(note)
    notes = [
        f"{r.duplicate_periods_summed} duplicate periods summed"
        if r.duplicate_periods_summed
        else "",
        f"{r.leading_zeros_trimmed} leading zeros trimmed" if r.leading_zeros_trimmed else "",
        f"{r.negative_values} negative values kept" if r.negative_values else "",
        f"{counted(r.outliers_flagged, 'outlier')} flagged" if r.outliers_flagged else "",
        f"{len(r.dropped_series)} series left out" if r.dropped_series else "",
    ]
    notes = [n for n in notes if n]
    if notes:
        print("cleaning: " + "; ".join(notes))


def _backtest(args, data: Dataset, options: TrainOptions, reporter: Reporter) -> int:
    lookup = _id_lookup(data)  # before a partitioned backtest frees the frame
    if len(data.frame) <= args.partition_rows:
        report = backtest(data.frame, data.spec, args.horizon, options, reporter)
        return _print_backtest(args, data, lookup, report)
    with scratch_folder(BACKTEST) as folder:
        parts = Partitions.cut(data.frame, Path(folder) / "partitions", args.partition_rows)
        print(parts.describe(args.partition_rows))
        data.cleaned.frame = without_rows(data.frame)  # one partition in memory at a time
        gc.collect()
        report = partitioned_backtest(
            parts, data.spec, args.horizon, options, reporter, Path(folder)
        )
    return _print_backtest(args, data, lookup, report)


def _print_backtest(
    args, data: Dataset, lookup: pd.DataFrame | None, report: BacktestReport
) -> int:
    table = report.summary[list(METRIC_NAMES)].sort_values("rmsse")
    table = pd.DataFrame([scores(row) for row in table.to_dict("records")], index=table.index)
    print(
        f"\nHeld-out last {args.horizon} periods of each series (lower is better; "
        "WAPE, sMAPE, MAPE and bias in %):"
    )
    print(table.fillna("n/a").to_string())
    choice = report.outcome.selection.choice.value_counts()
    print(f"\nserved ({SERVED}): " + ", ".join(f"{k} for {v} series" for k, v in choice.items()))
    for line in report.outcome.selection.describe_departures():
        print(f"choice: {line}")
    for model, why in report.outcome.failed.items():
        print(f"left out: {model} failed to validate ({why})")
    _print_drivers(report.outcome)
    _print_screens(report.outcome)
    _print_ladder(report.outcome)
    print("interval coverage: " + ", ".join(f"{k}% -> {v:.1%}" for k, v in report.coverage.items()))
    by_step = report.coverage_by_step
    if by_step is not None and len(by_step) > 1:
        last = by_step.index.max()
        print(
            "  by horizon step (across series): "
            + "; ".join(
                f"{k}% band covered {by_step.loc[1, k]:.0%} at step 1, "
                f"{by_step.loc[last, k]:.0%} at step {last}"
                for k in by_step.columns
            )
        )
    print(f"seconds: {report.seconds:.1f}")
    if args.json:
        payload = report.to_json(data.summary(), args.horizon)
        args.json.write_text(json_output.dumps(payload, indent=2))
    if args.forecasts:
        extra = [c for c in (SERVED_WITHOUT_PLAN,) if c in report.actuals]
        out = report.actuals[["unique_id", "ds", "y", SERVED, *extra]].rename(
            columns={SERVED: "yhat"}
        )
        bands = report.outcome.forecast.drop(
            columns=["yhat", "model", "extrapolated", "planned"], errors="ignore"
        )
        out = out.merge(bands, on=["unique_id", "ds"])
        write_forecast_csv(out, lookup, args.forecasts)
    return 0


def _print_screens(outcome: ForecastOutcome) -> None:
    for screen in outcome.screens:
        print(f"screened: {screen.describe()}")


def _forecast(args, data: Dataset, options: TrainOptions, reporter: Reporter) -> int:
    plan = data.plan
    if args.future is not None:
        mapping = data.loaded.mapping
        plan = read_plan_csv(args.future, data.spec.exog, mapping.date, mapping.ids)
    outcome = train_and_forecast(data.frame, data.spec, args.horizon, options, None, reporter)
    _print_drivers(outcome)
    _print_screens(outcome)
    result = answer(outcome.serving, ForecastRequest(args.horizon, plan=plan))  # as any reader
    forecast = result.rows
    if outcome.serving.spec.exog:
        print(describe_plan(outcome.serving.spec.exog, result.plan, args.horizon))
    write_forecast_csv(forecast.drop(columns=["model", "extrapolated"]), _id_lookup(data), args.out)
    choice = outcome.selection.choice.value_counts()
    print("served: " + ", ".join(f"{k} for {v} series" for k, v in choice.items()))
    _print_ladder(outcome)
    print(f"wrote {len(forecast)} rows to {args.out}")
    return 0


def _print_drivers(outcome: ForecastOutcome) -> None:
    """Which candidate drivers the models use, with the validation scores that decided."""
    for line in outcome.drivers.describe() if outcome.drivers else []:
        print(f"driver {line}")


def _print_ladder(outcome: ForecastOutcome) -> None:
    """How every series was forecast: ladder steps, demand classes, diverged models."""
    table = outcome.profile
    steps = table["ladder_step"].value_counts()
    classes = table["demand_class"].value_counts()
    print("ladder: " + ", ".join(f"{v} {k}" for k, v in steps.items()) + " series")
    print("demand classes: " + ", ".join(f"{v} {k}" for k, v in classes.items()))
    on_rules = [r for r in outcome.series_report() if r["ladder_step"] in ("new", "zero")]
    for row in on_rules[:10]:
        print(f"  {row['unique_id']}: {row['ladder_note']}")
    if len(on_rules) > 10:
        print(f"  ... and {len(on_rules) - 10} more new or never-sold series")
    for model, series in outcome.diverged().items():
        print(
            f"{model} diverged on {len(series)} series and was replaced by seasonal naive there "
            f"(e.g. {next(iter(series))})"
        )


def _id_lookup(data: Dataset) -> pd.DataFrame | None:
    """``unique_id`` to the file's own id columns, for the files written; None without."""
    return data.id_lookup() if data.loaded.mapping.ids else None
