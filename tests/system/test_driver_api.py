"""A planner's priced and promoted file through a run and the JSON API: plans per series,
both held-out scores, the drivers' effects and many series in one call."""

from __future__ import annotations

import numpy as np

from tests.support.files import PLANNED_WEEKS, planned_weekly_file
from tests.support.servers import cli

H = PLANNED_WEEKS


def test_the_forecast_page_plans_one_week_and_only_that_week_moves(browser, tmp_path):
    """In Chromium: the plan table holds the file's plan, a price typed into one week
    moves that week's forecast only, the planned weeks are marked, nothing logs an error."""
    from playwright.sync_api import expect

    from tests.support.servers import gunicorn

    path, data_dir = tmp_path / "planned.csv", tmp_path / "data"
    planned_weekly_file(path)
    result = cli(
        data_dir, "run", "--csv", str(path), "--horizon", str(H), "--models", "linear_trend",
        "--jobs", "1", "--quiet", "--no-tracking",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    page = browser.new_page(viewport={"width": 1300, "height": 1800})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    forecast = (
        "() => Array.from(document.querySelector('#forecast-chart .js-plotly-plot')"
        "._fullData.find(t => t.name == 'forecast').y).map(Number)"
    )
    with gunicorn(data_dir) as url:
        page.goto(url + "/forecast")
        first_price = page.locator("#forecast-plan td[data-dash-column='price']").first
        expect(first_price).not_to_be_empty(timeout=30_000)
        expect(page.locator("#forecast-chart")).to_contain_text("planned prices", timeout=30_000)
        page.wait_for_function(f"() => ({forecast})().length > 0", timeout=30_000)
        before = page.evaluate(forecast)
        usual = float(first_price.inner_text())
        dearer = f"{usual * 1.5:.2f}"
        # the table settles after the chart: an edit made before is drawn over
        page.wait_for_load_state("networkidle")
        first_price.dblclick()
        cell_input = first_price.locator("input")
        cell_input.fill(dearer)
        cell_input.press("Enter")
        expect(first_price).to_have_text(dearer, timeout=10_000)
        page.wait_for_function(
            f"() => ({forecast})()[0] < {before[0] * 0.99}", timeout=60_000, polling=250
        )
        after = page.evaluate(forecast)
    assert after[0] < before[0]  # half as dear again sells less that week
    np.testing.assert_allclose(after[1:], before[1:], rtol=1e-9)  # and no other week moves
    assert errors == []
