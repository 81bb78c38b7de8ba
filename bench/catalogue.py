"""A retailer's catalogue: time and peak memory of the default backtest as series grow.

M5-shaped synthetic daily panels (M5: 30,490 series of 1,941 days): each series is
bootstrapped from a real series of ``../shared/data`` (mostly the M5 items that sell
nothing on many days, the rest Favorita's stores and M5's busier items), tiled to
the panel's length, with launches spread through the history (a launched series has
no rows before its launch). For each size, in one run on the same file: the plain
statsforecast AutoETS script (``bench/autoets_script.py``) and the product's default
backtest, whole processes, peak memory of the whole process tree. ``--whole`` also
runs the backtest on the whole panel at once (the partitions above the size of the
panel), to compare memory and forecasts. ``--run`` also times the default *run*
(``python -m pipeline run``: ingest, EDA, training, the stored forecast, with SQLite
and MLflow) on a fresh data directory, with its peak per step. Prints a table and the
log-log exponents of time and memory on series.

    python bench/catalogue.py --data ../shared/data --sizes 1000,3000,10000 \\
        [--days 1941] [--partition-rows 2000000] [--whole] [--run] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import ROOT, print_table, succeeded
from scale import exponent, source_shapes

M5_DAYS = 1941
#: the share of series bootstrapped from an intermittent source (M5: most items)
INTERMITTENT_SHARE = 0.8
#: the share of series launched after the panel's first day
LAUNCHED_SHARE = 0.4


def m5_shaped_panel(
    n: int, days: int, smooth: list, intermittent: list, seed: int = 0
) -> pd.DataFrame:
    """``date, store, item, units`` for ``n`` series of up to ``days`` days."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2011-01-29", periods=days, freq="D")
    frames = []
    for i in range(n):
        sparse = rng.random() < INTERMITTENT_SHARE
        pool = intermittent if sparse else smooth
        source = pool[rng.integers(len(pool))].astype(float)
        y = np.resize(np.roll(source, -int(rng.integers(len(source)))), days)
        if sparse:  # the zeros kept, the sizes of the sales resampled
            y = np.where(y > 0, rng.poisson(np.maximum(y * rng.lognormal(0, 0.3), 0.1)), 0)
        else:
            y = y * rng.lognormal(0, 0.5) / max(np.mean(y), 1) * rng.uniform(5, 500)
            y = np.round(np.maximum(y * (1 + rng.normal(0, 0.05, days)), 0), 1)
        start = int(rng.integers(0, int(days * 0.8))) if rng.random() < LAUNCHED_SHARE else 0
        frames.append(
            pd.DataFrame(
                {
                    "date": dates[start:],
                    "store": f"st{i % 10:02d}",
                    "item": f"it{i // 10:05d}",
                    "units": y[start:],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


#: what the backtest's log says it is doing (its verbose lines), and the phase it opens
PHASES = (
    ("reading:", "reading"),
    ("partitions of whole series", "validating"),
    ("validating", "validating"),
    ("validated in", "validating"),
    ("selected", "choosing"),
    ("forecasting", "forecasting"),
    ("moved to", "forecasting"),
    ("fitted on", "forecasting"),
)


def phase_of(log: Path):
    """A function naming the phase the backtest writing ``log`` is in (its last line)."""

    def phase() -> str:
        try:
            with open(log, "rb") as f:
                f.seek(max(f.seek(0, 2) - 4096, 0))
                tail = f.read().decode(errors="replace").splitlines()
        except OSError:
            return "reading"
        for line in reversed(tail):
            said = line.split(": ", 1)[-1]  # a log line's message, not its logger's name
            for marker, name in PHASES:
                if marker in said:
                    return name
        return "reading"

    return phase


def backtest(csv: Path, work: Path, name: str, partition_rows: int) -> dict:
    out, log = work / f"{name}.csv", work / f"{name}.log"
    cmd = [sys.executable, "-m", "pipeline", "backtest", "--csv", str(csv), "--date", "date",
           "--target", "units", "--id", "store", "--id", "item", "--horizon", "28", "--quiet",
           "--verbose", "--partition-rows", str(partition_rows),
           "--forecasts", str(out)]  # fmt: skip
    env = {**os.environ, "MAX_ROWS": "100000000"}
    return succeeded(cmd, log, env=env, label=phase_of(log))


def run_step(data: Path):
    """A function naming the step the run on ``data`` is in (its log's last step line)."""
    log = data / "logs" / "1.log"

    def step() -> str:
        try:
            lines = log.read_text(errors="replace").splitlines()
        except OSError:
            return "starting"
        for line in reversed(lines):
            if " step " in line and line.endswith(" started"):
                return line.split(" step ", 1)[1].split()[0]
        return "starting"

    return step


def default_run(csv: Path, work: Path, name: str, partition_rows: int) -> dict:
    """``python -m pipeline run`` on a fresh data directory, its peak memory per step."""
    data = work / f"{name}-data"
    shutil.rmtree(data, ignore_errors=True)
    cmd = [sys.executable, "-m", "pipeline", "run", "--csv", str(csv), "--date", "date",
           "--target", "units", "--id", "store", "--id", "item", "--horizon", "28", "--quiet",
           "--partition-rows", str(partition_rows)]  # fmt: skip
    env = {**os.environ, "DATA_DIR": str(data)}
    return succeeded(cmd, work / f"{name}.log", env=env, label=run_step(data))


def autoets(csv: Path, work: Path, name: str) -> dict:
    cmd = [sys.executable, str(ROOT / "bench" / "autoets_script.py"), "--csv", str(csv),
           "--date", "date", "--target", "units", "--id", "store", "--id", "item",
           "--freq", "D", "--season", "7", "--horizon", "28"]  # fmt: skip
    return succeeded(cmd, work / f"{name}.log")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--sizes", default="1000,3000,10000")
    parser.add_argument("--days", type=int, default=M5_DAYS)
    parser.add_argument("--partition-rows", type=int, default=2_000_000)
    parser.add_argument("--whole", action="store_true", help="also the unpartitioned backtest")
    parser.add_argument("--run", action="store_true", help="also the default run, per step")
    parser.add_argument(
        "--without-peer", action="store_true", help="ours alone (no ratio): memory only"
    )
    parser.add_argument("--work", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="catalogue-"))
    work.mkdir(parents=True, exist_ok=True)
    shapes = source_shapes(args.data)
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        csv = work / f"panel-{n}x{args.days}.csv"
        if not csv.exists():
            m5_shaped_panel(n, args.days, *shapes).to_csv(csv, index=False)
        units = pd.read_csv(csv, usecols=["units"])["units"]
        row = {"series": n, "rows": len(units), "zeros": round(float((units == 0).mean()), 3)}
        ours = backtest(csv, work, f"ours-{n}", args.partition_rows)
        row |= {"ours s": round(ours["seconds"], 1), "ours peak MB": round(ours["peak_mb"])}
        if not args.without_peer:
            peer = autoets(csv, work, f"autoets-{n}")
            row |= {
                "AutoETS s": round(peer["seconds"], 1),
                "ours / AutoETS": round(ours["seconds"] / peer["seconds"], 2),
                "AutoETS peak MB": round(peer["peak_mb"]),
            }
        row |= {f"{k} MB": round(v) for k, v in ours["peaks"].items()}
        if args.whole:
            whole = backtest(csv, work, f"whole-{n}", 10**12)
            a = pd.read_csv(work / f"ours-{n}.csv").sort_values(["store", "item", "ds"])
            b = pd.read_csv(work / f"whole-{n}.csv").sort_values(["store", "item", "ds"])
            numbers = a.select_dtypes("number").columns
            row |= {
                "whole s": round(whole["seconds"], 1),
                "whole peak MB": round(whole["peak_mb"]),
                "largest difference": float(
                    np.abs(a[numbers].to_numpy() - b[numbers].to_numpy()).max()
                ),
            }
        if args.run:
            run = default_run(csv, work, f"run-{n}", args.partition_rows)
            row |= {"run s": round(run["seconds"], 1), "run peak MB": round(run["peak_mb"])}
            row |= {f"run {k} MB": round(v) for k, v in run["peaks"].items()}
        rows.append(row)
        print(json.dumps(row), flush=True)
    print_table(rows)
    if len(rows) > 1:
        sizes = [r["series"] for r in rows]
        keys = ("ours s", "AutoETS s", "ours peak MB", "AutoETS peak MB", "run s", "run peak MB")
        for key in [k for k in keys if k in rows[0]]:
            slope = exponent(sizes, [r[key] for r in rows])
            print(f"log-log exponent of {key} on series: {slope:.2f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
