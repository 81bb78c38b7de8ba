"""Command line: ``python -m pipeline backtest|forecast --csv FILE ...``.

Bad input prints the ``DataError`` message and exits with status 2; a Python
traceback from here is a bug.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import joblib
import pandas as pd
from joblib.externals.loky import get_reusable_executor
from tqdm import tqdm

from forecasting.dataset import Dataset, prepare
from forecasting.errors import DataError
from forecasting.limits import Limits
from forecasting.models import MODELS
from forecasting.progress import Reporter
from forecasting.workflow import SELECTED, TrainOptions, backtest, train_and_forecast
from storage.settings import load_settings

log = logging.getLogger("pipeline")
TABLE_METRICS = ["mase", "rmsse", "wape", "smape", "mape", "mae", "rmse", "bias"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (
        ("backtest", "hold out the last H periods of every series and score every model"),
        ("forecast", "fit on all history and forecast the next H periods with intervals"),
    ):
        p = sub.add_parser(name, help=helptext, description=helptext)
        _data_options(p)
        _train_options(p)
        if name == "backtest":
            p.add_argument("--json", type=Path, help="write the scores as JSON to this file")
            p.add_argument(
                "--forecasts",
                type=Path,
                help="write the served forecasts for the test window to this CSV",
            )
        else:
            p.add_argument(
                "--out",
                type=Path,
                default=Path("forecast.csv"),
                help="CSV to write the forecast to (default forecast.csv)",
            )
            p.add_argument(
                "--future",
                type=Path,
                help="CSV of planned driver values for the forecast periods (needed with --exog)",
            )
    return parser


def _data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--csv", required=True, type=Path, help="sales CSV to read")
    p.add_argument("--date", help="date column (detected when omitted)")
    p.add_argument("--target", help="column to forecast (detected when omitted)")
    p.add_argument(
        "--id",
        dest="ids",
        action="append",
        help="series id column; repeat for several (detected when omitted)",
    )
    p.add_argument(
        "--exog",
        action="append",
        default=[],
        help="driver known in advance (price, promo, marketing spend); repeatable",
    )
    p.add_argument(
        "--country",
        help="holiday calendar, ISO code (default $HOLIDAY_COUNTRY or US; 'none' for none)",
    )
    p.add_argument(
        "--gap-policy",
        default="zero",
        choices=["zero", "ffill", "interpolate"],
        help="how missing periods are filled (default zero: no sales)",
    )


def _train_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--horizon", type=int, required=True, help="periods to forecast")
    p.add_argument(
        "--models",
        default=",".join(MODELS),
        help=f"comma-separated models (default all: {','.join(MODELS)})",
    )
    p.add_argument("--trials", type=int, default=0, help="Optuna trials per model (default 0)")
    p.add_argument("--timeout", type=float, help="tuning time budget per model, seconds")
    p.add_argument("--windows", type=int, default=3, help="rolling-origin validation folds")
    p.add_argument("--selection", default="global", choices=["global", "per_series"])
    p.add_argument(
        "--optuna-storage",
        help="keep the Optuna studies in this database URL (default: in memory)",
    )
    p.add_argument("--jobs", type=int, default=-1, help="parallel processes (default all cores)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--verbose", action="store_true", help="log each model's tuning and timing")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return _run(args)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        # Stop joblib's worker pool before exit so it cleans up its shared memory.
        get_reusable_executor().shutdown(wait=True)


def _run(args: argparse.Namespace) -> int:
    if args.horizon < 1:
        raise DataError(f"--horizon must be at least 1, got {args.horizon}.")
    options = TrainOptions(
        models=tuple(m.strip() for m in args.models.split(",") if m.strip()),
        trials=args.trials,
        timeout=args.timeout,
        n_windows=args.windows,
        selection=args.selection,
        storage=args.optuna_storage,
        study_prefix=f"{args.command}-{time.strftime('%Y%m%d-%H%M%S')}",
    )
    try:
        options.model_names()
    except ValueError as exc:
        raise DataError(str(exc)) from exc
    settings = load_settings()
    country = args.country or settings.holiday_country
    country = None if country.lower() == "none" else country
    limits = Limits(
        max_bytes=settings.max_upload_mb * 1024 * 1024,
        max_rows=settings.max_rows,
        max_columns=settings.max_columns,
        max_series=settings.max_series,
    )
    data = prepare(
        args.csv,
        horizon=args.horizon,
        n_windows=args.windows,
        holdout=args.command == "backtest",
        date=args.date,
        target=args.target,
        ids=args.ids,
        exog=args.exog,
        country=country,
        gap_policy=args.gap_policy,
        limits=limits,
    )
    _print_dataset(data)
    with joblib.parallel_config(n_jobs=args.jobs), _progress(args.quiet) as reporter:
        if args.command == "backtest":
            return _backtest(args, data, options, reporter)
        return _forecast(args, data, options, reporter)


def _print_dataset(data: Dataset) -> None:
    r = data.cleaned.report
    print(f"{r.series} series, {r.rows_out} rows, {r.freq_name} ({r.freq}), {r.start} to {r.end}")
    notes = [
        f"{r.gaps_filled} gaps filled ({r.gap_policy})" if r.gaps_filled else "",
        f"{r.duplicate_periods_summed} duplicate periods summed"
        if r.duplicate_periods_summed
        else "",
        f"{r.leading_zeros_trimmed} leading zeros trimmed" if r.leading_zeros_trimmed else "",
        f"{r.negative_values} negative values kept" if r.negative_values else "",
        f"{r.outliers_flagged} outliers flagged" if r.outliers_flagged else "",
        f"{len(r.dropped_series)} series too short, left out" if r.dropped_series else "",
    ]
    notes = [n for n in notes if n]
    if notes:
        print("cleaning: " + "; ".join(notes))


class _progress:
    """A tqdm bar fed by the library's Reporter."""

    def __init__(self, quiet: bool):
        self.bar = (
            None
            if quiet
            else tqdm(
                total=100, unit="%", file=sys.stderr, bar_format="{l_bar}{bar}| {elapsed} {postfix}"
            )
        )

    def __enter__(self) -> Reporter:
        def on_progress(value: float, message: str) -> None:
            if self.bar is not None:
                self.bar.n = round(value * 100)
                self.bar.set_postfix_str(message, refresh=True)

        return Reporter(on_progress=on_progress)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()


def _backtest(args, data: Dataset, options: TrainOptions, reporter: Reporter) -> int:
    report = backtest(data.frame, data.spec, args.horizon, options, reporter)
    table = report.summary[TABLE_METRICS].sort_values("rmsse")
    print(
        f"\nHeld-out last {args.horizon} periods of each series (lower is better; "
        "WAPE, sMAPE, MAPE and bias in %):"
    )
    print(table.round(3).to_string())
    choice = report.outcome.selection.choice.value_counts()
    print(f"\nserved ({SELECTED}): " + ", ".join(f"{k} for {v} series" for k, v in choice.items()))
    print("interval coverage: " + ", ".join(f"{k}% -> {v:.1%}" for k, v in report.coverage.items()))
    print(f"seconds: {report.seconds:.1f}")
    if args.json:
        payload = report.to_json(data.summary(), args.horizon)
        args.json.write_text(json.dumps(payload, indent=2))
    if args.forecasts:
        out = report.actuals[["unique_id", "ds", "y", SELECTED]].rename(columns={SELECTED: "yhat"})
        bands = report.outcome.forecast.drop(columns=["yhat", "model"])
        out = out.merge(bands, on=["unique_id", "ds"])
        _write_forecast(out, data, args.forecasts)
    return 0


def _forecast(args, data: Dataset, options: TrainOptions, reporter: Reporter) -> int:
    future = None
    if data.spec.exog:
        if args.future is None:
            raise DataError(
                f"--exog {' '.join(data.spec.exog)} needs their planned values for the forecast "
                "periods: pass --future FILE with the id columns, the date and each driver."
            )
        future = _read_future(args.future, data)
    outcome = train_and_forecast(data.frame, data.spec, args.horizon, options, future, reporter)
    _write_forecast(outcome.forecast.drop(columns="model"), data, args.out)
    choice = outcome.selection.choice.value_counts()
    print("served: " + ", ".join(f"{k} for {v} series" for k, v in choice.items()))
    print(f"wrote {len(outcome.forecast)} rows to {args.out}")
    return 0


def _read_future(path: Path, data: Dataset) -> pd.DataFrame:
    from forecasting.loading import load_csv

    mapping = data.loaded.mapping
    loaded = load_csv(path, date=mapping.date, target=data.spec.exog[0], ids=mapping.ids or None)
    frame = loaded.frame.rename(columns={"y": data.spec.exog[0]})
    return frame


def _write_forecast(frame: pd.DataFrame, data: Dataset, path: Path) -> None:
    out = data.id_lookup().merge(frame, on="unique_id", how="right")
    if data.loaded.mapping.ids:
        out = out.drop(columns="unique_id")
    out["ds"] = pd.to_datetime(out["ds"]).dt.date
    out.to_csv(path, index=False, float_format="%.4f")
