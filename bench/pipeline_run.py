"""What persistence and tracking cost: a full pipeline run next to the plain backtest.

For each data set, in separate processes (so one's memory does not inflate
the other's): ``python -m pipeline run`` semantics (ingest -> eda -> train ->
forecast, with the SQLite store, MLflow, Optuna storage, artifacts and the
run log) and ``forecasting.workflow.backtest`` on the same cleaned frame with
the same options. Prints wall time per step and the peak resident memory of
the process and its worker processes, sampled every 0.2 s.

    python bench/pipeline_run.py --data ../shared/data --datasets favorita walmart
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import PeakMemory
from panels import PANELS, panel_csv


def measure_run(csv: str, args: dict) -> dict:
    """Inside a child process: one full pipeline run on a fresh data directory."""
    os.environ["DATA_DIR"] = args["data_dir"]
    from forecasting.data.reading_options import ReadingOptions
    from pipeline import runs
    from pipeline.options import RunOptions
    from pipeline.system import open_system

    started = time.perf_counter()
    with PeakMemory() as memory:
        system = open_system(tracking=True)
        opts = RunOptions(
            kind="run",
            csv=csv,
            source_name=Path(csv).name,
            reading=ReadingOptions(country=args["country"]),
            horizon=args["horizon"],
            trials=args["trials"],
            timeout=args["timeout"],
        )

        def on_update(run: dict) -> None:  # the run executes in a child process we measure
            if run["step"]:
                memory.label = run["step"]

        run = runs.run_here(system, opts, on_update)
    return {
        "status": run["status"],
        "error": run["error"],
        "seconds": {**run["step_seconds"], "total": time.perf_counter() - started},
        "peak_mb": memory.peaks,
        "metrics": run["metrics"],
        "selected": run["selected_model"],
    }


def measure_backtest(csv: str, args: dict) -> dict:
    """Inside a child process: load, clean and backtest only (nothing stored or tracked)."""
    import joblib

    from forecasting.data.dataset import prepare
    from forecasting.data.reading_options import ReadingOptions
    from forecasting.workflow import SELECTED, TrainOptions, backtest

    started = time.perf_counter()
    with PeakMemory() as memory:
        memory.label = "load"
        reading = ReadingOptions(country=args["country"])
        data = prepare(csv, reading, horizon=args["horizon"])
        loaded = time.perf_counter()
        memory.label = "backtest"
        options = TrainOptions(trials=args["trials"], timeout=args["timeout"])
        with joblib.parallel_config(n_jobs=-1):  # all cores, as the run's train step
            report = backtest(data.frame, data.spec, args["horizon"], options)
    row = report.summary.loc[SELECTED]
    return {
        "seconds": {
            "load": loaded - started,
            "backtest": time.perf_counter() - loaded,
            "total": time.perf_counter() - started,
        },
        "peak_mb": memory.peaks,
        "metrics": {"mase": float(row["mase"]), "rmsse": float(row["rmsse"])},
    }


def in_child(mode: str, csv: str, args: dict) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, csv, json.dumps(args)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--datasets", nargs="+", default=["favorita", "walmart"])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=15.0)
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument(
        "--reuse-run", type=Path, help="JSON of an earlier run measurement: remeasure the backtest"
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, csv, options = args.child
        fn = measure_run if mode == "run" else measure_backtest
        print(json.dumps(fn(csv, json.loads(options))))
        return

    results = {}
    for name in args.datasets:
        horizon, country = PANELS[name].horizon, PANELS[name].country
        csv = panel_csv(name, args.data)
        options = {
            "horizon": horizon,
            "country": country,
            "trials": args.trials,
            "timeout": args.timeout,
            "data_dir": tempfile.mkdtemp(prefix=f"bench-{name}-"),
        }
        earlier = json.loads(args.reuse_run.read_text()) if args.reuse_run else {}
        results[name] = {
            "run": earlier[name]["run"] if name in earlier else in_child("run", str(csv), options),
            "backtest": in_child("backtest", str(csv), options),
        }
        print_table(name, results[name])
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


def print_table(name: str, result: dict) -> None:
    run, bt = result["run"], result["backtest"]
    print(f"\n{name}: full run ({run['status']}, serving {run['selected']}) vs plain backtest")
    print(f"{'step':<10} {'run s':>8} {'run peak MB':>12} {'backtest s':>11} {'bt peak MB':>11}")
    steps = ["start", "ingest", "eda", "train", "forecast", "total"]
    for step in steps:
        secs = run["seconds"].get(step)
        peak = run["peak_mb"].get(step) if step != "total" else max(run["peak_mb"].values())
        bt_s = bt["seconds"]["total"] if step == "total" else None
        bt_m = max(bt["peak_mb"].values()) if step == "total" else None
        if step == "train":
            bt_s, bt_m = bt["seconds"]["backtest"], bt["peak_mb"].get("backtest")
        if step == "ingest":
            bt_s, bt_m = bt["seconds"]["load"], bt["peak_mb"].get("load")
        print(f"{step:<10} {_f(secs):>8} {_f(peak):>12} {_f(bt_s):>11} {_f(bt_m):>11}")
    print(
        f"held-out MASE/RMSSE: run {run['metrics']['mase']:.3f}/{run['metrics']['rmsse']:.3f}, "
        f"backtest {bt['metrics']['mase']:.3f}/{bt['metrics']['rmsse']:.3f}; "
        f"overhead {run['seconds']['total'] / bt['seconds']['total']:.2f}x wall time"
    )


def _f(value) -> str:
    return "" if value is None else f"{value:.1f}"


if __name__ == "__main__":
    main()
