"""Many series in one call against one call per series, through the JSON API.

A planner scoring 66 series (the issue's scanner panel) asked ``POST /api/forecast``
once per series: 6.6 minutes. One call with the list answers them all. Both sides run
in the same process on the same trained model, a what-if so no response cache helps
either; the table gives medians of ``--repeat`` rounds and the ratio.

    PYTHONPATH=. python bench/batch_forecast.py [--series 66] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=66)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--horizon", type=int, default=8)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from dashapp import create_app
    from tests.support.files import priced_promoted_weekly

    with tempfile.TemporaryDirectory() as tmp:
        csv, data_dir = Path(tmp) / "panel.csv", Path(tmp) / "data"
        priced_promoted_weekly(args.series, weeks=150).to_csv(csv, index=False)
        env = {"DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
        subprocess.run(
            [sys.executable, "-m", "pipeline", "run", "--csv", str(csv), "--horizon",
             str(args.horizon), "--quiet", "--no-tracking"],
            cwd=ROOT, env=env, check=True, capture_output=True,
        )  # fmt: skip
        client = create_app({"DATA_DIR": str(data_dir), "TESTING": True}).server.test_client()
        ids = client.get("/api/series").get_json()["series"]
        what_if = {"price": 3.0}

        def one_by_one() -> float:
            started = time.perf_counter()
            for uid in ids:
                body = {"horizon": args.horizon, "series": uid, "drivers": what_if}
                assert client.post("/api/forecast", json=body).status_code == 200
            return time.perf_counter() - started

        def batch() -> float:
            started = time.perf_counter()
            body = {"horizon": args.horizon, "series": ids, "drivers": what_if}
            response = client.post("/api/forecast", json=body)
            assert response.status_code == 200 and len(response.get_json()["forecasts"]) == len(ids)
            return time.perf_counter() - started

        batch()  # the first call loads the model
        singles = [one_by_one() for _ in range(args.repeat)]
        batches = [batch() for _ in range(args.repeat)]
    single, many = statistics.median(singles), statistics.median(batches)
    print(f"{len(ids)} series, horizon {args.horizon}, what-if price, {args.repeat} rounds")
    print(f"{'one call per series':<24} {single:>8.2f} s")
    print(f"{'one call with the list':<24} {many:>8.2f} s")
    print(f"{'ratio':<24} {single / many:>8.1f}x")


if __name__ == "__main__":
    main()
