"""The README's first command: ``python -m dashapp`` on a fresh data directory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import requests

from dashapp.__main__ import SAMPLE as BUNDLED_SAMPLE
from tests.support.servers import free_port, gunicorn


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def test_the_app_starts_and_trains_its_sample_by_itself(tmp_path):
    """The README's first command trains the bundled sample with the default choice rule
    of any run (about a minute from the start on 2 cores; ``bench/suite.py`` times runs)."""
    assert BUNDLED_SAMPLE.is_file()  # what the app trains without --sample
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DATA_DIR"] = "var"  # relative, as by default: resolved where the command runs
    app = subprocess.Popen(
        [sys.executable, "-m", "dashapp", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        production = None
        while time.monotonic() < deadline and production is None:
            time.sleep(2)
            try:
                production = _get(f"{base}/health")["production_run_id"]
            except OSError:
                assert app.poll() is None, app.stdout.read()
        assert production == 1, "the sample run never finished"
        run = _get(f"{base}/api/runs/1")
        assert run["status"] == "succeeded" and run["kind"] == "run"
        assert run["options"]["source_name"] == BUNDLED_SAMPLE.name
        assert run["options"]["models"] is None  # the default set, as any run's default
        assert run["metrics"]["screened"] == []  # 9 series: the dear models validated whole
        assert run["selected_model"]
        assert (tmp_path / "var" / "app.sqlite").is_file()
        with urllib.request.urlopen(f"{base}/", timeout=5) as page:
            assert b"Sales forecasting" in page.read()
    finally:
        os.killpg(app.pid, signal.SIGTERM)
        app.wait(timeout=30)


def test_the_first_page_after_a_start_gets_every_script_bundle(tmp_path):
    """Requests reaching a fresh gthread worker together all get their bundles (a blank
    first page otherwise: Dash registered its bundles on the first request, plotly/dash#3971)."""
    bundle = "/_dash-component-suites/dash/dash-renderer/build/dash_renderer.min.js"
    paths = ["/", *[bundle] * 15]
    with gunicorn(tmp_path / "data", warm=False) as url, ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(lambda p: requests.get(url + p, timeout=60).status_code, paths))
    assert codes == [200] * 16, codes


def test_gunicorn_wsgi_server_starts_from_a_checkout_and_serves_the_top_level_assets(tmp_path):
    """The design card's layout: ``wsgi.py`` and ``assets/`` at the top of the repository,
    so ``gunicorn wsgi:server`` works from a checkout as Dash's deployment guides say."""
    from tests.support.frames import ROOT

    assert (ROOT / "wsgi.py").is_file() and (ROOT / "assets" / "app.css").is_file()
    port = free_port()
    env = {**os.environ, "DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "wsgi:server"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                health = requests.get(f"{base}/health", timeout=30)
                break
            except (requests.ConnectionError, requests.Timeout):  # booting, on a busy machine
                assert time.monotonic() < deadline and server.poll() is None, "did not start"
                time.sleep(0.5)
        assert health.status_code == 200
        css = requests.get(f"{base}/assets/app.css", timeout=10)
        assert css.status_code == 200 and css.text == (ROOT / "assets" / "app.css").read_text()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=45)
