"""Shared fixtures: the bundled samples and small generated frames at each frequency."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import joblib
import pytest

from tests.support.frames import ROOT, SAMPLES, make_frame, spec_for  # noqa: F401
from tests.support.servers import (
    BACKENDS,
    CHROMIUM,
    CHROMIUM_FLAGS,
    QUICK_RUN,
    cli,
    fresh_database_url,
    gunicorn,
)

#: the files that take longest, measured (``--durations``): handed to the workers first, so
#: that no worker is left with a long file at the end while the others sit idle
SLOWEST_FILES = (
    "test_pipeline_runs.py",
    "test_browser.py",
    "test_planner_loop.py",
    "test_browser_runs.py",
    "test_app_start.py",
    "test_crash_safety.py",
    "test_api.py",
    "test_run_processes.py",
    "test_cli.py",
    "test_deploy.py",
    "test_package.py",
    "test_api_runs.py",
    "test_browser_loop.py",
    "test_websocket.py",
)


#: the test pyramid's levels (``pytest -m unit`` for the quick answer while editing)
LEVELS = ("unit", "integration", "system")


def level_of(item: pytest.Item) -> str:
    """The test's level: the folder it lives in (``tests/unit``, ``tests/integration``,
    ``tests/system``); a test outside them is refused, not guessed."""
    level = item.path.parent.name
    if level not in LEVELS:
        raise pytest.UsageError(
            f"{item.path} is outside tests/unit, tests/integration and tests/system: "
            "move it to the folder of its level"
        )
    return level


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


@pytest.fixture(autouse=True)
def _serial_joblib():
    """Tests run model fits in-process: faster for tiny data and easier to debug."""
    with joblib.parallel_config(n_jobs=1):
        yield


# --- the system of record: SQLite file and a real PostgreSQL server ---------------------------


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> Iterator[str]:
    with fresh_database_url(request.param, tmp_path) as url:
        yield url


# --- a trained system for the web app's tests ---------------------------------------------------


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


@pytest.fixture
def client(app_dir):
    """The API's test client on a private copy of the trained data directory."""
    from dashapp import create_app

    app = create_app({"DATA_DIR": str(app_dir), "TESTING": True})
    app.server.config["APP_DIR"] = app_dir
    return app.server.test_client()


@pytest.fixture
def live_server(app_dir) -> Iterator[str]:
    with gunicorn(app_dir) as url:
        yield url


@pytest.fixture
def empty_client(tmp_path):
    """The JSON API on an empty data directory (nothing trained), for uploads."""
    from dashapp import create_app

    app = create_app({"DATA_DIR": str(tmp_path / "data"), "TESTING": True})
    return app.server.test_client()


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
