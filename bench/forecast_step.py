"""The forecast step's memory: a run's year ahead answered for every series at once, a
chunk of series at a time, or a partition at a time (what the step does); and one
series' forecast on request (a what-if, a model asked by name).

Loads a run's serving model from a data directory and answers the stored horizon, in a
fresh process per way (nothing stored), printing each one's peak resident memory above
the loaded model and its seconds. ``--code`` runs another checkout's code on the same
model (a worktree of an earlier commit), to compare.

    python bench/forecast_step.py DATA_DIR [--run 1] [--ways all,parts,2000,one] [--code DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

ONE = """
import json, os, sys, time, threading, psutil
from forecasting.data.frequency import stored_horizon
from forecasting.memory import release_memory
from forecasting.serving.requests import ForecastRequest, answer
from pathlib import Path
from storage.artifacts import ArtifactStore  # not the database: any code's schema
store = ArtifactStore(Path(sys.argv[1]) / "models")
try:  # a model whose fits are stored apart reads them as it forecasts
    from pipeline.serving_store import load_serving
    serving = load_serving(store, int(sys.argv[2]))
except ImportError:  # code from before
    serving = store.load(int(sys.argv[2]), "serving")
way = sys.argv[3]
me = psutil.Process(); release_memory(); base = me.memory_info().rss
peak = [base]; done = threading.Event()
def watch():
    while not done.is_set():
        peak[0] = max(peak[0], me.memory_info().rss); done.wait(0.05)
threading.Thread(target=watch, daemon=True).start()
h = stored_horizon(serving.spec.freq, serving.horizon)
series = list(serving.series)
if way == "parts":
    chunks = serving.series_parts()
elif way == "one":  # one series, on request (nothing stored)
    chunks = [[series[0]]]
elif way == "all":
    chunks = [None]
else:
    chunks = [series[i:i + int(way)] for i in range(0, len(series), int(way))]
started = time.perf_counter()
rows = sum(len(answer(serving, ForecastRequest(h, series=tuple(c) if c else None)).rows)
           for c in chunks)
seconds = time.perf_counter() - started
done.set()
print(json.dumps({"model_mb": base / 2**20, "above_mb": (peak[0] - base) / 2**20,
                  "seconds": seconds, "rows": rows}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--run", type=int, default=1)
    parser.add_argument("--ways", default="all,parts,2000,one",
                        help="all, parts, one, or a number of series a chunk")  # fmt: skip
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout to run")
    args = parser.parse_args()
    print(f"code: {args.code}")
    print("| way | loaded MB | peak above it MB | seconds | rows |")
    print("|---|---|---|---|---|")
    for way in args.ways.split(","):
        out = subprocess.run(
            [sys.executable, "-c", ONE, str(args.data_dir), str(args.run), way],
            capture_output=True, text=True, cwd=args.code,
            env={**os.environ, "PYTHONPATH": str(args.code)},
        )  # fmt: skip
        if out.returncode:
            raise SystemExit(out.stderr[-2000:])
        got = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"| {way} | {got['model_mb']:,.0f} | {got['above_mb']:,.0f} | "
            f"{got['seconds']:.1f} | {got['rows']:,} |"
        )


if __name__ == "__main__":
    main()
