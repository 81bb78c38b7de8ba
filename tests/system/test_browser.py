"""The dashboard in a real browser: Debian's Chromium driven by Playwright, app under gunicorn."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.support.files import with_extreme_cell
from tests.support.frames import SAMPLES

PAGES = {
    "/": "Overview",
    "/forecast": "Forecast",
    "/data": "Data",
    "/models": "Models",
    "/retraining": "Retraining",
}
SLOW_MODELS_OFF = ["xgboost", "random_forest", "prophet", "sarima", "arima", "ets", "theta", "ces"]


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
    upload.set_input_files(
        files=[{"name": "x.csv", "mimeType": "text/csv", "buffer": with_extreme_cell("1e308")}]
    )
    expect(page.locator("#retraining-rejected")).to_contain_text(
        "Column 'sales' has '1e308' on data row 17"
    )
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
    expect(log).to_contain_text("trial 2/200", timeout=120_000)  # tuning, whichever model
    page.click("#retraining-cancel")
    requested = page.locator("#retraining-cancel-requested")
    expect(requested).to_contain_text("Cancellation of run 3 requested")
    expect(page.locator("#retraining-outcome")).to_contain_text("Run 3 cancelled", timeout=60_000)
    expect(requested).to_have_count(0, timeout=4_000)  # the outcome says it: the request goes
    expect(page.locator("#retraining-runs")).to_contain_text("cancelled")
    assert page.errors == []


def test_the_forecast_page_draws_and_downloads_the_horizon(page, live_server, tmp_path):
    page.goto(live_server + "/forecast")
    page.fill("#forecast-horizon", "30")
    page.press("#forecast-horizon", "Enter")
    expect(page.locator("#forecast-chart .main-svg").first).to_be_visible(timeout=30_000)
    # page 1 of 2 (a loaded machine may take a while to forecast 30 days)
    expect(page.locator("#forecast-table")).to_contain_text("2025-01-15", timeout=30_000)
    # validated for 14 days: the last 16 of 30 are shaded and flagged as extrapolated bands
    expect(page.locator("#forecast-chart")).to_contain_text("bands extrapolated", timeout=30_000)
    expect(page.locator("#forecast-table")).to_contain_text("yes", timeout=30_000)
    with page.expect_download() as info:
        page.click("#forecast-download-csv")
    path = tmp_path / "forecast.csv"
    info.value.save_as(path)
    lines = path.read_text().strip().splitlines()
    assert lines[0].startswith("series,date,forecast")
    # "All series": the total's 30 days, then every series' own 30 days
    import requests

    ids = requests.get(live_server + "/api/series", timeout=30).json()["series"]
    names = [line.split(",")[0] for line in lines[1:]]
    assert len(lines) == 1 + 30 * (1 + len(ids))
    assert set(names[30:]) == set(ids) and len(set(names[:30])) == 1
    assert page.errors == []


def test_with_an_admin_token_the_retraining_page_asks_to_sign_in(page, app_dir):
    from tests.support.servers import gunicorn

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


# --- phones and laptops: charts keep their plot, tables scroll inside their box ----------------

#: charts each page draws at least for the trained sample (drawn ones are waited for); the
#: Models page adds Optuna's parameter importance when two trials completed
CHARTS = {"/": 2, "/forecast": 1, "/data": 7, "/models": 3}
PLOT_AREAS = """() => [...document.querySelectorAll('.dash-graph')].map(graph => {
  const panels = [...graph.querySelectorAll('.nsewdrag')].map(r => r.getBoundingClientRect());
  const top = Math.min(...panels.map(r => r.top));
  const bottom = Math.max(...panels.map(r => r.bottom));
  const plot = graph.querySelector('.js-plotly-plot');
  return {id: graph.id, height: bottom - top, panel: Math.min(...panels.map(r => r.height)),
          width: plot && plot._fullLayout ? plot._fullLayout._size.w : 0};
})"""
DRAWN = """n => {
  const graphs = [...document.querySelectorAll('.dash-graph')];
  return graphs.length >= n && graphs.every(g => g.querySelector('.nsewdrag'));
}"""


def _charts(page, url: str, count: int) -> list[dict]:
    page.goto(url)
    page.wait_for_function(DRAWN, arg=count, timeout=60_000)
    page.wait_for_load_state("networkidle")
    return page.evaluate(PLOT_AREAS)


def test_at_375_px_every_chart_keeps_a_usable_plot_area(browser, live_server):
    context = browser.new_context(viewport={"width": 375, "height": 740})
    page = context.new_page()
    measured = {}
    for path, count in CHARTS.items():
        charts = _charts(page, live_server + path, count)
        assert len(charts) >= count, (path, charts)
        for chart in charts:
            measured[chart["id"]] = round(chart["height"])
            assert chart["height"] >= 250, (path, chart)
            assert chart["width"] >= 250, (path, chart)  # the plot area, not the figure
            assert chart["panel"] >= 100, (path, chart)  # each panel of a stacked chart too
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375 + 1, f"{path} scrolls sideways ({width}px)"
        if path == "/data":  # the data set's gap rule, stated where its cleaning is
            expect(page.locator("#data-gap-rule")).to_contain_text("Missing periods: auto:")
            expect(page.get_by_text("of periods sold nothing")).to_contain_text("Across the")
        for box in page.query_selector_all(".chart-title"):  # titles wrap instead of clipping
            assert box.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), box.inner_text()
    print("plot-area heights at 375 px:", measured)
    context.close()


def test_charts_name_their_axes_and_show_only_real_series(page, live_server):
    _charts(page, live_server + "/", CHARTS["/"])
    chart = page.locator("#overview-chart")
    expect(chart.locator(".g-ytitle")).to_have_text("units_sold")
    expect(chart.locator(".g-xtitle")).to_have_text("date")
    expect(page.locator("#overview-growth")).to_contain_text("Growth, last 28 days")
    expect(page.locator("#overview-production")).to_contain_text("run 1: held-out WAPE")
    _charts(page, live_server + "/models", CHARTS["/models"])
    expect(page.locator("#models-intro")).to_contain_text(
        "Tuned with Optuna: linear_trend (2 trials)"
    )
    entries = page.locator("#models-backtest .legendtext")
    legend = entries.evaluate_all("els => els.map(e => e.textContent)")
    assert legend[:2] == ["history", "actual (held out)"] and len(legend) == 3
    assert legend[2].startswith("served: ")
    page.locator("#models-compare").click()
    page.get_by_role("option", name="seasonal_naive").click()
    expect(entries).to_have_count(4)
    legend = entries.evaluate_all("els => els.map(e => e.textContent)")
    assert not {"model", "lo80", "hi80", "lo95", "hi95", "y", "selected"} & set(legend)
    assert legend[-1] == "seasonal_naive"
    assert page.errors == []


def test_the_score_table_fits_a_laptop_screen(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    _charts(page, live_server + "/models", CHARTS["/models"])
    table = page.locator("#models-table .dash-spreadsheet-container").first
    fits = table.evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert fits[0] <= fits[1], f"the score table overflows its box: {fits}"
    expect(page.locator("#models-table")).to_contain_text("held-out test")
    # the seconds are validation's, tuned or not: they sit under "validation", not "tuning"
    expect(page.locator("#models-table")).to_contain_text("Optuna trials")
    expect(page.locator("#models-table")).not_to_contain_text("tuning")
    context.close()


def test_the_excel_download_stores_dates_as_dates(page, live_server, tmp_path):
    import datetime

    import openpyxl

    page.goto(live_server + "/forecast")
    expect(page.locator("#forecast-table")).to_contain_text("2025-01-01", timeout=30_000)
    with page.expect_download() as info:
        page.click("#forecast-download-xlsx")
    path = tmp_path / "forecast.xlsx"
    info.value.save_as(path)
    sheet = openpyxl.load_workbook(path).active
    assert [c.value for c in sheet[1]][:3] == ["series", "date", "forecast"]
    cell = sheet["B2"]
    assert cell.is_date and cell.value == datetime.datetime(2025, 1, 1)
    assert cell.number_format == "yyyy-mm-dd"
