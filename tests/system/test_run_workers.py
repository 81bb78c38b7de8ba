"""Runs on Celery workers (``REDIS_URL``): a real ``redis-server`` on loopback, two
``python -m pipeline worker`` processes, the pages' ``python -m dashapp worker`` and
the app under gunicorn, all on one data directory. Runs from the API and from the
Retraining page execute in a worker's child; cancel lands; ``kill -9`` of the worker
running a run fails it and production keeps serving; Redis away is a 503 that starts
nothing."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests
from playwright.sync_api import expect

from tests.support.frames import ROOT
from tests.support.servers import free_port, gunicorn, run_ended, run_status, wait_for_run

#: short, so a worker lost on "another host" would be named quickly; same host is at once
STALL_SECONDS = "30"
QUICK = {"models": ["seasonal_naive", "ets"], "horizon": 14}
#: long enough to be caught running: tuning trials of the tree model
SLOW = {"models": ["xgboost"], "trials": 20, "horizon": 14}


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class Cluster:
    """The processes of a small deployment."""

    def __init__(self, data_dir: Path, redis: subprocess.Popen, redis_url: str):
        self.data_dir, self.redis, self.redis_url = data_dir, redis, redis_url
        self.workers: list[subprocess.Popen] = []
        self.others: list[subprocess.Popen] = []
        self.env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        self.env.update(
            DATA_DIR=str(data_dir), REDIS_URL=redis_url, RUN_STALL_SECONDS=STALL_SECONDS
        )

    def start(self, run_workers: int) -> None:
        """The run workers and the pages' worker, started side by side, until all are ready."""
        names = [("pipeline", f"runs-{i}") for i in range(run_workers)] + [("dashapp", "pages")]
        logs = []
        for module, name in names:
            logs.append(self.data_dir.parent / f"{name}.log")
            with open(logs[-1], "w") as out:
                process = subprocess.Popen(
                    [sys.executable, "-m", module, "worker"],
                    cwd=ROOT,
                    env=self.env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            (self.workers if module == "pipeline" else self.others).append(process)
        for log in logs:
            _wait_for(lambda log=log: " ready." in log.read_text(), 90, f"{log.stem} ready")

    def worker_of(self, run_id: int) -> psutil.Process:
        """The run worker whose child executes the run, found while it runs."""

        def executing():
            for process in psutil.process_iter(["cmdline"]):
                if (process.info["cmdline"] or [])[3:5] != ["execute", str(run_id)]:
                    continue
                try:  # this deployment's run, not another one's on the same machine
                    if process.environ().get("DATA_DIR") == str(self.data_dir):
                        return process
                except psutil.Error:
                    continue
            return None

        parent = _wait_for(executing, 60, f"run {run_id}'s process").parent()
        return parent

    def stop(self) -> None:
        for process in [*self.workers, *self.others, self.redis]:
            if process.poll() is None:
                process.terminate()
        for process in [*self.workers, *self.others, self.redis]:
            try:  # with Redis gone a worker retries its connection instead of stopping
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def cluster(trained_dir, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("workers") / "data"
    shutil.copytree(trained_dir, data_dir)
    port = free_port()
    redis = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    cluster = Cluster(data_dir, redis, f"redis://127.0.0.1:{port}/0")
    try:
        cluster.start(run_workers=2)
        with gunicorn(
            data_dir, REDIS_URL=cluster.redis_url, RUN_STALL_SECONDS=STALL_SECONDS
        ) as url:
            cluster.url = url
            yield cluster
    finally:
        cluster.stop()


def _start(url: str, body: dict) -> dict:
    answer = requests.post(url + "/api/runs", json=body, timeout=60)
    assert answer.status_code == 202, answer.text
    return answer.json()


def test_a_run_from_the_api_executes_on_a_worker_and_a_second_start_is_409(cluster):
    url = cluster.url
    assert requests.get(url + "/health", timeout=30).json()["queue"] is True
    run = _start(url, QUICK)
    worker = cluster.worker_of(run["id"])
    assert worker.pid in {w.pid for w in cluster.workers}  # not the web app's process tree
    second = requests.post(url + "/api/runs", json=QUICK, timeout=60)
    assert second.status_code == 409 and second.json()["running_run_id"] == run["id"]
    seen = []
    done = wait_for_run(url, run["id"], lambda r: seen.append(r["progress"]) or run_ended(r))
    assert done["status"] == "succeeded" and done["production"], done
    assert done["progress"] == 1.0 and any(0 < p < 1 for p in seen), seen  # live progress
    log = requests.get(f"{url}/api/runs/{run['id']}/logs", timeout=30).json()
    assert f"run {run['id']} succeeded" in log["text"], log["text"][-500:]


def test_a_cancel_lands_on_a_worker(cluster):
    url = cluster.url
    run = _start(url, SLOW)
    cluster.worker_of(run["id"])
    wait_for_run(url, run["id"], lambda r: r["status"] == "running" and r["step"] == "train")
    asked = time.monotonic()
    requests.post(f"{url}/api/runs/{run['id']}/cancel", timeout=30).raise_for_status()
    ended = wait_for_run(url, run["id"], run_ended, timeout=30)
    assert ended["status"] == "cancelled", ended
    assert time.monotonic() - asked < 12


def test_start_from_the_retraining_page_runs_on_a_worker(cluster, page):
    url = cluster.url
    before = {r["id"] for r in requests.get(url + "/api/runs", timeout=30).json()["runs"]}
    page.goto(url + "/retraining")
    for name in ("linear_trend", "recent_mean", "prophet", "sarima", "arima", "theta", "ces",
                 "xgboost", "random_forest"):  # fmt: skip
        page.get_by_label(name, exact=True).uncheck()
    page.get_by_label("I understand").check()
    page.click("#retraining-start")
    run_id = _wait_for(
        lambda: (
            {r["id"] for r in requests.get(url + "/api/runs", timeout=30).json()["runs"]} - before
        ),
        60,
        "the page's run",
    ).pop()
    assert cluster.worker_of(run_id).pid in {w.pid for w in cluster.workers}
    expect(page.locator("#retraining-outcome")).to_contain_text(
        f"Run {run_id} succeeded", timeout=240_000
    )
    expect(page.locator("#retraining-progress [role=progressbar]")).to_have_attribute(
        "aria-valuenow", "100"
    )
    assert page.errors == []


def test_kill_9_of_the_worker_running_a_run_fails_it_and_production_serves(cluster):
    url = cluster.url
    serving = requests.get(url + "/health", timeout=30).json()["production_run_id"]
    run = _start(url, SLOW)
    worker = cluster.worker_of(run["id"])
    wait_for_run(url, run["id"], lambda r: r["status"] == "running")
    worker.send_signal(signal.SIGKILL)
    ended = wait_for_run(url, run["id"], run_ended, timeout=int(STALL_SECONDS) + 30)
    assert ended["status"] == "failed", ended
    assert "ended without finishing it" in ended["error"], ended["error"]
    assert requests.get(url + "/health", timeout=30).json()["production_run_id"] == serving
    forecast = requests.post(url + "/api/forecast", json={"horizon": 7}, timeout=120)
    assert forecast.status_code == 200, forecast.text
    again = _start(url, SLOW)  # the worker left takes the next run
    assert cluster.worker_of(again["id"]).pid != worker.pid
    requests.post(f"{url}/api/runs/{again['id']}/cancel", timeout=30).raise_for_status()
    assert wait_for_run(url, again["id"], run_ended, timeout=30)["status"] == "cancelled"


def test_redis_away_is_a_503_that_starts_nothing(cluster, ecommerce_csv):
    url = cluster.url
    runs_before = requests.get(url + "/api/runs", timeout=30).json()["runs"]
    uploads = cluster.data_dir / "uploads"
    kept_before = sorted(uploads.iterdir()) if uploads.is_dir() else []
    cluster.redis.terminate()
    cluster.redis.wait(timeout=30)
    refused = requests.post(url + "/api/runs", json=QUICK, timeout=60)
    assert refused.status_code == 503, refused.text
    assert "Redis" in refused.json()["detail"] and "nothing was started" in refused.json()["detail"]
    with open(ecommerce_csv, "rb") as handle:
        upload = requests.post(url + "/api/upload", files={"file": handle}, timeout=60)
    assert upload.status_code == 503, upload.text
    assert requests.get(url + "/api/runs", timeout=30).json()["runs"] == runs_before
    assert (sorted(uploads.iterdir()) if uploads.is_dir() else []) == kept_before
    assert run_status(url, runs_before[0]["id"])["status"] == runs_before[0]["status"]
    health = requests.get(url + "/health", timeout=30)
    assert health.status_code == 200 and health.json()["queue"] is False, health.text
    assert health.json()["status"] == "degraded"
