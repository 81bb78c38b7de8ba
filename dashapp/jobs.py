"""Launching runs from the web: a Dash background job, or a detached process for the API.

Either way the run is plain ``pipeline`` code reading its options from the
run's row; only the run id crosses the process boundary.
"""

from __future__ import annotations

import os
import subprocess
import sys

from dashapp.state import AppState
from pipeline.options import RunOptions


def run_options(state: AppState, body: dict) -> RunOptions:
    kwargs = {
        "kind": "train",
        "dataset_id": body.get("dataset_id") or state.service.dataset_id(),
        "trials": body.get("trials") or 0,
        "horizon": body.get("horizon"),
        "timeout": body.get("timeout"),
    }
    if body.get("models"):
        kwargs["models"] = list(body["models"])
    return RunOptions(**kwargs)


def settings_env(state: AppState) -> dict:
    """The environment a child process needs to open the same system."""
    s = state.settings
    env = dict(os.environ)
    env["DATA_DIR"] = str(s.data_dir.resolve())
    env["DATABASE_URL"] = s.resolved_database_url()
    env["MLFLOW_TRACKING_URI"] = s.resolved_mlflow_uri()
    env["OPTUNA_STORAGE"] = s.resolved_optuna_storage()
    return env


def launch_detached(state: AppState, run_id: int) -> subprocess.Popen:
    """Execute a queued run in its own process (survives a web worker's restart)."""
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "execute", str(run_id), "--quiet"],
        env=settings_env(state),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
