"""What a web worker holds of a catalogue's serving model: stored whole (with joblib, as
before, or pickled), or with its fits by partition stored apart
(``pipeline.serving_store``), and what a one-series what-if then costs.

Takes a run's stored model from a data directory, writes both forms to a scratch
artifact store, and in a fresh process per form: the resident memory the loaded model
adds, the seconds to load it, and one series' year-ahead forecast (a what-if, nothing
stored) with its peak above the loaded model.

    python bench/serving_memory.py DATA_DIR [--run 1] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

ONE = """
import json, sys, threading, time, psutil
from pathlib import Path
import forecasting.models, forecasting.serving.requests  # the libraries a worker has
from forecasting.data.frequency import stored_horizon
from forecasting.memory import release_memory
from forecasting.serving.requests import ForecastRequest, answer
from pipeline.serving_store import load_serving
from storage.artifacts import ArtifactStore
me = psutil.Process(); release_memory(); base = me.memory_info().rss
started = time.perf_counter()
serving = load_serving(ArtifactStore(Path(sys.argv[1])), int(sys.argv[2]))
load_s = time.perf_counter() - started
release_memory(); loaded = me.memory_info().rss
peak = [loaded]; done = threading.Event()
def watch():
    while not done.is_set():
        peak[0] = max(peak[0], me.memory_info().rss); done.wait(0.02)
threading.Thread(target=watch, daemon=True).start()
h = stored_horizon(serving.spec.freq, serving.horizon)
uid = serving.series[len(serving.series) // 2]
started = time.perf_counter()
rows = answer(serving, ForecastRequest(h, series=(uid,))).rows
one_s = time.perf_counter() - started
done.set()
print(json.dumps({"model_mb": (loaded - base) / 2**20, "load_s": load_s, "one_s": one_s,
                  "one_mb": (peak[0] - loaded) / 2**20, "rows": len(rows)}))
"""


def measure(root: Path, run: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", ONE, str(root), str(run)], capture_output=True, text=True,
        cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    if out.returncode:
        raise SystemExit(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--run", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import joblib

    from pipeline.serving_store import load_serving, serving_artifacts
    from storage.artifacts import ArtifactStore

    whole = load_serving(ArtifactStore(args.data_dir / "models"), args.run)
    for model in whole.fitted.values():  # a model stored apart already: read its parts
        if hasattr(model, "parts"):
            model.parts = [p.load() if hasattr(p, "load") else p for p in model.parts]
    with tempfile.TemporaryDirectory(dir=args.data_dir) as scratch:
        forms = {name: Path(scratch) / name for name in ("whole, joblib", "whole", "apart")}
        old = ArtifactStore(forms["whole, joblib"]).path(args.run)
        old.mkdir(parents=True)
        joblib.dump(whole, old / "serving.joblib")  # as the store wrote before
        ArtifactStore(forms["whole"]).save(args.run, {"serving": whole})
        ArtifactStore(forms["apart"]).save(args.run, serving_artifacts(whole))
        del whole
        runs = {name: [measure(root, args.run) for _ in range(args.repeat)]
                for name, root in forms.items()}  # fmt: skip
    print(f"median of {args.repeat} fresh processes per form")
    print("| stored | model in memory MB | load s | one series' what-if s | its peak MB | rows |")
    print("|---|---|---|---|---|---|")
    for name, got in runs.items():
        med = {k: statistics.median(g[k] for g in got) for k in got[0]}
        print(
            f"| {name} | {med['model_mb']:,.0f} | {med['load_s']:.1f} | {med['one_s']:.2f} | "
            f"{med['one_mb']:,.0f} | {med['rows']:,.0f} |"
        )


if __name__ == "__main__":
    main()
