"""Runs from the dashboard in a real browser (Chromium, Playwright) against a real gunicorn
with one worker: after live XGBoost and random-forest forecasts in that worker, Start
training works twice in a row; refused actions say why on the page."""

from __future__ import annotations

import json
import re
import shutil
import time

import pytest
import requests
from playwright.sync_api import expect

from forecasting.models import ALWAYS
from tests.support.files import priced_daily
from tests.support.frames import SAMPLES
from tests.support.servers import cli, gunicorn, run_ended, run_status, wait_for_run

TREES = ["xgboost", "random_forest"]
OFF = ["linear_trend", "recent_mean", "prophet", "sarima", "arima", "ets", "theta", "ces"]


@pytest.fixture(scope="module")
def trees_dir(tmp_path_factory):
    """A data directory whose production run has the tree models (live forecasts use them)."""
    data_dir = tmp_path_factory.mktemp("trees") / "data"
    small = data_dir.parent / "small.csv"  # the OpenMP hang needs a tree model, not big data
    small.write_bytes(priced_daily(days=150, planned=0))
    result = cli(
        data_dir,
        "run",
        "--csv",
        str(small),
        "--models",
        "linear_trend," + ",".join(TREES),
        "--horizon",
        "14",
        "--jobs",
        "1",
        "--quiet",
        "--no-tracking",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return data_dir


def _bar_and_status(page) -> tuple[str | None, str]:
    """One snapshot of the progress bar's value and the status line."""
    return page.evaluate(
        """() => [
            document.querySelector('#retraining-progress [role=progressbar]')
                ?.getAttribute('aria-valuenow'),
            document.querySelector('#retraining-status')?.textContent || '']"""
    )


def test_start_training_twice_after_live_tree_forecasts_in_the_same_worker(
    page, trees_dir, tmp_path
):
    data_dir = tmp_path / "data"
    shutil.copytree(trees_dir, data_dir)
    with gunicorn(data_dir, workers=1) as url:
        for model in TREES:  # the worker now holds XGBoost's and scikit-learn's thread pools
            live = requests.post(
                url + "/api/forecast", json={"horizon": 6, "model": model}, timeout=120
            )
            assert live.status_code == 200 and live.json()["model"] == model, live.text
        page.goto(url + "/retraining")
        for name in OFF:
            page.get_by_label(name, exact=True).uncheck()
        page.click("#retraining-start")  # not confirmed yet: refused, and the page says why
        expect(page.locator("#retraining-refused")).to_contain_text("Tick 'I understand")
        page.get_by_label("I understand").check()
        expect(page.locator("#retraining-refused")).to_be_hidden()  # said once, not forever
        seconds = []
        for run_id in (2, 3):
            began = time.monotonic()
            page.click("#retraining-start")
            seen_running = False
            deadline = time.monotonic() + 400
            while time.monotonic() < deadline:
                value, status = _bar_and_status(page)
                if f"Run {run_id}: running" in status and not seen_running:
                    seen_running = True  # the bar follows the run: the notice goes
                    expect(page.locator("#retraining-starting")).to_be_hidden(timeout=3_000)
                    assert f"{value}%" in status, (value, status)  # one value, both places
                if f"Run {run_id} ended" in status:
                    break
                page.wait_for_timeout(250)
            outcome = page.locator("#retraining-outcome")
            expect(outcome).to_contain_text(f"Run {run_id} succeeded", timeout=10_000)
            # "Starting the run" does not outlive the start
            expect(page.locator("#retraining-starting")).to_be_hidden(timeout=15_000)
            expect(page.locator("#retraining-progress [role=progressbar]")).to_have_attribute(
                "aria-valuenow", "100"
            )
            assert seen_running, "the bar never showed the run in progress"
            seconds.append(time.monotonic() - began)
            run = requests.get(f"{url}/api/runs/{run_id}", timeout=30).json()
            assert run["status"] == "succeeded" and run["production"], run
            assert set(run["options"]["models"]) == {*ALWAYS, *TREES}
        print(f"\ntwo runs from the page after live tree forecasts: {seconds[0]:.0f} s, "
              f"{seconds[1]:.0f} s")  # fmt: skip
        assert page.errors == []


def test_signed_out_start_and_cancel_say_to_sign_in(page, app_dir):
    with gunicorn(app_dir, ADMIN_TOKEN="correct-horse") as url:
        page.goto(url + "/retraining")
        page.click("#retraining-start")
        expect(page.locator("#retraining-sign-in-needed")).to_contain_text(
            "Sign in to start training"
        )
        page.click("#retraining-cancel")
        expect(page.locator("#retraining-cancel-message")).to_contain_text("Sign in to cancel runs")
        page.get_by_label("I understand").check()
        page.locator("#retraining-upload input[type=file]").set_input_files(
            str(SAMPLES / "store_item_daily.csv")
        )
        expect(page.locator("#retraining-report")).to_contain_text("Sign in to upload data")
        page.wait_for_timeout(1500)
        listing = requests.get(url + "/api/runs", timeout=30).json()["runs"]
        assert [r["id"] for r in listing] == [1]  # nothing started


def test_a_bad_horizon_says_the_same_on_the_chart_and_on_download(page, live_server):
    page.goto(live_server + "/forecast")
    expect(page.locator("#forecast-table")).to_contain_text("2025-01-01", timeout=30_000)
    page.fill("#forecast-horizon", "2.5")
    page.press("#forecast-horizon", "Enter")
    message = page.locator("#forecast-message")
    expect(message).to_contain_text("The horizon must be a whole number from 1 to 365 periods")
    said = message.inner_text()
    # the table of the horizon before is not left under the error, as if it answered it
    expect(page.locator("#forecast-table")).not_to_contain_text("2025-01-01")

    def is_download(response) -> bool:
        body = response.request.post_data or ""
        return "_dash-update-component" in response.url and "forecast-download" in body

    with page.expect_response(is_download) as answer:
        page.click("#forecast-download-csv")
    response = answer.value
    assert response.status == 200, response.text()
    payload = json.dumps(response.json())
    assert re.search(re.escape(said), payload), payload
    expect(message).to_have_text(said)
    assert page.errors == []


def test_two_tabs_bars_follow_the_run_after_the_other_tab_is_refused(browser, app_dir):
    """Tab A starts a run; tab B asks to start one too and is refused. Both bars must
    keep up with the run as the database has it (they once froze at 29% for five
    minutes while the runs table said 70%: the bar came from the background job's
    progress channel, keyed by the job's inputs and shared by identical starts)."""
    with gunicorn(app_dir, workers=2) as url:
        contexts = [browser.new_context() for _ in range(2)]
        tab_a, tab_b = (c.new_page() for c in contexts)
        for tab in (tab_a, tab_b):
            tab.goto(url + "/retraining")
            for name in ["xgboost", "random_forest", *OFF]:
                tab.get_by_label(name, exact=True).uncheck()
            tab.get_by_label("I understand").check()
        tab_a.click("#retraining-start")
        run = wait_for_run(url, 2, lambda r: r.get("status") == "running", timeout=60)
        assert run["status"] == "running", run
        tab_b.click("#retraining-start")
        expect(tab_b.locator("#retraining-refused")).to_contain_text("Run 2 is already")
        readings = []  # (seconds, database's progress, tab A's bar, tab B's bar)
        began = time.monotonic()
        while True:
            run = run_status(url, 2)
            bars = [_bar_and_status(tab)[0] for tab in (tab_a, tab_b)]
            readings.append((time.monotonic() - began, run["progress"] * 100, *bars))
            if run_ended(run):
                break
            assert time.monotonic() - began < 300, "the run did not end"
            time.sleep(0.5)
        assert run["status"] == "succeeded", run
        for tab in (tab_a, tab_b):
            expect(tab.locator("#retraining-outcome")).to_contain_text("Run 2 succeeded")
        # every reading of the database is on both bars within 3 s (the poll is 1 s)
        for t, progress, *_ in readings:
            later = [r for r in readings if t <= r[0] <= t + 3]
            for tab in (2, 3):
                shown = max(float(r[tab] or 0) for r in later)
                assert shown >= progress - 5 or later[-1] is readings[-1], (t, progress, readings)
        for context in contexts:
            context.close()
