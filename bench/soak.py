"""Ten minutes of mixed load on the deployed stack while two training runs execute back to
back and one web worker is killed with SIGKILL half way: requests served, errors, p99
latency, and the web server's memory at the start and the end.

The load (wrk through nginx, 16 connections) cycles through a stored forecast, the
history of the total, a page load (the HTML shell, Dash's layout and its callback
graph) and a run listing. The training runs are started through the API, one after
the other, on the loaded data set.

    python bench/soak.py --data-dir /path/to/trained/data [--minutes 10]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.support.servers import run_local  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
import wrk_report  # noqa: E402

MIX = """
local requests = {}
init = function(_)  -- built here: wrk sets the Host header only once a thread starts
  requests = {
    wrk.format("POST", "/api/forecast", {["Content-Type"] = "application/json"}, '{"horizon": 30}'),
    wrk.format("GET", "/api/historical"),
    wrk.format("GET", "/"),
    wrk.format("GET", "/_dash-layout"),
    wrk.format("GET", "/_dash-dependencies"),
    wrk.format("GET", "/api/runs"),
  }
end
local i = 0
request = function()
  i = i + 1
  return requests[(i % #requests) + 1]
end
"""


def gunicorn_tree(app_port: int) -> list[psutil.Process]:
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if "gunicorn" in cmdline and f"127.0.0.1:{app_port}" in cmdline:
            return [process, *process.children()]
    raise RuntimeError("gunicorn not found")


def web_memory_mb(app_port: int) -> float:
    """Resident memory of gunicorn's master and workers (not the training processes)."""
    total = 0
    for process in gunicorn_tree(app_port):
        try:
            if "gunicorn" in " ".join(process.cmdline()):
                total += process.memory_info().rss
        except psutil.Error:
            pass
    return total / 2**20


def train_back_to_back(base: str, models: list[str], count: int, log: list) -> None:
    for _ in range(count):
        started = requests.post(
            base + "/api/runs", json={"models": models, "trials": 0}, timeout=30
        ).json()
        run_id, began = started["id"], time.monotonic()
        while True:
            run = requests.get(f"{base}/api/runs/{run_id}", timeout=30).json()
            if run["status"] not in ("queued", "running"):
                break
            time.sleep(2)
        log.append((run_id, run["status"], time.monotonic() - began))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="a trained data directory")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--models", default="linear_trend,xgboost,random_forest")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    data_dir = work / "data"
    shutil.copytree(args.data_dir, data_dir)
    script = work / "mix.lua"
    script.write_text(MIX + wrk_report.DONE)
    seconds = int(args.minutes * 60)

    with run_local(data_dir) as stack:
        base, app_port = stack["url"], stack["ports"]["APP_PORT"]
        subprocess.run(["wrk", "-t2", "-c8", "-d5s", "-s", str(script), base], check=True,
                       capture_output=True)  # fmt: skip
        memory = [(0.0, web_memory_mb(app_port))]
        load = subprocess.Popen(
            ["wrk", "-t2", f"-c{args.connections}", f"-d{seconds}s", "--timeout", "10s",
             "-s", str(script), base],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        began = time.monotonic()
        runs: list = []
        trainer = threading.Thread(
            target=train_back_to_back, args=(base, args.models.split(","), 2, runs), daemon=True
        )
        time.sleep(10)
        trainer.start()
        killed, killed_at = None, 0.0
        while load.poll() is None:
            elapsed = time.monotonic() - began
            if killed is None and elapsed >= seconds / 2:
                workers = [p for p in gunicorn_tree(app_port)[1:] if "gunicorn" in " ".join(
                    p.cmdline())]  # fmt: skip
                killed, killed_at = workers[0].pid, elapsed
                os.kill(killed, signal.SIGKILL)
                print(f"killed worker {killed} at {elapsed:.0f} s", flush=True)
            memory.append((elapsed, web_memory_mb(app_port)))
            time.sleep(10)
        out = load.stdout.read()
        trainer.join(timeout=1800)
        memory.append((time.monotonic() - began, web_memory_mb(app_port)))
    result = wrk_report.parse(out)
    peak = max(m for _, m in memory)
    r = result
    rate = r["rps"]
    rows = [
        ("duration", f"{r['seconds']:.0f} s, {args.connections} connections"),
        ("requests served", f"{r['requests']:,} ({rate:,.0f}/s)"),
        ("socket errors / non-2xx", f"{r['socket_errors']} / {r['non_2xx']}"),
        (
            "latency p50 / p99 / max",
            f"{r['p50_ms']:.1f} / {r['p99_ms']:.1f} / {r['max_ms']:.0f} ms",
        ),
        *[(f"training run {i}", f"{status} in {took:.0f} s") for i, status, took in runs],
        ("worker killed", f"pid {killed} at {killed_at:.0f} s"),
        (
            "web memory (gunicorn master + workers)",
            f"start {memory[0][1]:,.0f} MB, end {memory[-1][1]:,.0f} MB, peak {peak:,.0f} MB",
        ),
    ]
    print("\n| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
