"""One web process's resident memory as it serves a catalogue: started, the stored
forecast of one series (which loads the serving model and the stored forecast), one
trained model's forecast asked by name for one series (computed, nothing stored), and
the same for a second series.

Runs the app in process (Flask's test client, no server) on an existing data directory,
so two directories holding the same run in two storage forms compare like for like.

    python bench/web_worker_memory.py DATA_DIR [DATA_DIR ...]
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

ONE = """
import json, os, resource, sys, time, psutil
os.environ["DATA_DIR"] = sys.argv[1]
from dashapp import create_app
client = create_app().server.test_client()
me = psutil.Process()
out = [("started", 200, 0.0, me.memory_info().rss)]
series = client.get("/api/series").get_json()["series"]
models = client.get("/api/models").get_json()["models"]
name = "xgboost" if "xgboost" in models else models[-1]  # the largest fits, if trained
for what, body in [
    ("stored forecast, one series", {"horizon": 28, "series": series[0]}),
    (f"{name} asked by name, one series", {"horizon": 28, "series": series[0], "model": name}),
    (f"{name} asked by name, another", {"horizon": 28, "series": series[-1], "model": name}),
]:
    t = time.perf_counter()
    r = client.post("/api/forecast", json=body)
    out.append((what, r.status_code, time.perf_counter() - t, me.memory_info().rss))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"steps": out, "peak": peak}))
"""


def main() -> None:
    for data_dir in sys.argv[1:]:
        run = subprocess.run(
            [sys.executable, "-c", ONE, data_dir], capture_output=True, text=True, cwd=ROOT,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        if run.returncode:
            raise SystemExit(run.stderr[-3000:])
        got = json.loads(run.stdout.strip().splitlines()[-1])
        print(f"\n{data_dir}: peak {got['peak'] / 2**20:,.0f} MB")
        print("| request | status | seconds | resident MB after |")
        print("|---|---|---|---|")
        for what, status, seconds, rss in got["steps"]:
            print(f"| {what} | {status} | {seconds:.1f} | {rss / 2**20:,.0f} |")


if __name__ == "__main__":
    main()
