"""Requests per second and latency of the deployed stack (nginx -> gunicorn), with wrk.

Starts ``deploy/run-local.sh`` on a copy of a trained data directory and, in the
same run, two peers: nginx serving a static file from ``assets/`` (the ceiling
on this machine) and a bare Flask route returning a constant 30-point forecast
through the same gunicorn settings and nginx configuration (``bench/bare_app.py``).
Then, at rising concurrency: ``POST /api/forecast`` of a stored 30-day forecast
and ``GET /api/historical`` (the total's whole history). Last, the same two
routes while a training run is in progress: errors and the added latency.

    python bench/load.py --data-dir /path/to/trained/data
    python bench/load.py --train ../shared/data/favorita_store_transactions_daily/transactions.csv
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
import wrk_report  # noqa: E402
from ui import train  # noqa: E402

from tests.support.servers import free_port, run_local  # noqa: E402

POST = 'wrk.method = "POST"\nwrk.body = \'{"horizon": 30}\'\n'
POST += 'wrk.headers["Content-Type"] = "application/json"\n'


def wrk(url: str, connections: int, seconds: float, script: Path) -> dict:
    threads = min(2, connections)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return wrk_report.parse(out)


@contextmanager
def bare_flask_behind_nginx(run_dir: Path) -> str:
    """The peer: bench/bare_app.py with the same gunicorn settings, behind the rendered nginx."""
    app_port, nginx_port = free_port(), free_port()
    env = {**os.environ, "BIND": f"127.0.0.1:{app_port}", "ACCESS_LOG": ""}
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:dashapp.gunicorn_conf",
         "--chdir", str(ROOT / "bench"), "bare_app:server"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    peer_dir = run_dir / "peer"
    peer_dir.mkdir(exist_ok=True)
    site = (run_dir / "site.conf").read_text()
    site = re.sub(r"listen \d+;", f"listen {nginx_port};", site)
    site = re.sub(r"server 127\.0\.0\.1:\d+;", f"server 127.0.0.1:{app_port};", site)
    (peer_dir / "site.conf").write_text(site)
    main = (run_dir / "nginx.conf").read_text()
    main = main.replace(str(run_dir / "site.conf"), str(peer_dir / "site.conf"))
    main = main.replace(str(run_dir / "nginx.pid"), str(peer_dir / "nginx.pid"))
    main = main.replace(str(run_dir / "nginx-access.log"), str(peer_dir / "access.log"))
    (peer_dir / "nginx.conf").write_text(main)
    nginx = subprocess.Popen(
        ["nginx", "-p", str(peer_dir), "-e", str(peer_dir / "error.log"),
         "-c", str(peer_dir / "nginx.conf")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{nginx_port}/api/forecast"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.post(url, timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the bare Flask peer did not start")
            time.sleep(0.3)
        yield url
    finally:
        for process in (nginx, gunicorn):
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


def row(label: str, c: int, r: dict) -> str:
    errors = r["socket_errors"] + r["non_2xx"]
    latency = f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f}"
    return f"| {label} | {c} | {r['rps']:,.0f} | {latency} | {errors} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="a data directory with a trained model")
    parser.add_argument("--train", type=Path, help="train on this CSV first (fresh data dir)")
    parser.add_argument("--country", default="EC")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", default="1,8,32,64,128")
    parser.add_argument(
        "--training-models", default="linear_trend,xgboost,random_forest",
        help="models of the training run started for the under-training measurement",
    )  # fmt: skip
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    data_dir = work / "data"
    if args.train:
        train(args.train, data_dir, args.country)
    elif args.data_dir:
        shutil.copytree(args.data_dir, data_dir)
    else:
        sys.exit("give --data-dir or --train")
    scripts = {"get": work / "get.lua", "post": work / "post.lua"}
    scripts["get"].write_text(wrk_report.DONE)
    scripts["post"].write_text(POST + wrk_report.DONE)
    connections = [int(c) for c in args.connections.split(",")]

    with run_local(data_dir) as stack, bare_flask_behind_nginx(stack["run"]) as bare:
        base = stack["url"]
        targets = [
            ("nginx static file (assets/app.css)", base + "/assets/app.css", "get"),
            ("bare Flask, constant 30 points", bare, "post"),
            ("POST /api/forecast (stored, 30 days)", base + "/api/forecast", "post"),
            ("GET /api/historical (total)", base + "/api/historical", "get"),
        ]
        for _, url, kind in targets:  # warm every worker's caches
            wrk(url, 8, 3, scripts[kind])
        print("| target | connections | requests/s | p50 ms | p99 ms | errors |")
        print("|---|---|---|---|---|---|")
        idle = {}
        for c in connections:
            for label, url, kind in targets:
                result = wrk(url, c, args.seconds, scripts[kind])
                idle[(label, c)] = result
                print(row(label, c, result), flush=True)

        # the same load while a run trains in the background (its own process)
        started = requests.post(
            base + "/api/runs",
            json={"models": args.training_models.split(","), "trials": 0},
            timeout=30,
        )
        started.raise_for_status()
        run_id = started.json()["id"]
        print(f"\nwhile training run {run_id} ({args.training_models}):\n")
        print("| target | connections | requests/s | p50 ms | p99 ms | errors | idle p99 | run |")
        print("|---|---|---|---|---|---|---|---|")
        for label, url, kind in targets[2:]:
            c = 32 if 32 in connections else connections[-1]
            result = wrk(url, c, args.seconds, scripts[kind])
            status = requests.get(f"{base}/api/runs/{run_id}", timeout=30).json()["status"]
            print(row(label, c, result) + f" {idle[(label, c)]['p99_ms']:.1f} | {status} |")
        while requests.get(f"{base}/api/runs/{run_id}", timeout=30).json()["status"] in (
            "queued",
            "running",
        ):
            time.sleep(2)
        final = requests.get(f"{base}/api/runs/{run_id}", timeout=30).json()
        print(f"\nrun {run_id} ended {final['status']}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
