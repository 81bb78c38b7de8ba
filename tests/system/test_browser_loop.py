"""The planner's loop from the pages in Chromium against a real gunicorn: train on a
monthly file without its last 12 months, add them as new actuals, read how the forecast
did, and roll back to an earlier run from the Models page."""

from __future__ import annotations

import time

import pytest
import requests
from playwright.sync_api import expect

from forecasting.models import ALWAYS, MODELS
from tests.support.files import monthly_store_items
from tests.support.loop import CUT, expected_accuracy
from tests.support.servers import gunicorn, run_ended, wait_for_run

REDRAWS_IN_3_SECONDS = """() => new Promise(done => {
    let redraws = 0;
    document.querySelectorAll('.js-plotly-plot')
        .forEach(g => g.on('plotly_afterplot', () => redraws++));
    setTimeout(() => done(redraws), 3000);
})"""


def _start_and_wait(page, url: str, run_id: int) -> dict:
    page.click("#retraining-start")
    run = wait_for_run(url, run_id, lambda r: "status" in r and run_ended(r), timeout=300)
    assert run["status"] == "succeeded", run
    expect(page.locator("#retraining-outcome")).to_contain_text(f"Run {run_id} succeeded")
    expect(page.locator("#retraining-status")).to_contain_text(f"Run {run_id} ended at")
    return run


def test_add_new_actuals_read_how_the_forecast_did_and_roll_back(page, tmp_path):
    monthly = monthly_store_items()
    history, new = tmp_path / "history.csv", tmp_path / "new.csv"
    monthly[monthly["month"] < CUT].to_csv(history, index=False)
    monthly[monthly["month"] >= CUT].to_csv(new, index=False)
    data_dir = tmp_path / "data"
    with gunicorn(data_dir, workers=1) as url:
        page.goto(url + "/retraining")
        page.get_by_label("I understand").check()
        for name in MODELS:
            if name not in ALWAYS and name != "linear_trend":
                page.get_by_label(name, exact=True).uncheck()
        upload = page.locator("#retraining-upload input[type=file]")
        upload.set_input_files(str(history))
        expect(page.locator("#retraining-accepted")).to_contain_text("Validation report")
        _start_and_wait(page, url, 1)  # stored and trained: run 1 serves

        page.get_by_label("Add new actuals").check()
        upload.set_input_files(str(new))
        report = page.locator("#retraining-accepted")
        expect(report).to_contain_text("New actuals for data set version 1")
        expect(report).to_contain_text("12 new periods (2024-01-01 to 2024-12-01)")
        # no tick boxes to contradict the report: the stored version's drivers are read
        expect(page.locator("#retraining-exog-note")).to_contain_text(
            "New actuals are read with the drivers of data set version 1"
        )
        page.get_by_label("Train on an uploaded file").uncheck()
        run = _start_and_wait(page, url, 2)
        assert run["kind"] == "ingest" and run["options"]["append_to"] == 1
        expect(page.locator("#retraining-outcome")).to_contain_text("data set version 2")

        body = requests.get(url + "/api/accuracy", timeout=60).json()
        expected = expected_accuracy(data_dir, 1, monthly)
        assert body["run_id"] == 1 and body["periods"] == 12
        for name in ("mase", "wape", "coverage80"):
            assert body[name] == pytest.approx(expected[name], rel=1e-9), name

        page.goto(url + "/")
        section = page.locator("#overview-realised")
        expect(section).to_contain_text("Last forecast vs what happened", timeout=30_000)
        expect(page.locator("#overview-realised-table")).to_contain_text(f"{expected['mase']:.3f}")
        expect(page.locator("#overview-drift")).to_contain_text("realised WAPE")
        expect(page.locator("#overview-why")).to_contain_text("linear_trend serves")
        newer = page.locator("#overview-newer")  # the cards still show version 1: it says so
        expect(newer).to_contain_text("show data set version 1, which the serving model")
        expect(newer).to_contain_text("Version 2 holds the actuals stored since")
        # at Bootstrap's xxl breakpoint a stranger's Overview lost and regained its
        # scrollbar with each redraw of its charts, and the browser froze: it settles
        page.set_viewport_size({"width": 1400, "height": 900})
        time.sleep(2)
        assert page.evaluate(REDRAWS_IN_3_SECONDS) < 4
        gutter = "getComputedStyle(document.documentElement).scrollbarGutter"
        assert page.evaluate(gutter) == "stable"

        page.goto(url + "/retraining")  # a fresh form: Start trains the latest version
        page.get_by_label("I understand").check()
        for name in MODELS:
            if name not in ALWAYS and name != "linear_trend":
                page.get_by_label(name, exact=True).uncheck()
        _start_and_wait(page, url, 3)

        console = []
        page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
        page.goto(url + "/forecast")  # a data set without drivers: no plan, still a forecast
        expect(page.locator("#forecast-table")).to_contain_text("2025-01", timeout=30_000)
        expect(page.locator("#forecast-drivers-note")).to_be_visible()
        assert not [text for text in console if "nonexistent object" in text], console

        page.goto(url + "/models")
        table = page.locator("#models-runs")
        expect(table).to_contain_text("serving", timeout=30_000)
        page.on("dialog", lambda dialog: dialog.accept())
        row = table.locator("tr", has_text="linear_trend").filter(has_text="0.").last
        row.locator("input[type=radio]").check()  # run 1, the older row at the bottom
        page.click("#models-promote")
        # the promotion moves the MLflow alias too: seconds on a busy machine
        expect(page.locator("#models-promoted")).to_contain_text("Run 1 serves now", timeout=30_000)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            served = requests.post(url + "/api/forecast", json={"horizon": 3}, timeout=60)
            if served.json().get("run_id") == 1:
                break
            time.sleep(0.5)
        assert served.json()["run_id"] == 1
        assert page.errors == []
