"""Runs that ask for tuning, through the API, on a daily, a weekly and a monthly file.

A user who asks for trials must get a run, not a failure (Prophet's search space
once lacked the history it enqueued, and the run failed). For each file: upload it,
then ``POST /api/runs {"trials": t}`` for each ``t``, wait, and print the status,
the seconds, what serves and any model left out with its reason. The daily file is
the bundled sample; the weekly and monthly ones are the first series of Walmart and
M3 (``../shared/data``), small enough for a run of every default model.

    python bench/tuning_runs.py [--data ../shared/data] [--trials 1,3] [--series 12]
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from panels import PANELS, panel_csv

ROOT = Path(__file__).resolve().parent.parent


def _first_series(name: str, data: Path, work: Path, count: int) -> tuple[bytes, dict]:
    """The first ``count`` series of a panel as CSV bytes, and its reading fields."""
    panel = PANELS[name]
    frame = pd.read_csv(panel_csv(name, data, work))
    keys = frame[list(panel.ids)].drop_duplicates().head(count)
    frame = frame.merge(keys, on=list(panel.ids))
    reading = {"date": panel.date, "target": panel.target, "ids": ",".join(panel.ids)}
    return frame.to_csv(index=False).encode(), reading


def _wait(client, run_id: int, timeout: float = 1800) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.get(f"/api/runs/{run_id}").get_json()
        if run["status"] not in ("queued", "running"):
            return run
        time.sleep(1)
    raise TimeoutError(f"run {run_id} still running after {timeout} s")


def _latest_run(client) -> dict:
    return client.get("/api/runs").get_json()["runs"][0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--trials", default="1,3")
    parser.add_argument("--series", type=int, default=12)
    args = parser.parse_args()
    from dashapp import create_app

    trials = [int(t) for t in args.trials.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        sample = (ROOT / "dashapp" / "samples" / "store_item_daily.csv").read_bytes()
        files = {
            "daily sample (9 series)": (sample, {}),
            f"weekly Walmart ({args.series} series)": _first_series(
                "walmart", args.data, work, args.series
            ),
            f"monthly M3 ({args.series} series)": _first_series("m3", args.data, work, args.series),
        }
        for label, (content, reading) in files.items():
            app = create_app({"DATA_DIR": str(work / label.split()[0])})
            client = app.server.test_client()
            upload = client.post(
                "/api/upload", data={"file": (io.BytesIO(content), "sales.csv"), **reading}
            )
            if not 200 <= upload.status_code < 300:
                raise RuntimeError(f"{label}: upload refused: {upload.get_json()}")
            _wait(client, _latest_run(client)["id"])
            for t in trials:
                began = time.perf_counter()
                started = client.post("/api/runs", json={"trials": t})
                if started.status_code != 202:
                    rows.append((label, t, f"refused {started.status_code}", 0.0, "", ""))
                    continue
                run = _wait(client, started.get_json()["id"])
                seconds = time.perf_counter() - began
                metrics = run.get("metrics") or {}
                left_out = metrics.get("failed", {}).items()
                failed = ", ".join(f"{m}: {why[:60]}" for m, why in left_out)
                served = run.get("selected_model") or metrics.get("selected_model") or ""
                rows.append((label, t, run["status"], seconds, served, failed or "none"))
    print("| file | trials | status | seconds | serves | left out |")
    print("|---|---|---|---|---|---|")
    for label, t, status, seconds, served, failed in rows:
        print(f"| {label} | {t} | {status} | {seconds:.0f} | {served} | {failed} |")


if __name__ == "__main__":
    main()
