"""Pipeline runs end to end, as an operator drives them from the command line.

Each backend (a SQLite file, a real PostgreSQL server) gets a fresh data
directory and database; MLflow and Optuna use their real SQLite stores there.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import optuna
import pandas as pd
import pytest

from storage.database import Database
from storage.results import model_results
from tests.support.frames import ROOT, SAMPLES
from tests.support.servers import BACKENDS, expected_models, fresh_database_url

SAMPLE = SAMPLES / "store_item_daily.csv"
QUICK = ["--models", "linear_trend,xgboost", "--trials", "2", "--horizon", "14", "--jobs", "1"]
#: a run slow enough to interrupt: hundreds of tuning trials
SLOW = ["--models", "xgboost,random_forest", "--trials", "500", "--horizon", "14", "--jobs", "1"]


@dataclass
class Stack:
    data_dir: Path
    database_url: str

    @property
    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI",)}
        env.update(DATA_DIR=str(self.data_dir), DATABASE_URL=self.database_url)
        return env

    def cli(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "pipeline", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "pipeline", *args],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def runs(self) -> dict:
        result = self.cli("runs", "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def run(self, run_id: int) -> dict:
        return next(r for r in self.runs()["runs"] if r["id"] == run_id)

    def wait_for(self, run_id: int, predicate, timeout: float = 120) -> dict:
        """Poll the database directly (no recovery side effects) until ``predicate(run)``."""
        from storage.run_reads import get_run

        db = Database(self.database_url)
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                run = get_run(db, run_id)
                if run and predicate(run):
                    return run
                time.sleep(0.3)
        finally:
            db.dispose()
        raise AssertionError(f"run {run_id} never reached the state; last: {run}")


@pytest.fixture(scope="module", params=BACKENDS)
def stack(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"stack-{request.param}")
    with fresh_database_url(request.param, tmp) as url:
        stack = Stack(tmp / "data", url)
        result = stack.cli("run", "--csv", str(SAMPLE), *QUICK, "--quiet")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "run 1 succeeded" in result.stdout
        yield stack


def _latest_id(stack: Stack) -> int:
    return max(r["id"] for r in stack.runs()["runs"])


def test_a_full_run_is_recorded_and_serves(stack):
    listing = stack.runs()
    run = stack.run(1)
    assert listing["production"]["run_id"] == 1
    assert run["status"] == "succeeded" and run["production"] and run["progress"] == 1.0
    assert run["selected_model"] and run["dataset_id"] == 1
    assert set(run["step_seconds"]) == {"ingest", "eda", "train", "forecast"}
    assert {"mase", "rmsse", "wape", "coverage80", "coverage95"} <= set(run["metrics"])
    assert run["started_at"] <= run["finished_at"]
    # the run's log, with timestamps, from start to finish
    log = (stack.data_dir / "logs" / "1.log").read_text()
    assert log.splitlines()[0].startswith(time.strftime("%Y-"))
    assert "step train finished" in log and "run 1 succeeded" in log
    # model artifacts and the EDA report are where the app will look
    assert (stack.data_dir / "models" / "1" / "serving.pkl").is_file()
    report = json.loads((stack.data_dir / "reports/eda/1/report.json").read_text())
    assert report["overview"]["series"] == 9


def test_mlflow_holds_the_parent_the_children_and_the_production_model(stack):
    uri = f"sqlite:///{stack.data_dir / 'mlflow.sqlite'}"
    client = mlflow.MlflowClient(uri, uri)
    experiment = client.get_experiment_by_name("sales-forecasting")
    found = client.search_runs(
        [experiment.experiment_id], filter_string="tags.pipeline_run_id = '1'"
    )
    parents = [r for r in found if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in found if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1
    parent = parents[0]
    trained = expected_models({"linear_trend", "xgboost"}, stack.run(1)["metrics"])
    assert {c.data.tags["model"] for c in children} == trained
    assert all(c.data.tags["mlflow.parentRunId"] == parent.info.run_id for c in children)
    xgb = next(c for c in children if c.data.tags["model"] == "xgboost")
    assert {"validation_mase", "test_mase", "test_rmsse", "tuning_trials"} <= set(xgb.data.metrics)
    assert "n_estimators" in xgb.data.params
    names = {a.path for a in client.list_artifacts(xgb.info.run_id)}
    assert {"heldout.json", "feature_importance.json", "feature_importance.png"} <= names
    assert "model" not in names  # one pyfunc per run, on the parent, for every model
    # every candidate's held-out forecast as data; a figure of it where the model serves
    db = Database(stack.database_url)
    served = {m["model"] for m in model_results(db, 1) if m["selected"]}
    db.dispose()
    for child in children:
        drawn = "forecast.png" in {a.path for a in client.list_artifacts(child.info.run_id)}
        assert drawn == (child.data.tags["model"] in served), child.data.tags["model"]
    heldout = mlflow.artifacts.load_dict(f"{xgb.info.artifact_uri}/heldout.json")
    assert len(heldout["ds"]) == len(heldout["actual"]) == len(heldout["forecast"]) > 0
    assert "eda" in {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert parent.data.metrics["test_mase"] == pytest.approx(stack.run(1)["metrics"]["mase"], 1e-3)
    version = client.get_model_version_by_alias("sales-forecaster", "production")
    assert version.run_id == parent.info.run_id
    mlflow.set_tracking_uri(uri)
    model = mlflow.pyfunc.load_model("models:/sales-forecaster@production")
    frame = model.predict(pd.DataFrame({"horizon": [5]}))
    assert len(frame) == 9 * 5
    assert (frame["lo95"] <= frame["yhat"]).all() and (frame["yhat"] <= frame["hi95"]).all()
    one_model = model.predict(pd.DataFrame({"horizon": [5], "model": ["xgboost"]}))
    assert len(one_model) == 9 * 5 and not np.allclose(one_model["yhat"], frame["yhat"])


def test_optuna_studies_are_stored_per_run_and_model(stack):
    storage = f"sqlite:///{stack.data_dir / 'optuna.sqlite'}"
    studies = {s.study_name: s for s in optuna.get_all_study_summaries(storage)}
    assert {"run-1-linear_trend", "run-1-xgboost"} <= set(studies)
    assert studies["run-1-xgboost"].n_trials == 2


def test_forecast_from_production_for_one_series(stack, tmp_path):
    out = tmp_path / "f.csv"
    result = stack.cli(
        "forecast", "--horizon", "5", "--series", "store=north/item=mug", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    frame = pd.read_csv(out)
    assert len(frame) == 5
    assert set(frame[["store", "item"]].drop_duplicates().itertuples(index=False)) == {
        ("north", "mug")
    }
    bad = stack.cli("forecast", "--horizon", "5", "--series", "nope")
    assert bad.returncode == 2 and "Unknown series nope" in bad.stderr


def test_a_second_start_is_refused_and_cancel_stops_the_run(stack):
    """A run that stores the file, then trains: cancelled while training, it leaves the
    data as they were (a stranger's cancelled run left its version behind)."""
    from storage.datasets import latest_dataset_id

    db = Database(stack.database_url)
    stored_before = latest_dataset_id(db)
    slow = stack.start("run", "--csv", str(SAMPLE), *SLOW, "--quiet", "--no-tracking")
    try:
        run_id = _wait_new_run(stack)
        stack.wait_for(run_id, lambda r: r["step"] == "train" and r["status"] == "running")
        second = stack.cli("train", *QUICK, "--quiet")
        assert second.returncode == 3
        assert f"Run {run_id} is already in progress" in second.stderr
        asked = time.monotonic()
        cancel = stack.cli("cancel", str(run_id))
        assert cancel.returncode == 0 and "cancellation requested" in cancel.stdout
        run = stack.wait_for(run_id, lambda r: r["status"] == "cancelled", timeout=60)
        took = time.monotonic() - asked
        assert slow.wait(timeout=60) == 1
    finally:
        slow.kill()
    assert took < 30, f"cancelling took {took:.0f}s"
    assert "Cancelled on request during step train" in run["error"]
    assert stack.runs()["production"]["run_id"] == 1
    assert not (stack.data_dir / "models" / str(run_id)).exists()
    assert latest_dataset_id(db) == stored_before and run["dataset_id"] is None
    reports = stack.data_dir / "reports" / "eda"
    assert sorted(p.name for p in reports.iterdir()) == [str(stored_before)]  # its EDA gone
    db.dispose()


def test_kill_9_mid_run_is_marked_failed_and_production_keeps_serving(stack, tmp_path):
    """Killed after its ingest, a run leaves the data as they were: the version it stored
    goes when the next command finds the run dead (a stranger's killed run kept it)."""
    from storage.datasets import latest_dataset_id

    db = Database(stack.database_url)
    stored_before = latest_dataset_id(db)
    before = stack.cli("forecast", "--horizon", "3")
    slow = stack.start("run", "--csv", str(SAMPLE), *SLOW, "--quiet", "--no-tracking")
    try:
        run_id = _wait_new_run(stack)
        stack.wait_for(run_id, lambda r: r["step"] == "train" and r["progress"] > 0.01)
    finally:
        os.kill(slow.pid, signal.SIGKILL)
        slow.wait()
    listing = stack.runs()  # the next start of the command line recovers
    run = next(r for r in listing["runs"] if r["id"] == run_id)
    assert run["status"] == "failed"
    assert "killed or crashed" in run["error"] and "during step train" in run["error"]
    assert listing["production"]["run_id"] == 1
    after = stack.cli("forecast", "--horizon", "3")
    assert after.returncode == 0 and after.stdout == before.stdout
    assert latest_dataset_id(db) == stored_before and run["dataset_id"] is None
    reports = stack.data_dir / "reports" / "eda"
    assert sorted(p.name for p in reports.iterdir()) == [str(stored_before)]
    log = (stack.data_dir / "logs" / f"{run_id}.log").read_text()
    assert "which this run stored, is removed" in log
    assert db.integrity_ok()
    db.dispose()
    assert not [p for p in (stack.data_dir / "models").iterdir() if p.name.startswith(".")]


def _wait_new_run(stack: Stack, timeout: float = 60) -> int:
    """The id of the run the background process just created."""
    known = max(r["id"] for r in stack.runs()["runs"])
    deadline = time.monotonic() + timeout
    db = Database(stack.database_url)
    try:
        from storage.run_rows import active_run_id

        while time.monotonic() < deadline:
            active = active_run_id(db)
            if active is not None and active > known - 1:
                return active
            time.sleep(0.2)
    finally:
        db.dispose()
    raise AssertionError("the background run never started")
