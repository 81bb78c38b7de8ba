"""The forecast step's memory: a run's year ahead answered for every series at once, or
a chunk of series at a time (what the step could do instead).

Loads a run's serving model from a data directory and answers the stored horizon as
the forecast step does, in a fresh process per way (nothing stored), printing each
one's peak resident memory above the loaded model and its seconds.

    python bench/forecast_step.py DATA_DIR [--run 1] [--chunks 0,2000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ONE = """
import json, os, sys, time, threading, psutil
os.environ["DATA_DIR"] = sys.argv[1]
from forecasting.data.frequency import stored_horizon
from forecasting.memory import release_memory
from forecasting.serving.requests import ForecastRequest, answer
from pipeline.system import open_system
system = open_system()
serving = system.artifacts.load(int(sys.argv[2]), "serving")
chunk = int(sys.argv[3])
me = psutil.Process(); release_memory(); base = me.memory_info().rss
peak = [base]; done = threading.Event()
def watch():
    while not done.is_set():
        peak[0] = max(peak[0], me.memory_info().rss); done.wait(0.05)
threading.Thread(target=watch, daemon=True).start()
h = stored_horizon(serving.spec.freq, serving.horizon)
series = list(serving.series)
started = time.perf_counter()
size = chunk or len(series)
rows = [answer(serving, ForecastRequest(h, series=tuple(series[i:i + size]))).rows
        for i in range(0, len(series), size)]
seconds = time.perf_counter() - started
done.set()
print(json.dumps({"model_mb": base / 2**20, "above_mb": (peak[0] - base) / 2**20,
                  "seconds": seconds, "rows": sum(map(len, rows))}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--run", type=int, default=1)
    parser.add_argument("--chunks", default="0,2000", help="series a chunk; 0: all at once")
    args = parser.parse_args()
    print("| series a chunk | loaded MB | peak above it MB | seconds | rows |")
    print("|---|---|---|---|---|")
    for chunk in (int(c) for c in args.chunks.split(",")):
        out = subprocess.run(
            [sys.executable, "-c", ONE, str(args.data_dir), str(args.run), str(chunk)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        got = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"| {chunk or 'all'} | {got['model_mb']:,.0f} | {got['above_mb']:,.0f} | "
            f"{got['seconds']:.1f} | {got['rows']:,} |"
        )


if __name__ == "__main__":
    main()
