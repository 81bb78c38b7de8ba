"""What one web worker holds and waits for as the history routes read a catalogue.

Opens the app on a data directory (a catalogue run's, ``bench/catalogue.py --run``)
in this process and asks, in order, the total's history, a group's, one series' and
a one-series forecast through Flask's test client, printing after each the seconds,
the resident memory and the peak. Run it once per checkout on copies of the same
directory (the newer code migrates the database it opens):

    python bench/web_history.py DATA_DIR [--group store=st03]
    PYTHONPATH=/path/to/older/worktree python bench/web_history.py COPY_OF_DATA_DIR
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import psutil


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir")
    parser.add_argument("--group", default="store=st03", help="a group's column=value")
    args = parser.parse_args()
    os.environ["DATA_DIR"] = args.data_dir
    from dashapp import create_app

    client = create_app().server.test_client()
    me = psutil.Process()
    print(f"started: {me.memory_info().rss / 2**20:,.0f} MB")
    first = client.get("/api/series").get_json()["series"][0]
    asks = [
        ("history, the total", "/api/historical"),
        (f"history, {args.group}", f"/api/historical?group={args.group}"),
        ("history, one series", f"/api/historical?series={first}"),
        ("forecast, one series", None),
    ]
    print("| request | status | seconds | RSS MB | peak MB |\n|---|---|---|---|---|")
    for what, path in asks:
        started = time.perf_counter()
        if path is None:
            answer = client.post("/api/forecast", json={"horizon": 28, "series": first})
        else:
            answer = client.get(path)
        took = time.perf_counter() - started
        rss = me.memory_info().rss / 2**20
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"| {what} | {answer.status_code} | {took:.1f} | {rss:,.0f} | {peak:,.0f} |")


if __name__ == "__main__":
    main()
