"""How often gunicorn with several workers boots on a fresh data directory.

A deployment's first start is a fresh volume: every worker imports the app and the
first ones to open the database migrate its schema. Before the migration lock two
workers could both create ``dataset_versions`` and one failed to boot (2 of 6 starts).
This starts ``gunicorn -w N wsgi:server`` from the checkout on an empty ``DATA_DIR``
(or a fresh PostgreSQL database with ``--postgres URL``, which is dropped and created
again each time) ``--starts`` times and counts the starts where every worker booted
and ``/health`` answered.

    python bench/fresh_starts.py [--starts 20] [--workers 4] [--postgres URL]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _fresh_postgres(url: str) -> None:
    """Drop and create the database ``url`` names (through the server's ``postgres`` one)."""
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')


def one_start(workers: int, postgres: str | None) -> dict:
    """Start, wait for health and every worker's boot, stop; what happened."""
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder) / "data"
        env = {**os.environ, "DATA_DIR": str(data_dir), "ACCESS_LOG": ""}
        env["WEB_GRACEFUL_TIMEOUT"] = "2"
        env.pop("DATABASE_URL", None)
        if postgres:
            _fresh_postgres(postgres)
            env["DATABASE_URL"] = postgres
        port = _free_port()
        log_path = Path(folder) / "gunicorn.log"
        began = time.perf_counter()
        with open(log_path, "w") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", str(workers),
                 "--bind", f"127.0.0.1:{port}", "wsgi:server"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        healthy, seconds = False, None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and server.poll() is None:
            booted = len(re.findall(r"Booting worker", log_path.read_text()))
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5):
                    healthy = True
            except OSError:
                healthy = False
            if healthy and booted >= workers:
                seconds = time.perf_counter() - began
                time.sleep(3)  # a worker that fails after its boot line exits within this
                break
            time.sleep(0.3)
        alive = server.poll() is None
        if alive:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
        text = log_path.read_text()
        failed = "Worker failed to boot" in text or "Traceback" in text
        return {"ok": healthy and alive and not failed, "seconds": seconds, "log": text}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--postgres", help="a PostgreSQL URL whose database may be dropped")
    args = parser.parse_args()
    results = []
    for i in range(args.starts):
        result = one_start(args.workers, args.postgres)
        results.append(result)
        if not result["ok"]:
            print(f"start {i + 1} failed:\n{result['log'][-2000:]}", file=sys.stderr)
    booted = [r["seconds"] for r in results if r["ok"]]
    store = "PostgreSQL" if args.postgres else "SQLite"
    print("| store | workers | starts | booted | median seconds to healthy |")
    print("|---|---|---|---|---|")
    median = f"{statistics.median(booted):.1f}" if booted else "-"
    print(f"| {store} | {args.workers} | {args.starts} | {len(booted)} | {median} |")


if __name__ == "__main__":
    main()
