"""Processes and servers the tests and ``bench/`` start: the command line, gunicorn, a
local deployment, a fresh database, a run followed to its end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from dashapp.__main__ import GUNICORN_CONFIG, WSGI_APP
from tests.support.frames import ROOT

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://root@/postgres?host=/var/run/postgresql"
)


BACKENDS = ["sqlite", "postgresql"]


@contextmanager
def fresh_database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A new, empty database: a SQLite file, or a throwaway database on the PostgreSQL server."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'app.sqlite'}"
        return
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"sf_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


QUICK_RUN = ["--models", "linear_trend,xgboost", "--trials", "2", "--horizon", "14", "--jobs", "1"]


def cli(
    data_dir: Path, *args: str, timeout: float = 600, without: tuple[str, ...] = (), **env
) -> subprocess.CompletedProcess:
    """``python -m pipeline ...`` on a data directory, as an operator runs it (``without``:
    variables of this environment the operator's would not have)."""
    # the data directory's own stores: mlflow.set_tracking_uri in an earlier test of this
    # worker also exports MLFLOW_TRACKING_URI, which a child would inherit
    dropped = ("DATABASE_URL", "MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", *without)
    environment = {k: v for k, v in os.environ.items() if k not in dropped}
    environment.update(DATA_DIR=str(data_dir), **env)
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(
    data_dir: Path, workers: int = 1, threads: int = 8, warm: bool = True, **env: str
) -> Iterator[str]:
    """The app under a real gunicorn (gthread workers), as deployed; yields its base URL.

    ``env`` adds environment variables (``ADMIN_TOKEN=...``) for the app. With ``warm``
    False it is yielded as soon as its port accepts connections, before any request.
    """
    import socket
    import urllib.request

    port = free_port()
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    # a browser's open WebSocket would hold a graceful stop for the whole 30 s
    environment.update(DATA_DIR=str(data_dir), ACCESS_LOG="", WEB_GRACEFUL_TIMEOUT="2", **env)
    log_path = data_dir.parent / f"gunicorn-{port}.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                GUNICORN_CONFIG,
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--bind",
                f"127.0.0.1:{port}",
                WSGI_APP,
            ],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a ceiling: a loaded two-core machine took over 60 s
        while True:
            try:
                if warm:
                    with urllib.request.urlopen(f"{url}/health", timeout=2):
                        break
                with socket.create_connection(("127.0.0.1", port), timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        "gunicorn did not start: " + log_path.read_text()[-2000:]
                    ) from None
                time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


@contextmanager
def run_local(data_dir: Path, *args: str, **env: str) -> Iterator[dict]:
    """``deploy/run-local.sh`` (nginx -> gunicorn) on free loopback ports, until it answers.

    Yields the nginx URL, the ports, the script's process, its log and the run folder;
    stops the stack with SIGTERM at exit.
    """
    import requests

    ports = {name: free_port() for name in ("PORT", "APP_PORT", "MLFLOW_PORT",
                                             "OPTUNA_DASHBOARD_PORT")}  # fmt: skip
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment.update(DATA_DIR=str(data_dir), ACCESS_LOG="", PYTHON=sys.executable)
    environment.update({**{k: str(v) for k, v in ports.items()}, **env})
    log_path = data_dir.parent / "run-local.log"
    with open(log_path, "w") as log:
        script = subprocess.Popen(
            ["bash", str(ROOT / "deploy" / "run-local.sh"), *args], cwd=ROOT, env=environment,
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{ports['PORT']}"
    stack = {"url": base, "ports": ports, "script": script, "log": log_path}
    stack["run"] = data_dir / "run"
    try:
        # MLflow, the Optuna dashboard, gunicorn and nginx start together: on a loaded
        # two-core machine that took over 90 s once, so the ceiling is generous
        deadline = time.monotonic() + 180
        while True:
            try:
                if requests.get(base + "/health", timeout=2).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass
            if script.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("run-local.sh did not come up:\n" + log_path.read_text())
            time.sleep(0.3)
        yield stack
    finally:
        if script.poll() is None:
            script.send_signal(signal.SIGTERM)
            try:
                script.wait(timeout=60)
            except subprocess.TimeoutExpired:
                script.kill()


def ws_messages(url: str, timeout: float = 120) -> list[dict]:
    """Every JSON message a WebSocket sends until the server closes it."""
    import json

    import websocket

    ws = websocket.create_connection(url, timeout=timeout)
    out = []
    try:
        while frame := ws.recv():
            out.append(json.loads(frame))
    except websocket.WebSocketConnectionClosedException:
        pass
    finally:
        ws.close()
    return out


def run_processes(data_dir: Path) -> list:
    """The processes of runs on this data directory: supervisors and executing processes.

    Matched by their DATA_DIR, so tests in other checkouts running at the same
    time on this machine keep theirs.
    """
    import psutil

    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if cmdline[1:4] != ["-m", "pipeline", "execute"] and cmdline[1:3] != [
            "-m",
            "pipeline.supervision",
        ]:
            continue
        try:
            if process.environ().get("DATA_DIR") == str(Path(data_dir).resolve()):
                found.append(process)
        except psutil.Error:
            continue
    return found


CHROMIUM = "/usr/bin/chromium"


CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def run_status(url: str, run_id: int) -> dict:
    import requests

    return requests.get(f"{url}/api/runs/{run_id}", timeout=30).json()


def wait_for_run(url: str, run_id: int, until, timeout: float = 240) -> dict:
    """Poll a run through the API until ``until(run)`` or the timeout; the last reading."""
    deadline = time.monotonic() + timeout
    while True:
        run = run_status(url, run_id)
        if until(run):
            return run
        if time.monotonic() > deadline:
            _print_why_not(url, run_id, run, timeout)
            return run
        time.sleep(0.2)


def _print_why_not(url: str, run_id: int, run: dict, timeout: float) -> None:
    """What a test that waited in vain shows (pytest prints a failing test's output): the
    run's row, its log's last lines and what the run's processes were doing."""
    import psutil
    import requests

    print(f"run {run_id} after {timeout:.0f} s: {run}")
    log = requests.get(f"{url}/api/runs/{run_id}/log.txt", timeout=30)
    print("its log ends:", *log.text.splitlines()[-30:], sep="\n  ")
    for process in psutil.process_iter(["pid", "ppid", "status", "cpu_times", "cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if "pipeline" in cmdline or "loky" in cmdline:
            print(f"  process {process.info}")


def expected_models(asked: set[str], metrics: dict | None) -> set[str]:
    """The models a run trains: those asked, the always candidates and, where a driver
    serves (``metrics["drivers"]``), the benchmarks past a plan."""
    from forecasting.models import ALWAYS, PAST_PLAN

    used = any(d.get("used") for d in ((metrics or {}).get("drivers") or {}).values())
    return {*asked, *ALWAYS, *(PAST_PLAN if used else ())}


def run_ended(run: dict) -> bool:
    return run["status"] not in ("queued", "running")
