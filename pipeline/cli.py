"""Command line: ``python -m pipeline <command>``.

Stored and tracked: ``ingest``, ``eda``, ``train``, ``run`` (all steps),
``forecast`` (from the production model), ``runs`` and ``cancel``. One-shot,
nothing stored: ``backtest --csv`` and ``forecast --csv``. Bad input prints
the error and exits with status 2; a refused start (another run in progress)
exits with 3. A Python traceback from here is a bug.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from joblib.externals.loky import get_reusable_executor

from forecasting.data.gaps import DEFAULT_GAP_POLICY, GAP_POLICIES
from forecasting.data.partitions import PARTITION_ROWS
from forecasting.errors import DataError
from forecasting.evaluation.selection import DEFAULT_MODE, MODES
from forecasting.models import MODELS
from pipeline.engines import ENGINES
from pipeline.processes import die_with, no_bare_forks, own_helpers

EXIT_BAD_INPUT = 2
EXIT_CONFLICT = 3
#: what a shell reports for a process a closed pipe stopped (128 + SIGPIPE)
EXIT_PIPE_CLOSED = 141


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="validate, clean and store a CSV as a new data set version")
    _data_options(p, required=True)
    _rows_option(p, "reading")
    p.add_argument(
        "--append",
        action="store_true",
        help="the file holds new actuals: add them to the latest data set version (a new "
        "version; a changed value of a stored period is a revision, and the new one wins)",
    )
    _run_flags(p)
    p = sub.add_parser("eda", help="analyse a stored data set version and save its EDA report")
    p.add_argument("--dataset", type=int, help="data set version (default the latest)")
    _run_flags(p)
    p = sub.add_parser("train", help="tune, validate, select and refit; the result serves")
    p.add_argument("--dataset", type=int, help="data set version (default the latest)")
    _train_options(p, horizon_required=False)
    _rows_option(p, "partition")
    _run_flags(p, output=False)
    p = sub.add_parser("run", help="all steps: ingest -> eda -> train -> forecast")
    _data_options(p, required=True)
    _train_options(p, horizon_required=False)
    _rows_option(p, "partition")
    _rows_option(p, "reading")
    _run_flags(p, output=False)

    p = sub.add_parser(
        "forecast",
        help="forecast H periods with the production model (or, with --csv, fit a CSV ad hoc)",
    )
    p.add_argument("--series", action="append", help="only this series (unique_id); repeatable")
    p.add_argument("--model", help="one trained model instead of the served selection")
    p.add_argument("--out", type=Path, help="CSV to write (default: standard output)")
    p.add_argument(
        "--future", type=Path, help="CSV of planned driver values for the forecast periods"
    )
    _data_options(p, required=False)
    _train_options(p, horizon_required=True)

    p = sub.add_parser("backtest", help="one-shot: hold out the last H periods and score models")
    _data_options(p, required=True)
    _train_options(p, horizon_required=True)
    p.add_argument("--json", type=Path, help="write the scores as JSON to this file")
    p.add_argument(
        "--forecasts", type=Path, help="write the served forecasts of the test window to this CSV"
    )
    _rows_option(p, "partition")

    p = sub.add_parser("runs", help="list runs: status, step, progress, selected model, metrics")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--limit", type=int, default=20)
    p = sub.add_parser("cancel", help="ask a queued or running run to stop")
    p.add_argument("run_id", type=int)
    p = sub.add_parser("promote", help="make an earlier succeeded run serve again (roll back)")
    p.add_argument("run_id", type=int)
    p = sub.add_parser(
        "prune", help="remove model files, MLflow runs and stored forecasts of old runs"
    )
    p.add_argument(
        "--keep", type=int, help="training runs to keep, newest first (default $KEEP_RUNS, 10)"
    )
    p = sub.add_parser(
        "accuracy", help="how a run's stored forecast did against the actuals that arrived"
    )
    p.add_argument("--run", dest="run_id", type=int, help="run id (default the serving run)")
    p.add_argument("--json", action="store_true", help="print JSON")
    sub.add_parser(
        "worker",
        help="take queued runs from Redis (REDIS_URL) and execute them, one at a time",
    )
    p = sub.add_parser(
        "execute", help="execute a queued run in this process (how the front door starts one)"
    )
    p.add_argument("run_id", type=int)
    p.add_argument(
        "--supervisor", type=int, help="pid of the supervising parent; exit when it dies"
    )
    _output_flags(p)
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"give a whole number of rows of at least 1 (e.g. 2000000), not {text}"
        )
    return value


def _data_options(p: argparse.ArgumentParser, required: bool) -> None:
    p.add_argument("--csv", required=required, type=Path, help="sales CSV to read")
    p.add_argument("--date", help="date column (detected when omitted)")
    p.add_argument("--target", help="column to forecast (detected when omitted)")
    p.add_argument(
        "--id", dest="ids", action="append", help="series id column; repeatable (detected)"
    )
    p.add_argument(
        "--exog",
        action="append",
        default=[],
        help="driver known in advance (price, promo, marketing spend); repeatable",
    )
    p.add_argument(
        "--price",
        dest="prices",
        action="append",
        default=[],
        help="a driver that is a price: forecasts never rise with it (columns named like "
        "'price' are prices anyway); repeatable",
    )
    p.add_argument(
        "--promotion",
        dest="promotions",
        action="append",
        default=[],
        help="a driver that is a promotion, display or ad: forecasts never fall with it "
        "(columns named like 'promo', 'deal', 'feature', 'display' are anyway); repeatable",
    )
    p.add_argument("--country", help="holiday calendar, ISO code ($HOLIDAY_COUNTRY; 'none')")
    p.add_argument(
        "--gap-policy",
        default=DEFAULT_GAP_POLICY,
        choices=GAP_POLICIES,
        help="how missing periods are filled (default auto: lost records interpolated, "
        "periods without a sale zero; see the cleaning report)",
    )


#: the partition sizes a command takes: its flag, and what is done a partition at a time
PARTITIONED = {
    "partition": "a panel of more rows is trained",
    "reading": "a file of more rows is read and stored",
}
#: why a reading partition should hold many series
READING_NOTE = "; the gap rules that compare series are judged within a partition, so keep \
hundreds of series in each"


def _rows_option(p: argparse.ArgumentParser, kind: str) -> None:
    """``--partition-rows`` or ``--reading-rows``: the rows of a partition of whole series."""
    p.add_argument(
        f"--{kind}-rows",
        type=_positive,
        default=PARTITION_ROWS,
        help=f"{PARTITIONED[kind]} a partition of whole series at a time, each of at most this "
        f"many rows (default {PARTITION_ROWS:,})" + (READING_NOTE if kind == "reading" else ""),
    )


def _train_options(p: argparse.ArgumentParser, horizon_required: bool) -> None:
    p.add_argument(
        "--horizon",
        type=int,
        required=horizon_required,
        help="periods to forecast (required)"
        if horizon_required
        else "periods to forecast (default 28 days, 13 weeks or 12 months)",
    )
    p.add_argument(
        "--models",
        help=f"comma-separated models, each fitted on every series (default all of "
        f"{','.join(MODELS)}, the expensive ones only where a sample of series says they win)",
    )
    p.add_argument("--trials", type=int, default=0, help="Optuna trials per model (default 0)")
    p.add_argument("--timeout", type=float, help="tuning time budget per model, seconds")
    p.add_argument("--windows", type=int, default=3, help="rolling-origin validation folds")
    p.add_argument(
        "--selection",
        default=DEFAULT_MODE,
        choices=MODES,
        help=f"who shares a model choice: all series, each demand class or each series "
        f"(default {DEFAULT_MODE})",
    )
    p.add_argument(
        "--no-constraints",
        action="store_true",
        help="let the models learn any effect of a price or a promotion, of either sign",
    )
    p.add_argument(
        "--optuna-storage", help="one-shot commands: keep Optuna studies in this database URL"
    )
    p.add_argument("--jobs", type=int, default=-1, help="parallel processes (default all cores)")
    p.add_argument(
        "--engine",
        choices=ENGINES,
        default="auto",
        help="where the series are fitted: local processes, or Dask (the cluster at "
        "DASK_SCHEDULER_ADDRESS, else a local one of --jobs workers); auto: Dask when "
        "DASK_SCHEDULER_ADDRESS is set",
    )
    _output_flags(p)


def _output_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--verbose", action="store_true", help="log progress to the terminal too")


def _run_flags(p: argparse.ArgumentParser, output: bool = True) -> None:
    """Flags of the commands that create a run; ``output=False`` when already added."""
    if output:
        _output_flags(p)
    p.add_argument("--no-tracking", action="store_true", help="do not log to MLflow")


def phrased(exc: DataError) -> str:
    """The error's text, with the command line's way forward for the read side's typed
    errors (``pipeline.serving.errors``)."""
    from pipeline.serving.errors import NoDataSet, NothingServes, with_hint

    return with_hint(
        exc,
        {
            NothingServes: "train one: python -m pipeline run --csv FILE",
            NoDataSet: "store one: python -m pipeline ingest --csv FILE",
        },
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "supervisor", None):
        die_with(args.supervisor)
    own_helpers()  # joblib's worker processes end when this process ends, however it ends
    no_bare_forks()
    level = logging.INFO if getattr(args, "verbose", False) else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:  # run logs go to their file at INFO regardless
        handler.setLevel(level)
    try:
        code = _command(args)
        sys.stdout.flush()  # a reader that closed the pipe shows here, not at exit
        return code
    except DataError as exc:
        print(f"error: {phrased(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # ``python -m pipeline runs | head``: the reader has enough
        # what is still buffered goes nowhere, not into a second error at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PIPE_CLOSED
    finally:
        # Stop joblib's worker pool before exit so it cleans up its shared memory.
        get_reusable_executor().shutdown(wait=True)


def _command(args: argparse.Namespace) -> int:
    if args.command == "worker":
        from pipeline.workers import serve
        from storage.settings import load_settings

        serve(load_settings())
        return 0
    if args.command == "backtest" or (args.command == "forecast" and args.csv):
        from pipeline.adhoc import run_adhoc  # nothing stored: no database to import

        return run_adhoc(args)
    return _stored(args)


def _stored(args: argparse.Namespace) -> int:
    """A command on the stored data sets and runs; a refused start exits with 3."""
    from pipeline import commands
    from storage.run_rows import RunConflict

    try:
        return commands.dispatch(args)
    except RunConflict as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return EXIT_CONFLICT
