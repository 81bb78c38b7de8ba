"""A plain ``pip install .`` (not editable) serves the dashboard's CSS, ships the
first-start samples and trains a first file: what the app needs besides code ships as
package data. (The first start on the bundled sample itself is
``tests/system/test_app_start.py``'s: here a small file keeps the install test short.)"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest
import requests

from tests.support.frames import ROOT, make_frame
from tests.support.servers import free_port

SHIPPED = ["forecasting", "pipeline", "storage", "dashapp", "pyproject.toml", "README.md"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A virtual environment with the product installed from a copy of the source (the
    libraries come from the system's site-packages, so nothing is downloaded)."""
    work = tmp_path_factory.mktemp("package")
    source = work / "source"
    source.mkdir()
    for name in SHIPPED:
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy(ROOT / name, source / name)
    # the wheel is built with this interpreter's setuptools (a new venv's may be too old)
    build = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    done = subprocess.run([*build, "-w", work / "dist", source], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = venv / "bin" / "python"
    if sys.prefix != sys.base_prefix:  # run from a venv: its libraries are not the system's
        _see_libraries_of_this_interpreter(python)
    wheel = next((work / "dist").glob("salesforecast-*.whl"))
    install = [python, "-m", "pip", "install", "-q", "--no-deps", wheel]
    done = subprocess.run(install, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    shutil.rmtree(source)  # nothing may come from the source tree any more
    return work, python


def _see_libraries_of_this_interpreter(python) -> None:
    """Let the new venv import what this interpreter's venv has installed (after its own
    site-packages, so the wheel installed there still wins)."""
    purelib = sysconfig.get_paths()["purelib"]
    theirs = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    (Path(theirs) / "_outer_venv.pth").write_text(purelib + "\n")


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DATABASE_URL")}
    return {**env, **extra}


def test_the_installed_package_is_what_runs(installed):
    work, python = installed
    where = subprocess.run(
        [python, "-c", "import dashapp, pipeline; print(dashapp.__file__, pipeline.__file__)"],
        cwd=work, env=_clean_env(), capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert all(path.startswith(str(work / "venv")) for path in where.stdout.split()), where.stdout


def test_python_m_dashapp_serves_the_css_ships_its_samples_and_trains_a_first_file(installed):
    work, python = installed
    shipped = subprocess.run(
        [python, "-c", "from dashapp.__main__ import SAMPLE; print(SAMPLE.parent)"],
        cwd=work, env=_clean_env(), capture_output=True, text=True, timeout=120, check=True,
    ).stdout.strip()  # fmt: skip
    assert shipped.startswith(str(work / "venv")), shipped
    for name in ("store_item_daily.csv", "ecommerce_sales_data.csv"):
        assert (Path(shipped) / name).stat().st_size > 10_000, name
    first = work / "first.csv"
    frame = make_frame(n_series=2, periods=120)
    frame.rename(columns={"unique_id": "store", "ds": "date", "y": "units"}).to_csv(
        first, index=False
    )
    port = free_port()
    env = _clean_env(DATA_DIR=str(work / "data"))
    log = open(work / "dashapp.log", "w")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [python, "-m", "dashapp", "--port", str(port), "--workers", "1", "--sample", first],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        css = _wait_for(lambda: requests.get(f"{base}/assets/app.css", timeout=5), 90)
        assert css.status_code == 200 and "Bootstrap" in css.text, css.text[:200]
        assert requests.get(f"{base}/assets/bootstrap.min.css", timeout=5).status_code == 200
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            models = requests.get(f"{base}/api/models", timeout=5).json()
            if models["run_id"] is not None:
                break
            time.sleep(2)
        assert models["run_id"] == 1, (work / "dashapp.log").read_text()[-3000:]
        forecast = requests.post(f"{base}/api/forecast", json={"horizon": 7}, timeout=30)
        assert forecast.status_code == 200 and len(forecast.json()["predictions"]) == 7
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # gunicorn's graceful stop waits up to 30 s
        try:
            server.wait(timeout=45)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def _wait_for(get, seconds: float):
    deadline = time.monotonic() + seconds
    while True:
        try:
            return get()
        except (requests.ConnectionError, requests.Timeout):  # still starting
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
