"""How a default run's cost grows with the number of series: synthetic daily panels.

Panels of N series x two years of days, bootstrapped from the shapes of real
series in ``../shared/data``: each series is a two-year window of a Favorita
store or an M5 item, rescaled and lightly perturbed; a third come from the M5
items that sell nothing on at least 30% of days (intermittent). For each N a
default ``python -m pipeline run`` on a fresh data directory, as a whole process:
seconds and peak memory per step (from the run's log and its database), then
the exponent of a log-log fit of seconds on series for every step (1 grows
linearly) and what a 30,490-series panel (M5's size) would take here.

    python bench/scale.py --data ../shared/data --sizes 1000,3000,10000 [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cost import run_breakdown
from measure import EstimateWatcher, estimate_quality, whole_process

DAYS = 730
M5_SIZE = 30_490


def source_shapes(data: Path) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Two-year-plus daily series to bootstrap from: (smooth ones, intermittent ones)."""
    favorita = pd.read_csv(data / "favorita_store_transactions_daily/transactions.csv")
    favorita["date"] = pd.to_datetime(favorita["date"])
    smooth = []
    for _, g in favorita.groupby("store_nbr"):
        y = g.set_index("date")["transactions"].asfreq("D").interpolate().to_numpy()
        if len(y) > DAYS + 30:
            smooth.append(y)
    m5 = pd.read_csv(data / "m5_tx1_wi1_items_daily/m5_tx1_wi1_28items_daily.csv")
    intermittent = []
    for _, g in m5.groupby(["item_id", "store_id"]):
        y = g["sales"].to_numpy(float)
        y = y[np.argmax(y > 0) :]  # from the first sale
        if len(y) <= DAYS + 30:
            continue
        (intermittent if (y == 0).mean() >= 0.3 else smooth).append(y)
    return smooth, intermittent


def synthetic_panel(n: int, smooth: list, intermittent: list, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2023-01-01", periods=DAYS, freq="D")
    frames = []
    for i in range(n):
        sparse = i % 3 == 0
        pool = intermittent if sparse else smooth
        source = pool[rng.integers(len(pool))]
        start = rng.integers(0, len(source) - DAYS)
        y = source[start : start + DAYS].astype(float)
        if sparse:  # keep the zeros; resample the sizes of the sales
            y = np.where(y > 0, rng.poisson(np.maximum(y * rng.lognormal(0, 0.3), 0.1)), 0)
        else:
            y = y * rng.lognormal(0, 0.5) / max(np.mean(y), 1) * rng.uniform(5, 500)
            y = np.round(np.maximum(y * (1 + rng.normal(0, 0.05, DAYS)), 0), 1)
        frames.append(
            pd.DataFrame(
                {"date": dates, "store": f"st{i % 50:02d}", "item": f"it{i // 50:04d}", "units": y}
            )
        )
    return pd.concat(frames, ignore_index=True)


def measure(n: int, csv: Path, work: Path) -> dict:
    data_dir = Path(tempfile.mkdtemp(prefix=f"scale-{n}-", dir=work))
    # 10,000 series of two years are 7.3 million rows, over the default upload limit
    env = {**os.environ, "DATA_DIR": str(data_dir), "MAX_ROWS": "50000000"}
    cmd = [sys.executable, "-m", "pipeline", "run", "--csv", str(csv), "--horizon", "28"]
    cmd += ["--quiet"]
    watcher = EstimateWatcher(data_dir / "app.sqlite")
    result = whole_process(cmd, env=env, log=work / f"scale-{n}.log", label=lambda: watcher.step)
    result["estimate_quality"] = estimate_quality(watcher.stop(), result["seconds"])
    logs = sorted((data_dir / "logs").glob("*.log"))
    if logs:
        result.update(run_breakdown(logs[-1]))
    return result


def exponent(sizes: list[int], seconds: list[float]) -> float:
    """The slope of log seconds on log series: 1 is linear growth."""
    return float(np.polyfit(np.log(sizes), np.log(np.maximum(seconds, 1e-3)), 1)[0])


def report(results: dict[int, dict]) -> None:
    sizes = sorted(results)
    steps = ["ingest", "eda", "train", "forecast"]
    print(f"\n{'series':>8} " + " ".join(f"{s + ' s':>10}" for s in steps) + f" {'total s':>9}"
          f" {'peak MB':>8} " + " ".join(f"{s + ' MB':>10}" for s in steps))  # fmt: skip
    for n in sizes:
        r = results[n]
        secs = [r.get("steps", {}).get(s, float("nan")) for s in steps]
        peaks = [r.get("peaks", {}).get(s, float("nan")) for s in steps]
        print(
            f"{n:>8} " + " ".join(f"{v:>10.1f}" for v in secs) + f" {r['seconds']:>9.1f}"
            f" {r['peak_mb']:>8.0f} " + " ".join(f"{v:>10.0f}" for v in peaks)
        )
    if len(sizes) < 2:
        return
    print("\nlog-log exponent of seconds on series (1 = linear):")
    for step in [*steps, "total"]:
        secs = [
            results[n]["seconds"] if step == "total" else results[n]["steps"].get(step, np.nan)
            for n in sizes
        ]
        b = exponent(sizes, secs)
        a = np.exp(np.mean(np.log(secs)) - b * np.mean(np.log(sizes)))
        print(f"  {step:<9} {b:.2f}   at {M5_SIZE:,} series: {a * M5_SIZE**b:,.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    parser.add_argument("--sizes", default="1000,3000,10000")
    parser.add_argument("--work", type=Path, help="keep the panels, logs and data here")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="scale-"))
    work.mkdir(parents=True, exist_ok=True)
    smooth, intermittent = source_shapes(args.data)
    results = {}
    for n in [int(s) for s in args.sizes.split(",")]:
        csv = work / f"panel-{n}.csv"
        if not csv.exists():
            synthetic_panel(n, smooth, intermittent).to_csv(csv, index=False)
        results[n] = measure(n, csv, work)
        print(f"{n} series: {results[n]['seconds']:.0f} s, steps {results[n].get('steps')}",
              flush=True)  # fmt: skip
        if args.json:
            args.json.write_text(json.dumps(results, indent=1, default=str))
    report(results)


if __name__ == "__main__":
    main()
