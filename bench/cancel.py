"""How fast a cancel lands: seconds from ``cancel`` to the run's ``cancelled`` status.

Starts a long tuning run on the bundled sample in a subprocess, waits until it
is training (in a given model), asks it to stop through the database flag (as
``python -m pipeline cancel`` and the web app do) and times the end. Median
over ``--repeat`` tries, per model being tuned.

    python bench/cancel.py --repeat 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from storage import run_reads, run_rows  # noqa: E402
from storage.database import Database  # noqa: E402

SAMPLE = ROOT / "dashapp" / "samples" / "store_item_daily.csv"


def one(model: str, delay: float) -> float:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-cancel-"))
    env = {**os.environ, "DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeline",
            "run",
            "--csv",
            str(SAMPLE),
            "--models",
            model,
            "--trials",
            "500",
            "--quiet",
            "--no-tracking",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db = None
    try:
        while (
            db is None
            or run_reads.get_run(db, 1) is None
            or run_reads.get_run(db, 1)["step"] != "train"
        ):
            time.sleep(0.1)
            if db is None and (data_dir / "app.sqlite").exists():
                db = Database(f"sqlite:///{data_dir / 'app.sqlite'}")
        time.sleep(delay)  # let tuning get going
        asked = time.perf_counter()
        run_rows.request_cancel(db, 1)
        while run_reads.get_run(db, 1)["status"] != "cancelled":
            time.sleep(0.05)
        return time.perf_counter() - asked
    finally:
        proc.wait(timeout=120)
        if db is not None:
            db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--models", nargs="+", default=["xgboost", "prophet", "sarima"])
    parser.add_argument("--delay", type=float, default=5.0)
    args = parser.parse_args()
    print(
        f"{'tuning':<10} {'median s':>9} {'max s':>7}  (cancel to 'cancelled', {args.repeat} runs)"
    )
    for model in args.models:
        took = [one(model, args.delay) for _ in range(args.repeat)]
        print(f"{model:<10} {statistics.median(took):>9.2f} {max(took):>7.2f}")


if __name__ == "__main__":
    main()
