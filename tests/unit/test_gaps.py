"""A missing record is not a sale of zero: the default gap policy tells them apart."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.data.cleaning import clean
from forecasting.data.dataset import prepare
from forecasting.data.loading import load_csv


def _frame(rows: dict[str, list[float | None]], start: str = "2024-01-01") -> pd.DataFrame:
    """Daily series; ``None`` is a period with no row in the file."""
    parts = []
    for uid, values in rows.items():
        ds = pd.date_range(start, periods=len(values))
        part = pd.DataFrame({"unique_id": uid, "ds": ds, "y": values})
        parts.append(part.dropna())
    return pd.concat(parts, ignore_index=True)


def _filled(result, uid: str, day: str) -> float:
    frame = result.frame.set_index(["unique_id", "ds"])["y"]
    return frame[(uid, pd.Timestamp(day))]


def test_a_series_that_never_sells_zero_gets_its_lost_records_interpolated():
    store = [1000.0 + 10 * (i % 5) for i in range(40)]
    store[20] = None
    result = clean(_frame({"store": store}))
    assert _filled(result, "store", "2024-01-21") == (store[19] + store[21]) / 2
    assert result.report.gaps_as_missing == 1 and result.report.gaps_as_zero == 0
    assert result.report.outliers_flagged == 0  # zeros here would be flagged
    assert "never record a zero" in result.report.gap_rule


def test_a_file_listing_only_the_days_with_sales_keeps_zeros():
    rng = [1, 2, 1, 3, 1]
    item = [float(rng[i % 5]) if i % 3 else None for i in range(60)]
    result = clean(_frame({"item": item}))
    assert result.report.gaps_as_zero == result.report.gaps_filled > 0
    assert _filled(result, "item", "2024-01-04") == 0.0
    assert "filled with zero" in result.report.gap_rule


def test_a_period_missing_from_every_series_is_a_lost_record_even_with_zeros():
    a = [0.0 if i % 4 == 0 else 50.0 for i in range(60)]
    b = [0.0 if i % 5 == 0 else 80.0 for i in range(60)]
    c = [0.0 if i % 6 == 0 else 30.0 for i in range(60)]
    for series in (a, b, c):
        series[33] = None  # the export lost this day for everyone
    a[41] = None  # and this one only for a: with zeros recorded, a zero sale
    result = clean(_frame({"a": a, "b": b, "c": c}))
    assert _filled(result, "b", "2024-02-03") == 80.0
    assert _filled(result, "a", "2024-02-11") == 0.0
    assert "1 day is missing from every series at once" in result.report.gap_rule


def test_a_holiday_most_stores_miss_is_a_closure_and_a_workday_they_miss_is_lost():
    """Favorita's stores have no row on Christmas Day and most none on New Year's Day:
    read as lost records, they were interpolated, and a forecast of 115,096 transactions
    was scored against the invented Christmas as if the chain had opened."""
    days = pd.date_range("2022-12-20", "2023-01-10", freq="D")
    stores = {f"s{i}": [200.0 + 10 * i + 5 * (d.dayofweek % 3) for d in days] for i in range(5)}
    position = {day: list(days).index(pd.Timestamp(day)) for day in days.strftime("%Y-%m-%d")}
    for i, values in enumerate(stores.values()):
        values[position["2022-12-25"]] = None  # every store closed
        if i:  # four of five closed on New Year's Day; the first opened
            values[position["2023-01-01"]] = None
        values[position["2023-01-05"]] = None  # a workday the export lost for everyone
    frame = _frame(stores, start="2022-12-20")
    result = clean(frame, country="US")
    assert _filled(result, "s3", "2022-12-25") == 0.0
    assert _filled(result, "s3", "2023-01-01") == 0.0
    assert _filled(result, "s3", "2023-01-05") > 200  # a lost record, interpolated
    assert "2 holidays missing from 80% or more of the series at once (2022-12-25, " in (
        result.report.gap_rule
    )
    assert "read as closed: zero sales" in result.report.gap_rule
    without = clean(frame)  # no calendar: every missing day is a lost record
    assert _filled(without, "s3", "2022-12-25") > 200


def test_a_store_s_lost_weeks_are_lost_records_for_each_of_its_items():
    """Two strangers' stores lost a week (or two) of rows for every item; the rule asked
    of the whole file only, and items selling 5 to 40 a week got zero sales there."""
    rng = np.random.default_rng(5)
    rows = {}
    for store in ("a", "b"):
        for item in range(3):
            values = list(rng.poisson(12 + 8 * item, 80).clip(3).astype(float))
            if store == "a":
                values[40] = values[41] = None  # the store's export lost two weeks
            rows[f"store={store}/item={item}"] = values
    frame = _frame(rows, start="2023-01-07")
    frame["store"] = frame["unique_id"].str.slice(6, 7)
    lost = clean(frame, groups=["store"], country="US")
    day = str((pd.Timestamp("2023-01-07") + pd.Timedelta(days=40)).date())
    assert _filled(lost, "store=a/item=1", day) > 5
    assert "of one store at once" in lost.report.gap_rule
    assert _filled(clean(frame), "store=a/item=1", day) == 0.0  # the whole file's rule alone


def test_a_season_drawn_into_a_gap_never_goes_below_zero():
    """Along a season with a zero day, a lost day next to a falling week was drawn at
    -10.75 (Favorita's store 1 read -22 transactions on a New Year's Day)."""
    from forecasting.data.gaps import _interpolate_inside

    rng = np.random.default_rng(3)
    season = rng.uniform(0, 2, 7)
    season[rng.integers(7)] = 0
    level = np.maximum(0, 50 + np.cumsum(rng.normal(0, 15, 56)))
    y = np.round(level * season[np.arange(56) % 7] + rng.normal(0, 3, 56)).clip(0)
    hole = int(rng.integers(10, 46))
    y[hole] = np.nan
    filled = _interpolate_inside(pd.Series(y), pd.Series(["a"] * 56), 7)
    assert filled[hole] == 0.0  # where the season's low day takes it


def test_a_chosen_policy_still_overrides():
    store = [1000.0] * 10
    store[4] = None
    assert _filled(clean(_frame({"s": store}), gap_policy="zero"), "s", "2024-01-05") == 0.0
    report = clean(_frame({"s": store}), gap_policy="ffill").report
    assert report.gap_policy == "ffill" and report.gap_rule.startswith("ffill (chosen)")


def test_a_slow_mover_whose_export_stops_early_sells_zero_to_the_end_and_a_steady_one_ends():
    # the slow mover's file lists only its days with sales, and it last sold on day 30 of 60;
    # the steady seller's last 10 days are lost records (it never sells zero)
    slow = [float(1 + i % 2) if i % 3 == 0 and i < 30 else None for i in range(60)]
    steady = [1000.0 + 10 * (i % 5) if i < 50 else None for i in range(60)]
    busy = [50.0 + i % 7 for i in range(60)]
    result = clean(_frame({"slow": slow, "steady": steady, "busy": busy}))
    last = result.frame.groupby("unique_id")["ds"].max()
    assert last["slow"] == last["busy"] == pd.Timestamp("2024-02-29")  # forecasts start together
    assert _filled(result, "slow", "2024-02-29") == 0.0
    assert last["steady"] == pd.Timestamp("2024-02-19")  # nothing made up past its last record
    assert result.report.missing_records_left_out == 0  # and no lost record is counted for it
    assert result.report.gaps_as_zero == result.report.gaps_filled == 60 - 10


def test_a_series_that_writes_its_zeros_and_stops_early_has_ended_not_sold_nothing():
    # as the Tourism competition's panel: series end on different dates; one recorded a
    # month of zero visitors once, then its record stops three months before the file's end
    stopped = [0.0 if i == 5 else 300.0 + 40 * (i % 12) for i in range(57)] + [None] * 3
    running = [500.0 + 30 * (i % 12) for i in range(60)]
    frame = _frame({"stopped": stopped, "running": running})
    result = clean(frame)
    last = result.frame.groupby("unique_id")["ds"].max()
    assert last["stopped"] == frame.loc[frame["unique_id"] == "stopped", "ds"].max()
    assert (result.frame["y"] == 0).sum() == 1  # only the zero it wrote down
    assert result.report.gaps_filled == 0
    # the user can still say that a stopped series sold nothing since
    zeros = clean(frame, gap_policy="zero").frame
    assert zeros.groupby("unique_id")["ds"].max()["stopped"] == last["running"]


def test_blank_targets_at_the_ends_are_left_out_not_zero():
    text = "date,store,sales\n" + "".join(
        f"2024-01-{d:02d},a,{'' if d in (1, 2, 9, 20) else 1000 + d}\n" for d in range(1, 21)
    )
    result = clean(load_csv(text.encode()).frame)
    frame = result.frame
    assert frame["ds"].min() == pd.Timestamp("2024-01-03")  # two blank days at the start
    assert frame["ds"].max() == pd.Timestamp("2024-01-19")  # one at the end
    assert _filled(result, "store=a", "2024-01-09") == (1008 + 1010) / 2
    report = result.report
    assert (report.gaps_as_missing, report.missing_records_left_out) == (1, 3)
    assert "3 blank targets at a series' start or end left out" in report.gap_rule


def test_a_series_that_lost_its_last_records_is_named_in_the_notes():
    frame = pd.DataFrame(
        {
            "date": list(pd.date_range("2024-01-07", periods=30, freq="W").strftime("%Y-%m-%d"))
            * 2,
            "store": ["north"] * 30 + ["east"] * 30,
            "sales": np.r_[np.full(30, 100.0), np.full(28, 80.0), [np.nan, np.nan]],
        }
    )
    notes = " ".join(prepare(frame.to_csv(index=False).encode(), horizon=4).notes())
    assert "1 series end before the file's last date (2024-07-28), e.g. store=east on" in notes


def test_a_steady_seller_moved_by_its_price_is_missing_records_not_zero_sales():
    rng = np.random.default_rng(11)
    price = rng.choice([3.99, 4.49, 4.99, 5.49], 104)
    sales = np.round(330 - 50 * price + rng.normal(0, 4, 104))  # never near zero, big swings
    assert sales.min() > 40
    sales[[40, 80]] = np.nan  # two weeks the export lost
    values = [None if np.isnan(v) else float(v) for v in sales]
    result = clean(_frame({"Kaffee": values}))  # daily dates; only the values matter here
    assert result.report.gaps_as_zero == 0 and result.report.gaps_as_missing == 2
    assert _filled(result, "Kaffee", "2024-02-10") > 40


def test_weeks_missing_in_a_row_from_a_modest_seller_are_lost_records():
    """3 to 20 a week, never a zero: three weeks without a sale are a lost export, not sales."""
    rng = np.random.default_rng(5)
    sales = rng.integers(3, 21, 130).astype(float)
    sales[60:63] = np.nan
    values = [None if np.isnan(v) else float(v) for v in sales]
    result = clean(_frame({"SNK-011": values}))
    assert result.report.gaps_as_missing == 3 and result.report.gaps_as_zero == 0
    neighbours = sorted([sales[59], sales[63]])
    assert neighbours[0] <= _filled(result, "SNK-011", "2024-03-02") <= neighbours[1]
    assert "too many periods in a row" in result.report.gap_rule


def test_a_slow_mover_missing_the_same_run_still_sold_nothing():
    rng = np.random.default_rng(5)
    sales = rng.integers(1, 4, 130).astype(float)  # 1 to 3 a week: a run of zeros is ordinary
    sales[60:63] = np.nan
    values = [None if np.isnan(v) else float(v) for v in sales]
    result = clean(_frame({"slow": values}))
    assert result.report.gaps_as_zero == 3 and result.report.gaps_as_missing == 0


def test_a_part_listed_only_in_the_weeks_it_sold_keeps_its_zeros_through_long_runs():
    """The stranger's spare part: 17 units in 10 of 106 weeks, runs of 10+ empty weeks,
    next to a busy item that fixes the frequency."""
    weeks = pd.date_range("2023-01-02", periods=106, freq="W-MON")
    sold_at = [0, 9, 21, 33, 40, 52, 66, 79, 91, 105]
    units = [2.0, 1.0, 2.0, 3.0, 1.0, 2.0, 1.0, 2.0, 1.0, 2.0]
    frame = pd.concat(
        [
            pd.DataFrame({"unique_id": "Kaffee", "ds": weeks, "y": 40.0 + np.arange(106) % 7}),
            pd.DataFrame({"unique_id": "Ersatzteil", "ds": weeks[sold_at], "y": units}),
        ],
        ignore_index=True,
    )
    result = clean(frame)
    assert result.report.gaps_as_missing == 0 and result.report.gaps_as_zero == 96
    part = result.frame.loc[result.frame["unique_id"] == "Ersatzteil", "y"]
    assert len(part) == 106 and part.sum() == sum(units)  # nothing invented


def test_one_lost_week_of_a_busy_item_is_a_lost_record_in_a_file_that_writes_zeros():
    """The stranger's YORK/B200: 7 to 44 a week, never a zero, one week without a row,
    beside a slow mover whose zeros the export writes. That week is not a zero sale."""
    weeks = pd.date_range("2023-01-02", periods=130, freq="W-MON")
    rng = np.random.default_rng(3)
    busy = pd.DataFrame({"unique_id": "busy", "ds": weeks, "y": rng.integers(7, 45, 130) * 1.0})
    slow = pd.DataFrame({"unique_id": "slow", "ds": weeks, "y": (rng.random(130) < 0.3) * 1.0})
    frame = pd.concat([busy.drop(index=77), slow], ignore_index=True)
    result = clean(frame)
    assert result.report.gaps_as_missing == 1 and result.report.gaps_as_zero == 0
    assert result.report.gap_rule.startswith("auto: 1 missing week is a lost record in ")
    filled = result.frame.set_index(["unique_id", "ds"]).loc[("busy", weeks[77]), "y"]
    assert 7 <= filled <= 44


def test_a_value_the_cleaning_filled_in_is_never_flagged_an_outlier():
    """A week lost between two promotion spikes is interpolated high; the spikes are the
    file's values and may be flagged, the estimate is not (a stranger saw one flagged)."""
    weeks = pd.date_range("2023-01-02", periods=130, freq="W-MON")
    rng = np.random.default_rng(4)
    sales = 100 + rng.normal(0, 3, 130)
    sales[[50, 52]] = 400.0
    frame = pd.DataFrame({"unique_id": "s", "ds": weeks, "y": sales}).drop(index=51)
    result = clean(frame)
    assert result.report.gaps_as_missing == 1
    filled = result.frame.set_index("ds")["y"]
    assert filled[weeks[51]] > 300  # interpolated between the spikes
    flagged = set(result.outliers["ds"])
    assert {weeks[50], weeks[52]} <= flagged and weeks[51] not in flagged


def test_lost_months_of_a_seasonal_series_are_filled_with_its_season_not_a_line():
    # five years of a series whose summer sells ten times its winter; three months lost
    months = pd.date_range("2019-01-01", periods=60, freq="MS")
    rng = np.random.default_rng(2)
    shape = 1 + 9 * np.exp(-0.5 * ((months.month.to_numpy() - 7) / 1.2) ** 2)
    truth = 3000 * shape * rng.normal(1, 0.03, 60)
    lost = [42, 43, 44]  # 2022-07 to 2022-09, the peak
    frame = pd.DataFrame({"unique_id": "s", "ds": months, "y": truth}).drop(index=lost)
    filled = clean(frame).frame.set_index("ds")["y"]
    for i in lost:
        assert abs(filled[months[i]] / truth[i] - 1) < 0.15, (months[i], filled[months[i]])
    # a straight line from June to October misses the peak by over a third
    line = np.interp(lost, [41, 45], truth[[41, 45]])
    assert (np.abs(line / truth[lost] - 1) > 0.3).any()


def test_the_series_whose_gaps_were_filled_with_zero_are_named():
    slow = [float(1 + i % 3) if i % 4 else 0.0 for i in range(60)]  # records its zeros
    lumpy, sparse, rare = list(slow), list(slow), list(slow)
    for day in (10, 21, 30):
        lumpy[day] = None
    for day in (11, 22):
        sparse[day] = None
    rare[13] = None
    steady = list(slow)
    result = clean(_frame({"lumpy": lumpy, "sparse": sparse, "rare": rare, "steady": steady}))
    report = result.report
    assert report.gaps_as_zero == 6 and report.series_zero_filled == 3
    assert report.zero_filled_examples == {"lumpy": 3, "sparse": 2, "rare": 1}
    assert "6 filled with zero in 3 series (most in lumpy: 3, sparse: 2, rare: 1)" in (
        report.gap_rule
    )
    chosen = clean(_frame({"lumpy": lumpy}), gap_policy="zero").report.gap_rule
    assert chosen == "zero (chosen): 3 missing days filled with zero in 1 series (lumpy: 3)."


def test_the_series_whose_lost_records_were_interpolated_are_named():
    store = [1000.0 + 10 * (i % 5) for i in range(60)]
    north, south = list(store), list(store)
    for day in (20, 40):
        north[day] = None
    south[30] = None
    report = clean(_frame({"north": north, "south": south, "east": list(store)})).report
    assert report.gaps_as_missing == 3 and report.series_interpolated == 2
    assert report.interpolated_examples == {"north": 2, "south": 1}
    assert "3 missing days are lost records in 2 series (most in north: 2, south: 1)" in (
        report.gap_rule
    )
