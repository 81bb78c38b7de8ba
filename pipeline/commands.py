"""The stored, tracked commands: runs, the production forecast, listing and cancelling.

Runs go through the front door (``pipeline/runs.py``): ``run``, ``ingest``,
``eda`` and ``train`` execute in a child process this command supervises;
``execute`` is that child.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence

import pandas as pd

from forecasting.data.loading import plan_rows_of
from forecasting.data.partitions import PARTITION_ROWS
from forecasting.errors import DataError
from forecasting.evaluation.selection import DEFAULT_MODE
from pipeline import runs
from pipeline.options import RunOptions, reading_from_args
from pipeline.system import System, open_system
from pipeline.terminal import terminal_progress, write_forecast_csv
from storage.datasets import dataset_info
from storage.results import production

RUN_COMMANDS = ("ingest", "eda", "train", "run")


def dispatch(args: argparse.Namespace) -> int:
    system = open_system()  # recovers runs whose processes died
    for run_id in system.recovered:
        print(
            f"note: run {run_id} was abandoned by a process that died; marked failed",
            file=sys.stderr,
        )
    if args.command in RUN_COMMANDS:
        return _run(system, args)
    if args.command == "forecast":
        return _forecast(system, args)
    if args.command == "runs":
        return _runs(system, args)
    if args.command == "cancel":
        return _cancel(system, args.run_id)
    if args.command == "promote":
        return _promote(system, args.run_id)
    if args.command == "prune":
        return _prune(system, args.keep)
    if args.command == "accuracy":
        return _accuracy(system, args)
    if args.command == "execute":
        return _execute(system, args.run_id)
    raise AssertionError(args.command)


def options_from_args(args: argparse.Namespace) -> RunOptions:
    csv = getattr(args, "csv", None)
    models = getattr(args, "models", None)
    return RunOptions(
        kind=args.command,
        csv=str(csv.resolve()) if csv else None,
        source_name=csv.name if csv else None,
        reading=reading_from_args(args),
        constraints=not getattr(args, "no_constraints", False),
        dataset_id=getattr(args, "dataset", None),
        horizon=getattr(args, "horizon", None),
        **({"models": [m.strip() for m in models.split(",") if m.strip()]} if models else {}),
        trials=getattr(args, "trials", 0),
        timeout=getattr(args, "timeout", None),
        windows=getattr(args, "windows", 3),
        append=getattr(args, "append", False),
        selection=getattr(args, "selection", DEFAULT_MODE),
        jobs=getattr(args, "jobs", -1),
        engine=getattr(args, "engine", "auto"),
        track=not args.no_tracking,
        partition_rows=getattr(args, "partition_rows", PARTITION_ROWS),
        reading_rows=getattr(args, "reading_rows", PARTITION_ROWS),
    )


def _run(system: System, args: argparse.Namespace) -> int:
    """A run in the foreground: Ctrl-C cancels it, and it dies with this command."""
    opts = options_from_args(args)
    announced = set()
    with terminal_progress(args.quiet) as bar:

        def on_update(run: dict) -> None:
            if run["id"] not in announced:
                announced.add(run["id"])
                log = system.settings.logs_dir / f"{run['id']}.log"
                print(f"run {run['id']} ({opts.kind}): log in {log}", flush=True)
            bar(run["progress"], run["message"] or "")

        result = runs.run_here(system, opts, on_update)
    print(_summary_line(result))
    if result["status"] == "failed":
        print(f"error: {result['error']}", file=sys.stderr)
        return 2
    return 0 if result["status"] == "succeeded" else 1


def _execute(system: System, run_id: int) -> int:
    """The run's own process: started by the front door, never by hand."""
    # the numeric stack loads here, in the run's process only: listing, cancelling and
    # supervising runs answer in a second or two instead of ten
    from pipeline.execution import Stopped, execute

    def stop_on_sigterm(_signum, _frame) -> None:
        raise Stopped()

    run = runs.status(system, run_id)
    if run is None:
        raise DataError(f"There is no run {run_id}.")
    if run["status"] != "queued":
        raise DataError(f"Run {run_id} is {run['status']}; only a queued run can be executed.")
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    try:
        result = execute(system, run_id)
    except Stopped:
        return 143
    print(_summary_line(result))
    return 0 if result["status"] == "succeeded" else 1


def _summary_line(run: dict) -> str:
    text = f"run {run['id']} {run['status']}"
    if run["selected_model"]:
        text += f"; serving {run['selected_model']}"
    metrics = run.get("metrics") or {}
    if "mase" in metrics:
        text += (
            f"; held-out MASE {metrics['mase']:.3f}, RMSSE {metrics['rmsse']:.3f}, "
            f"WAPE {metrics['wape']:.1f}%"
        )
    if run.get("step_seconds"):
        text += "; " + ", ".join(f"{k} {v:.1f}s" for k, v in run["step_seconds"].items())
    return text


def _forecast(system: System, args: argparse.Namespace) -> int:
    from forecasting.data.loading import read_plan_csv
    from forecasting.serving.requests import ForecastRequest
    from pipeline import serving

    cache = serving.ServingCache(system)
    prod = cache.serving_run()
    plan = None
    series = tuple(args.series) if args.series else None
    if args.future is not None:
        exog = prod.serving.spec.exog
        if not exog:
            raise DataError(
                f"--future plans drivers, and the serving run {prod.run['id']} was trained "
                "without any: forecast without it, or train with --exog."
            )
        ids = dataset_info(system.db, prod.dataset_id)["mapping"]["mapping"]["ids"]
        plan = read_plan_csv(args.future, exog, ids=ids)
        plan = _plan_of(plan, series or prod.serving.series, ids)
    request = ForecastRequest(args.horizon, series, args.model, plan=plan)
    frame = serving.forecast(cache, request).rows
    keys = prod.keys.drop(columns="total")
    write_forecast_csv(frame, keys, args.out)
    if args.out:
        print(f"wrote {len(frame)} rows to {args.out}")
    return 0


def _plan_of(plan: pd.DataFrame, series: Sequence[str], ids: list[str]) -> pd.DataFrame:
    """A ``--future`` file's rows for the series forecast; a file of dates and drivers
    only is every one's plan."""
    label = f"the series forecast ({', '.join(list(series)[:2])}, ...)"
    advice = (
        f"name each row's series with the data set's columns ({', '.join(ids)}), or leave "
        "them out for one plan of every series forecast"
    )
    rows = plan_rows_of(plan, series, label, advice)
    if rows.attrs.get("ids"):
        return rows
    rows = rows.drop(columns="unique_id", errors="ignore")
    return pd.concat([rows.assign(unique_id=uid) for uid in series], ignore_index=True)


def _runs(system: System, args: argparse.Namespace) -> int:
    rows = runs.list_runs(system, args.limit)
    if args.json:
        print(json.dumps({"production": production(system.db), "runs": rows}, indent=1))
        return 0
    if not rows:
        print("no runs yet")
        return 0
    for r in rows:
        mark = "*" if r["production"] else " "
        metrics = r["metrics"] or {}
        score = f"MASE {metrics['mase']:.3f}" if "mase" in metrics else ""
        status = "stalled" if r["stalled"] else r["status"]
        print(
            f"{mark}{r['id']:>4} {r['kind']:<6} {status:<9} {r['step'] or '':<8} "
            f"{r['progress']:>4.0%} {r['created_at']} {r['selected_model'] or '':<30} {score}"
        )
        if r["error"]:
            print(f"       {r['error']}")
    print("* serves forecasts")
    return 0


def _cancel(system: System, run_id: int) -> int:
    before = runs.status(system, run_id)
    if before is None:
        raise DataError(f"There is no run {run_id}; see python -m pipeline runs.")
    if not runs.is_active(before):
        print(f"run {run_id} already ended ({before['status']}); nothing to cancel")
        return 0
    after = runs.cancel(system, run_id)
    if runs.is_active(after):
        print(
            f"run {run_id}: cancellation requested; it stops at its next check, or its "
            f"processes are stopped after {runs.GRACE_SECONDS:.0f} s"
        )
    else:
        print(f"run {run_id} {after['status']}")
    return 0


def _promote(system: System, run_id: int) -> int:
    from pipeline.promotion import NotPromotable, promote

    try:
        run = promote(system, run_id)
    except KeyError:
        raise DataError(f"There is no run {run_id}; see python -m pipeline runs.") from None
    except NotPromotable as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 3
    print(f"run {run_id} serves: {run['selected_model']}")
    return 0


def _prune(system: System, keep: int | None) -> int:
    from pipeline.retention import prune

    try:
        pruned = prune(system, keep)
    except ValueError as exc:
        raise DataError(str(exc)) from None
    print(pruned.describe())
    return 0


def _accuracy(system: System, args: argparse.Namespace) -> int:
    """How a run's stored forecast did on the actuals appended since, in a few lines."""
    from pipeline import serving
    from pipeline.serving import accuracy

    cache = serving.ServingCache(system)
    try:
        answer = accuracy.report(cache, args.run_id)
    except KeyError:
        raise DataError(f"There is no run {args.run_id}; see python -m pipeline runs.") from None
    if args.json:
        print(json.dumps(answer, indent=1))
        return 0
    print(accuracy.describe(answer))
    return 0
