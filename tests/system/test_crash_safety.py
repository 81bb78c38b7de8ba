"""Concurrency and crashes against a real gunicorn: simultaneous starts, reads during a run,
and kill -9 of a worker, of the training process and of the whole app."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest
import requests

from storage.database import Database
from tests.support.servers import gunicorn, run_ended, run_processes, run_status, wait_for_run

SLOW_RUN = {"models": ["xgboost", "random_forest"], "trials": 30, "horizon": 7}
QUICK_RUN = {"models": ["linear_trend"], "horizon": 7}


def _forecast(url: str) -> dict:
    response = requests.post(url + "/api/forecast", json={"horizon": 14}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def _training(run: dict) -> bool:
    return run["step"] == "train" or run_ended(run)


def _job(data_dir: Path, run_id: int) -> psutil.Process:
    """``python -m pipeline execute ID``: the process executing a run on this data directory."""
    for process in run_processes(data_dir):
        if process.cmdline()[2:5] == ["pipeline", "execute", str(run_id)]:
            return process
    raise AssertionError(f"no process executes run {run_id}")


def _start_slow_run(url: str) -> tuple[dict, int]:
    """The forecast served before, and a run that is training (still running)."""
    before = _forecast(url)
    run_id = requests.post(url + "/api/runs", json=SLOW_RUN, timeout=30).json()["id"]
    assert wait_for_run(url, run_id, _training)["status"] == "running"
    return before, run_id


def _is_worker(process: psutil.Process) -> bool:
    try:  # a killed worker is a zombie until the master reaps it
        return process.status() != psutil.STATUS_ZOMBIE and "gunicorn" in " ".join(
            process.cmdline()
        )
    except psutil.Error:
        return False


def _gunicorn_processes(url: str) -> tuple[psutil.Process, list[psutil.Process]]:
    bind = url.removeprefix("http://")
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if "gunicorn" in " ".join(cmdline) and bind in cmdline:
            return process, [c for c in process.children() if _is_worker(c)]
    raise AssertionError("gunicorn master not found")


@pytest.fixture(autouse=True)
def _no_run_outlives_its_test(app_dir):
    """A failing test must not leave training running to slow the rest of the suite."""
    yield
    for process in run_processes(app_dir):
        process.kill()


def _assert_nothing_half_written(data_dir: Path) -> None:
    db = Database(f"sqlite:///{data_dir / 'app.sqlite'}")
    assert db.integrity_ok()
    db.dispose()
    assert not list((data_dir / "models").glob(".partial-*"))


def test_two_simultaneous_starts_one_runs_and_the_other_gets_409(app_dir):
    with gunicorn(app_dir, workers=2) as url:
        for _ in range(2):
            barrier = threading.Barrier(2)

            def start(_, barrier=barrier):
                barrier.wait()
                return requests.post(url + "/api/runs", json=QUICK_RUN, timeout=60)

            with ThreadPoolExecutor(2) as pool:
                answers = list(pool.map(start, range(2)))
            assert sorted(a.status_code for a in answers) == [202, 409], [a.text for a in answers]
            started = next(a for a in answers if a.status_code == 202).json()["id"]
            refused = next(a for a in answers if a.status_code == 409).json()
            assert refused["running_run_id"] == started
            requests.post(f"{url}/api/runs/{started}/cancel", timeout=30)
            assert run_ended(wait_for_run(url, started, run_ended))


def test_forecasts_answer_during_a_run_and_switch_to_the_new_model_whole(app_dir):
    with gunicorn(app_dir, workers=2) as url:
        before = _forecast(url)
        started = requests.post(
            url + "/api/runs", json={"models": ["linear_trend"], "horizon": 14}, timeout=30
        ).json()["id"]
        seen = {before["run_id"]: before["predictions"]}
        slowest = 0.0
        while not run_ended(run_status(url, started)):
            began = time.monotonic()
            body = _forecast(url)
            slowest = max(slowest, time.monotonic() - began)
            # every answer is wholly one run's forecast, never a mix
            assert seen.setdefault(body["run_id"], body["predictions"]) == body["predictions"]
            time.sleep(0.05)  # leave the run some of the two cores
        assert run_status(url, started)["status"] == "succeeded"
        after = _forecast(url)
        assert after["run_id"] == started
        assert seen.setdefault(started, after["predictions"]) == after["predictions"]
        assert set(seen) == {before["run_id"], started}
        # a generous bound: a read waiting on the run's writes would take the 30 s busy timeout
        assert slowest < 5, f"a forecast took {slowest:.1f} s during training"


def test_kill_9_of_a_web_worker_leaves_the_run_and_the_service_standing(app_dir):
    with gunicorn(app_dir, workers=2) as url:
        before, run_id = _start_slow_run(url)
        master, workers = _gunicorn_processes(url)
        os.kill(workers[0].pid, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while len(_gunicorn_processes(url)[1]) < 2 and time.monotonic() < deadline:
            time.sleep(0.3)
        assert len(_gunicorn_processes(url)[1]) == 2, "the master did not replace the worker"
        assert _forecast(url)["predictions"] == before["predictions"]
        # the run is its own process: it carries on and finishes
        assert run_status(url, run_id)["status"] == "running"
        requests.post(f"{url}/api/runs/{run_id}/cancel", timeout=30)
        assert wait_for_run(url, run_id, run_ended)["status"] == "cancelled"
        assert master.is_running()
    _assert_nothing_half_written(app_dir)


def test_kill_9_of_the_training_process_fails_the_run_and_keeps_production(app_dir):
    with gunicorn(app_dir, workers=2) as url:
        before, run_id = _start_slow_run(url)
        _job(app_dir, run_id).kill()
        run = wait_for_run(url, run_id, run_ended, timeout=30)
        assert run["status"] == "failed"
        assert "killed or crashed" in run["error"] and "during step train" in run["error"]
        assert _forecast(url) == before
        # the slot is free again
        again = requests.post(url + "/api/runs", json=QUICK_RUN, timeout=30)
        assert again.status_code == 202, again.text
        assert wait_for_run(url, again.json()["id"], run_ended)["status"] == "succeeded"
    _assert_nothing_half_written(app_dir)


def test_kill_9_of_the_whole_app_mid_run_recovers_at_restart(app_dir):
    with gunicorn(app_dir, workers=2) as url:
        before, run_id = _start_slow_run(url)
        master, workers = _gunicorn_processes(url)
        for process in (_job(app_dir, run_id), *workers, master):
            process.kill()
        psutil.wait_procs([master, *workers], timeout=30)
    _assert_nothing_half_written(app_dir)
    with gunicorn(app_dir, workers=2) as url:
        run = run_status(url, run_id)
        assert run["status"] == "failed" and "killed or crashed" in run["error"]
        assert _forecast(url) == before
        assert requests.get(url + "/health", timeout=10).json()["status"] == "ok"
    _assert_nothing_half_written(app_dir)
