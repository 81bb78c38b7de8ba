"""EDA on the bundled multi-series sample: numbers that could be wrong, files the app reads."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.io as pio

from forecasting.data import eda
from forecasting.data.dataset import prepare
from forecasting.data.eda import (
    analyse,
    analyse_parts,
    driver_correlations,
    profile,
    stationarity,
)
from forecasting.data.reading_options import ReadingOptions
from pipeline.eda_report import decomposition_figure, drivers_figure, write_report
from tests.support.frames import spec_for


def test_seasonal_series_has_strong_seasonality_and_white_noise_has_none():
    rng = np.random.default_rng(0)
    days = pd.date_range("2023-01-01", periods=364, freq="D")
    weekly = pd.Series(100 + 30 * np.sin(2 * np.pi * np.arange(364) / 7) + rng.normal(0, 2, 364))
    noise = pd.Series(100 + rng.normal(0, 10, 364))
    strong = profile(weekly.set_axis(days), spec_for("D"))
    flat = profile(noise.set_axis(days), spec_for("D"))
    assert strong.stats["seasonal_strength"] > 0.9
    assert flat.stats["seasonal_strength"] < 0.3
    assert abs(strong.acf[7]) > 0.8 and abs(flat.acf[7]) < 0.2


def test_two_full_seasons_are_decomposed_and_fewer_say_why_not():
    rng = np.random.default_rng(2)
    weeks = pd.date_range("2022-01-02", periods=104, freq="W-SUN")
    yearly = 100 + 40 * np.sin(2 * np.pi * np.arange(104) / 52) + rng.normal(0, 3, 104)
    two_years = profile(pd.Series(yearly, index=weeks), spec_for("W-SUN"))
    assert two_years.decomposition["seasonal"].notna().all()  # drawn, but not measured:
    assert two_years.stats["seasonal_strength"] is None  # a yearly strength needs 3 years
    assert "under 3 years" in two_years.stats["seasonal_note"]
    short = profile(pd.Series(yearly[:103], index=weeks[:103]), spec_for("W-SUN"))
    assert short.stats["seasonal_strength"] is None
    title = decomposition_figure(short, "Total").layout.title.text
    assert "needs two full seasons" in title


def test_stationarity_reads_a_random_walk_and_white_noise_correctly():
    rng = np.random.default_rng(1)
    walk = np.cumsum(rng.normal(0, 1, 500)) + 100
    noise = rng.normal(0, 1, 500)
    assert stationarity(walk)["stationary"] == "non-stationary"
    assert stationarity(noise)["stationary"] == "stationary"


def test_report_on_the_sample_is_saved_for_the_app(tmp_path, store_item_csv):
    data = prepare(store_item_csv, ReadingOptions(exog=["price", "promo"]), horizon=28)
    report = analyse(data.frame, data.spec, data.cleaned.outliers, top=3)
    assert report.overview["series"] == 9
    assert report.overview["outliers"] == len(data.cleaned.outliers) > 0
    assert len(report.top) == 3
    assert set(report.aggregate.profiles) == {"weekday", "month"}
    # the sample's promotions lift sales, its price rises cut them
    assert report.drivers["promo"]["pearson"] > 0.05
    target = write_report(report, tmp_path / "eda" / "1")
    payload = json.loads((target / "report.json").read_text())
    assert payload["overview"]["series"] == 9
    assert len(payload["series"]) == 9
    assert set(payload["figures"]) == {
        "history",
        "decomposition",
        "acf",
        "profiles",
        "top_series",
        "drivers",
    }
    for name in payload["figures"]:
        figure = pio.from_json((target / f"{name}.json").read_text())
        assert figure.layout.title.text, f"{name} has no heading"
        assert len(figure.data) >= 1
    assert not list(target.glob("*.tmp"))


def test_a_report_read_a_partition_at_a_time_is_the_whole_frame_s(store_item_csv, monkeypatch):
    """A catalogue's stored version is analysed a partition of whole series at a time:
    the overview, the per-series table, the total's history and the largest series are
    the whole frame's; past ``CORRELATION_ROWS`` the correlations read evenly thinned
    rows, and still say what the whole says."""
    data = prepare(store_item_csv, ReadingOptions(exog=["price", "promo"]), horizon=28)
    frame = data.frame.sample(frac=1.0, random_state=0)  # parts in no particular order
    ids = sorted(frame["unique_id"].unique())
    parts = [frame.loc[frame["unique_id"].isin(ids[i : i + 2])] for i in range(0, 9, 2)]
    whole = analyse(frame, data.spec, data.cleaned.outliers, top=3)
    monkeypatch.setattr(eda, "CORRELATION_ROWS", len(frame) // 7)
    split = analyse_parts(parts, data.spec, data.cleaned.outliers, top=3)
    read = split.overview.pop("correlation_rows")
    assert whole.overview.pop("correlation_rows") == whole.overview["rows"]
    assert split.overview == whole.overview
    assert whole.overview["rows"] / 8 < read < whole.overview["rows"] / 2
    title = drivers_figure(split.drivers, "units", read, whole.overview["rows"]).layout.title.text
    assert f"(from {read:,} of {whole.overview['rows']:,} rows, evenly spread)" in title
    pd.testing.assert_frame_equal(split.series_table, whole.series_table)
    assert list(split.top) == list(whole.top)
    for uid in whole.top:
        assert split.top[uid].stats == whole.top[uid].stats
    pd.testing.assert_frame_equal(
        split.aggregate.decomposition, whole.aggregate.decomposition, rtol=1e-9
    )
    for driver, pair in whole.drivers.items():
        for method, value in pair.items():
            assert abs(split.drivers[driver][method] - value) < 0.1, (driver, method)
    assert split.drivers != whole.drivers  # they were read from a thinned sample


def test_the_total_s_chart_marks_its_own_outliers_not_every_series_one():
    """A stranger's EDA chart marked 25 weeks of the total, wherever some series had an
    outlier, where the History chart of the same total marked 2."""
    from forecasting.data.cleaning import flag_outliers
    from pipeline.eda_report import history_figure
    from tests.support.frames import make_frame

    frame = make_frame(n_series=3, periods=120)
    day = frame["ds"].unique()
    frame.loc[(frame["unique_id"] == "s1") & (frame["ds"] == day[40]), "y"] += 80
    frame.loc[(frame["unique_id"] == "s2") & (frame["ds"] == day[40]), "y"] -= 80
    frame.loc[frame["ds"] == day[80], "y"] += 80  # every series: the total's too
    spec = spec_for("D")
    outliers = flag_outliers(frame, spec.season_length)
    assert {day[40], day[80]} <= set(outliers["ds"])  # both days have series outliers
    marks = history_figure(analyse(frame, spec, outliers, top=1)).data[1]
    assert marks.name == "outlier of the total"
    assert list(pd.to_datetime(marks.x)) == [pd.Timestamp(day[80])]


def test_a_price_that_cuts_each_series_sales_reads_negative_within_series():
    """A stranger's price read +0.18 pooled over SKUs (dear SKUs sold more), while each
    SKU sold less whenever its own price rose: the median SKU's own correlation says so,
    whatever the SKUs' volumes (a big seller's deviations do not speak for all)."""
    rng = np.random.default_rng(2)
    frames = []
    for k, base in enumerate([2.0, 5.0, 9.0]):  # the dearer SKU sells more
        price = base * (1 + rng.uniform(-0.2, 0.2, 200))
        noise = 0.05 if k < 2 else 0.6  # the biggest seller's price explains little
        units = 40 * (k + 1) ** 3 * (price / base) ** -2.0 * rng.lognormal(0, noise, 200)
        frames.append(pd.DataFrame({"unique_id": f"sku{k}", "price": price, "y": units}))
    got = driver_correlations(pd.concat(frames, ignore_index=True), ("price",))["price"]
    assert got["pearson"] > 0.5  # pooled: the dear SKUs' volume
    assert got["within_series"] < -0.8  # each SKU's own price effect
    figure = drivers_figure({"price": got})
    assert [bar.name for bar in figure.data][-1] == "Pearson within a series (median)"
    assert "the median series' own correlation" in figure.layout.title.text


def test_the_decomposition_leaves_a_remainder_in_the_first_and_last_years_too():
    """On three years of weeks a stranger's decomposition showed a straight trend and no
    remainder in the first and last years: the season took the noise there."""
    rng = np.random.default_rng(0)
    weeks = pd.date_range("2022-01-03", periods=156, freq="W-MON")
    t = np.arange(156)
    y = pd.Series(100 + 0.2 * t + 20 * np.sin(2 * np.pi * t / 52) + rng.normal(0, 8, 156), weeks)
    resid = profile(y, spec_for("W-MON")).decomposition["resid"].to_numpy()
    by_year = [resid[k * 52 : (k + 1) * 52].std() for k in range(3)]
    assert min(by_year) > 0.6 * max(by_year), by_year
    assert all(4 < sd < 12 for sd in by_year), by_year  # the noise's 8, not the season's
