"""Shared fixtures: the bundled samples and small generated frames at each frequency."""

from __future__ import annotations

import inspect
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from dashapp.__main__ import GUNICORN_CONFIG, WSGI_APP
from forecasting.frequency import frequency_from_alias
from forecasting.spec import DataSpec

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "dashapp" / "samples"


#: the files that take longest, measured (``--durations``): handed to the workers first, so
#: that no worker is left with a long file at the end while the others sit idle
SLOWEST_FILES = (
    "test_pipeline_runs.py",
    "test_run_processes.py",
    "test_crash_safety.py",
    "test_api.py",
    "test_cli.py",
    "test_browser_runs.py",
    "test_browser.py",
    "test_deploy.py",
)


#: the test pyramid's levels (``pytest -m unit`` for the quick answer while editing)
LEVELS = ("unit", "integration", "system")
#: files whose every test drives a real server, nginx, Chromium or kills processes
SYSTEM_FILES = {
    "test_app_start.py", "test_browser.py", "test_browser_runs.py", "test_crash_safety.py",
    "test_deploy.py", "test_mlflow_server.py", "test_mlflow_serving.py", "test_package.py",
    "test_run_processes.py",
    "test_websocket.py",
}  # fmt: skip
#: fixtures that put a test on a level: a served app or browser; a database, a client or
#: a trained data directory
SYSTEM_FIXTURES = {"live_server", "browser", "page"}
INTEGRATION_FIXTURES = {
    "database_url", "empty_client", "client", "trained_dir", "app_dir", "driver_client",
    "planned_client", "loop", "trained_monthly",
    "stack", "served",
}  # fmt: skip
#: what a test's own code does that makes it an integration test: another interpreter, a
#: command line run, the whole app
INTEGRATION_CALLS = ("cli(", "create_app(", "subprocess.")


def level_of(item: pytest.Item) -> str:
    """The test's level: its own marker, else what it uses (see the constants above)."""
    marked = [level for level in LEVELS if item.get_closest_marker(level)]
    if marked:
        return marked[0]
    fixtures = set(getattr(item, "fixturenames", ()))
    if item.path.name in SYSTEM_FILES or fixtures & SYSTEM_FIXTURES:
        return "system"
    source = inspect.getsource(item.function) if hasattr(item, "function") else ""
    if fixtures & INTEGRATION_FIXTURES or any(call in source for call in INTEGRATION_CALLS):
        return "integration"
    return "unit"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(level_of(item))

    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return SLOWEST_FILES.index(name) if name in SLOWEST_FILES else len(SLOWEST_FILES)

    items.sort(key=rank)  # stable: within a file, and among the rest, the order stays


@pytest.fixture(scope="session")
def ecommerce_csv() -> Path:
    return SAMPLES / "ecommerce_sales_data.csv"


@pytest.fixture(scope="session")
def store_item_csv() -> Path:
    return SAMPLES / "store_item_daily.csv"


def make_frame(
    n_series: int = 3,
    periods: int = 120,
    alias: str = "D",
    seed: int = 0,
    exog: bool = False,
    start: str = "2022-01-07",
) -> pd.DataFrame:
    """Seasonal series with trend and noise; ``promo`` lifts sales and is known in advance."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, periods=periods, freq=alias)
    m = frequency_from_alias(alias).season_length
    frames = []
    for i in range(n_series):
        season = 10 * np.sin(2 * np.pi * np.arange(periods) / m)
        promo = (rng.random(periods) < 0.15).astype(float)
        y = 100 + 20 * i + 0.2 * np.arange(periods) + season + 15 * promo
        y = y + rng.normal(0, 2, periods)
        frame = pd.DataFrame({"unique_id": f"s{i}", "ds": dates, "y": y})
        if exog:
            frame["promo"] = promo
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def spec_for(alias: str = "D", exog: tuple[str, ...] = (), country: str | None = "US") -> DataSpec:
    return DataSpec(frequency_from_alias(alias), exog=exog, country=country)


@pytest.fixture(autouse=True)
def _serial_joblib():
    """Tests run model fits in-process: faster for tiny data and easier to debug."""
    with joblib.parallel_config(n_jobs=1):
        yield


# --- the system of record: SQLite file and a real PostgreSQL server ---------------------------

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


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> Iterator[str]:
    with fresh_database_url(request.param, tmp_path) as url:
        yield url


# --- a trained system for the web app's tests ---------------------------------------------------

QUICK_RUN = ["--models", "linear_trend,xgboost", "--trials", "2", "--horizon", "14", "--jobs", "1"]


def cli(data_dir: Path, *args: str, timeout: float = 600, **env) -> subprocess.CompletedProcess:
    """``python -m pipeline ...`` on a data directory, as an operator runs it."""
    # the data directory's own stores: mlflow.set_tracking_uri in an earlier test of this
    # worker also exports MLFLOW_TRACKING_URI, which a child would inherit
    dropped = ("DATABASE_URL", "MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
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


@pytest.fixture(scope="session")
def trained_dir(tmp_path_factory, worker_id) -> Path:
    """A data directory with one succeeded, tracked run on the multi-series sample.

    Trained once per test session, not once per xdist worker: the workers share the
    session's base directory and take turns under a lock. Tests copy it (``app_dir``).
    """
    import fcntl

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if worker_id != "master" else base
    data_dir, done = shared / "trained" / "data", shared / "trained" / "done"
    with open(shared / "trained.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            result = cli(
                data_dir, "run", "--csv", str(SAMPLES / "store_item_daily.csv"), *QUICK_RUN,
                "--quiet",
            )  # fmt: skip
            assert result.returncode == 0, result.stdout + result.stderr
            done.touch()
    return data_dir


@pytest.fixture
def app_dir(trained_dir, tmp_path) -> Path:
    """A private copy of the trained data directory, so a test may change it."""
    import shutil

    target = tmp_path / "data"
    shutil.copytree(trained_dir, target)
    return target


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


@pytest.fixture
def live_server(app_dir) -> Iterator[str]:
    with gunicorn(app_dir) as url:
        yield url


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


@pytest.fixture
def empty_client(tmp_path):
    """The JSON API on an empty data directory (nothing trained), for uploads."""
    from dashapp import create_app

    app = create_app({"DATA_DIR": str(tmp_path / "data"), "TESTING": True})
    return app.server.test_client()


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


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright, one for the whole session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page that collects console errors in ``page.errors``."""
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()


def run_status(url: str, run_id: int) -> dict:
    import requests

    return requests.get(f"{url}/api/runs/{run_id}", timeout=30).json()


def wait_for_run(url: str, run_id: int, until, timeout: float = 240) -> dict:
    """Poll a run through the API until ``until(run)`` or the timeout; the last reading."""
    deadline = time.monotonic() + timeout
    while True:
        run = run_status(url, run_id)
        if until(run) or time.monotonic() > deadline:
            return run
        time.sleep(0.2)


def expected_models(asked: set[str], metrics: dict | None) -> set[str]:
    """The models a run trains: those asked, the always candidates and, where a driver
    serves (``metrics["drivers"]``), the benchmarks past a plan."""
    from forecasting.models import ALWAYS, PAST_PLAN

    used = any(d.get("used") for d in ((metrics or {}).get("drivers") or {}).values())
    return {*asked, *ALWAYS, *(PAST_PLAN if used else ())}


def run_ended(run: dict) -> bool:
    return run["status"] not in ("queued", "running")
