"""Tracking against a real MLflow tracking server over http, as a deployment runs it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import mlflow
import pandas as pd
import pytest

from tests.support.frames import ROOT, SAMPLES


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def tracking_server(tmp_path):
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--backend-store-uri",
            f"sqlite:///{tmp_path / 'server.sqlite'}",
            "--artifacts-destination",
            str(tmp_path / "server-artifacts"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError("the MLflow server did not start") from None
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_run_tracks_and_registers_on_an_http_tracking_server(tracking_server, tmp_path):
    env = {
        **os.environ,
        "DATA_DIR": str(tmp_path / "data"),
        "MLFLOW_TRACKING_URI": tracking_server,
    }
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "run",
            "--csv",
            str(SAMPLES / "store_item_daily.csv"),
            "--models",
            "linear_trend",
            "--horizon",
            "7",
            "--jobs",
            "1",
            "--quiet",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (tmp_path / "data" / "mlflow.sqlite").exists()  # nothing tracked locally
    client = mlflow.MlflowClient(tracking_server, tracking_server)
    version = client.get_model_version_by_alias("sales-forecaster", "production")
    parent = client.get_run(version.run_id)
    assert parent.data.tags["pipeline_run_id"] == "1"
    mlflow.set_tracking_uri(tracking_server)
    try:
        model = mlflow.pyfunc.load_model("models:/sales-forecaster@production")
        frame = model.predict(pd.DataFrame({"horizon": [3]}))
    finally:
        mlflow.set_tracking_uri(None)
    assert len(frame) == 9 * 3
    assert list((tmp_path / "server-artifacts").iterdir()), "artifacts went through the server"
