"""The dashboard in a real browser: Debian's Chromium driven by Playwright, app under gunicorn."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.conftest import SAMPLES

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGES = {
    "/": "Overview",
    "/forecast": "Forecast",
    "/data": "Data",
    "/models": "Models",
    "/retraining": "Retraining",
}
SLOW_MODELS_OFF = ["xgboost", "random_forest", "prophet", "sarima", "ets", "theta"]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()


def test_every_page_loads_with_no_console_errors(page, live_server):
    for path, heading in PAGES.items():
        page.goto(live_server + path)
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        page.wait_for_load_state("networkidle")
    assert page.errors == []


def test_a_phone_sized_screen_gets_a_collapsed_menu(browser, live_server):
    context = browser.new_context(viewport={"width": 375, "height": 740})
    page = context.new_page()
    page.goto(live_server + "/")
    expect(page.locator("#shell-toggler")).to_be_visible()
    page.click("#shell-toggler")
    expect(page.get_by_role("link", name="Retraining")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375 + 1, f"the page scrolls sideways ({width}px)"
    context.close()


def _upload_sample(page, live_server):
    page.goto(live_server + "/retraining")
    page.get_by_label("I understand").check()
    page.locator("#retraining-upload input[type=file]").set_input_files(
        str(SAMPLES / "store_item_daily.csv")
    )
    expect(page.locator("#retraining-accepted")).to_contain_text("9 series")


def test_upload_shows_the_validation_report_and_a_bad_file_is_refused(page, live_server):
    page.goto(live_server + "/retraining")
    upload = page.locator("#retraining-upload input[type=file]")
    page.get_by_label("I understand").check()
    upload.set_input_files(
        files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": b"a;b\nx;y\n"}]
    )
    expect(page.locator("#retraining-rejected")).to_contain_text("Nothing was stored")
    upload.set_input_files(str(SAMPLES / "store_item_daily.csv"))
    report = page.locator("#retraining-accepted")
    expect(report).to_contain_text("9 series")
    expect(report).to_contain_text("units_sold")
    assert page.errors == []


def test_a_run_reaches_100_percent_with_a_live_log_and_a_second_is_cancelled(page, live_server):
    _upload_sample(page, live_server)
    for name in SLOW_MODELS_OFF:
        page.get_by_label(name, exact=True).uncheck()
    page.click("#retraining-start")
    # the page shows the latest run's outcome from the start (run 1, which trained the app)
    expect(page.locator("#retraining-outcome")).to_contain_text("Run 2 succeeded", timeout=240_000)
    expect(page.locator("#retraining-progress [role=progressbar]")).to_have_attribute(
        "aria-valuenow", "100"
    )
    log = page.locator("#retraining-log")
    expect(log).to_contain_text("step train started")
    expect(log).to_contain_text("succeeded")
    # a slow second run, cancelled from the page
    page.get_by_label("xgboost", exact=True).check()
    page.fill("#retraining-trials", "200")
    page.click("#retraining-start")
    expect(log).to_contain_text("xgboost: trial", timeout=120_000)
    page.click("#retraining-cancel")
    expect(page.locator("#retraining-outcome")).to_contain_text("Run 3 cancelled", timeout=60_000)
    expect(page.locator("#retraining-runs")).to_contain_text("cancelled")
    assert page.errors == []


def test_the_forecast_page_draws_and_downloads_the_horizon(page, live_server, tmp_path):
    page.goto(live_server + "/forecast")
    page.fill("#forecast-horizon", "30")
    page.press("#forecast-horizon", "Enter")
    expect(page.locator("#forecast-chart .main-svg").first).to_be_visible()
    expect(page.locator("#forecast-table")).to_contain_text("2025-01-15")  # page 1 of 2
    with page.expect_download() as info:
        page.click("#forecast-download-csv")
    path = tmp_path / "forecast.csv"
    info.value.save_as(path)
    lines = path.read_text().strip().splitlines()
    assert lines[0].startswith("series,date,forecast")
    assert len(lines) == 1 + 30
    assert page.errors == []


def test_with_an_admin_token_the_retraining_page_asks_to_sign_in(page, app_dir):
    from tests.conftest import gunicorn

    with gunicorn(app_dir, ADMIN_TOKEN="correct-horse") as url:
        page.goto(url + "/retraining")
        expect(page.locator("#retraining-open")).to_have_count(0)
        page.get_by_placeholder("Admin token").fill("a guess")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#retraining-sign-in-failed")).to_be_visible()
        # not signed in: an upload is refused by the server, so no report appears
        page.get_by_label("I understand").check()
        upload = page.locator("#retraining-upload input[type=file]")
        upload.set_input_files(str(SAMPLES / "store_item_daily.csv"))
        page.wait_for_timeout(1500)
        expect(page.locator("#retraining-accepted")).to_have_count(0)
        page.get_by_placeholder("Admin token").fill("correct-horse")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#retraining-signed-in")).to_be_visible()
        # the cookie holds: after a reload the page still knows, and the upload is judged
        page.reload()
        expect(page.locator("#retraining-signed-in")).to_be_visible()
        _upload_sample(page, url)
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_placeholder("Admin token")).to_be_visible()
