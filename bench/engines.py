"""Local processes against a Dask LocalCluster: the same forecasts, and what Dask costs.

A synthetic daily panel (``bench/scale.py``'s bootstrap from ``../shared/data``),
the default one-shot backtest as a whole process on each engine, ``--jobs 2``
(two loky processes, or a LocalCluster of two single-threaded workers), in
alternating order, ``--repeat`` times; the peak memory is that of the whole process
tree (the Dask scheduler, nannies and workers included). Prints a table with the
medians, the ratio Dask / local, and whether the held-out forecasts are equal.

    python bench/engines.py --data ../shared/data --series 3000 [--repeat 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import ROOT, print_table, succeeded
from scale import source_shapes, synthetic_panel

ENGINES = ("local", "dask")


def backtest(csv: Path, engine: str, out: Path) -> dict:
    cmd = [sys.executable, "-m", "pipeline", "backtest", "--csv", str(csv), "--horizon", "28",
           "--jobs", "2", "--engine", engine, "--quiet", "--forecasts", str(out)]  # fmt: skip
    return succeeded(cmd, out.with_suffix(".log"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--series", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--work", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="engines-"))
    work.mkdir(parents=True, exist_ok=True)
    csv = work / f"panel-{args.series}.csv"
    if not csv.exists():
        synthetic_panel(args.series, *source_shapes(args.data)).to_csv(csv, index=False)
    runs: dict[str, list[dict]] = {e: [] for e in ENGINES}
    for i in range(args.repeat):
        for engine in ENGINES if i % 2 == 0 else ENGINES[::-1]:
            result = backtest(csv, engine, work / f"{engine}-{i}.csv")
            runs[engine].append(result)
            print(json.dumps({"engine": engine, "seconds": round(result["seconds"], 1),
                              "peak_mb": round(result["peak_mb"])}), flush=True)  # fmt: skip
    forecasts = {e: pd.read_csv(work / f"{e}-0.csv") for e in ENGINES}
    numbers = forecasts["local"].select_dtypes("number").columns
    largest = (forecasts["dask"][numbers] - forecasts["local"][numbers]).abs().max().max()
    seconds = {e: statistics.median(r["seconds"] for r in runs[e]) for e in ENGINES}
    peak = {e: statistics.median(r["peak_mb"] for r in runs[e]) for e in ENGINES}
    table = {
        "series": args.series,
        "rows": int(pd.read_csv(csv, usecols=[0]).shape[0]),
        "local s": round(seconds["local"], 1),
        "dask s": round(seconds["dask"], 1),
        "dask / local": round(seconds["dask"] / seconds["local"], 3),
        "local peak MB": round(peak["local"]),
        "dask peak MB": round(peak["dask"]),
        "largest forecast difference": float(largest),
        "repeats": args.repeat,
    }
    print_table([table])
    if args.json:
        args.json.write_text(json.dumps({"table": table, "runs": runs}, indent=1, default=str))


if __name__ == "__main__":
    main()
