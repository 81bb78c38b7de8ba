"""Dashboard speed in a real browser: first contentful paint per page, forecast round trip.

Starts the app under gunicorn (gthread) on a data directory holding a trained
model (trains one on Favorita first with ``--train``), then drives Debian's
Chromium with Playwright. Prints medians over ``--repeat`` loads.

    python bench/ui.py --train ../shared/data/favorita_store_transactions_daily/transactions.csv
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
sys.path.insert(0, str(ROOT))
from tests.support.servers import gunicorn  # noqa: E402

PAGES = ["/", "/forecast", "/data", "/models", "/retraining"]
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def train(csv: Path, data_dir: Path, country: str) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "run",
            "--csv",
            str(csv),
            "--country",
            country,
            "--quiet",
            "--no-tracking",
        ],
        cwd=ROOT,
        env={**__import__("os").environ, "DATA_DIR": str(data_dir)},
        check=True,
    )


def measure(url: str, repeat: int) -> dict:
    from playwright.sync_api import sync_playwright

    fcp = {p: [] for p in PAGES}
    ready = {p: [] for p in PAGES}
    round_trips, to_chart = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        for _ in range(repeat):
            for path in PAGES:
                context = browser.new_context()  # a cold cache each time
                page = context.new_page()
                started = time.perf_counter()
                page.goto(url + path)
                page.wait_for_selector("h2")
                ready[path].append((time.perf_counter() - started) * 1000)
                value = page.evaluate(
                    "performance.getEntriesByName('first-contentful-paint')[0]?.startTime"
                )
                fcp[path].append(value)
                context.close()
        page = browser.new_page()
        page.goto(url + "/forecast")
        page.wait_for_selector("#forecast-chart .main-svg")
        page.wait_for_load_state("networkidle")
        for i in range(repeat):
            horizon = "365" if i % 2 == 0 else "364"  # alternate so every input is a change
            with page.expect_response(lambda r: "_dash-update-component" in r.url) as info:
                started = time.perf_counter()
                page.fill("#forecast-horizon", horizon)
                page.press("#forecast-horizon", "Enter")
            response = info.value
            response.finished()
            timing = response.request.timing
            round_trips.append(timing["responseEnd"])
            page.wait_for_function(
                "n => document.querySelectorAll('#forecast-table tr').length > 1 && "
                "document.querySelector('#forecast-chart .main-svg') !== null",
                arg=None,
            )
            to_chart.append((time.perf_counter() - started) * 1000)
        browser.close()
    return {"fcp": fcp, "ready": ready, "round_trip": round_trips, "input_to_update": to_chart}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="a data directory with a trained model")
    parser.add_argument("--train", type=Path, help="train on this CSV first (fresh data dir)")
    parser.add_argument("--country", default="EC")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="bench-ui-")) / "data"
    if args.train:
        started = time.perf_counter()
        train(args.train, data_dir, args.country)
        print(f"trained in {time.perf_counter() - started:.0f}s")
    with gunicorn(data_dir, workers=2) as url:
        results = measure(url, args.repeat)
    print(f"\n{'page':<12} {'FCP ms (median)':>16} {'heading shown ms':>17}")
    for path in PAGES:
        print(
            f"{path:<12} {statistics.median(results['fcp'][path]):>16.0f} "
            f"{statistics.median(results['ready'][path]):>17.0f}"
        )
    print(
        f"\nforecast callback, 365-day horizon, all series: HTTP round trip median "
        f"{statistics.median(results['round_trip']):.0f} ms; input to table and chart "
        f"updated median {statistics.median(results['input_to_update']):.0f} ms "
        f"({args.repeat} changes)"
    )


if __name__ == "__main__":
    main()
