"""Drivers by default: each numeric column is kept only when validation says it helps."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from forecasting.errors import DataError
from forecasting.workflow import TrainOptions, backtest, train_and_forecast
from tests.support.frames import spec_for

H = 14
OPTIONS = TrainOptions(models=("linear_trend", "xgboost"), n_windows=2)


def price_frame(n_series: int = 3, periods: int = 200, seed: int = 0) -> pd.DataFrame:
    """Daily sales that follow a price changed at random, next to a column of pure noise."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2023-01-02", periods=periods)
    frames = []
    for i in range(n_series):
        price = rng.choice([8.0, 10.0, 12.0], periods)
        y = 300 + 20 * i - 15 * price + 5 * np.sin(np.arange(periods) * 2 * np.pi / 7)
        frames.append(
            pd.DataFrame(
                {
                    "unique_id": f"s{i}",
                    "ds": dates,
                    "y": y + rng.normal(0, 3, periods),
                    "price": price,
                    "shelf_temp": rng.normal(4, 1, periods),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def test_a_driver_that_helps_is_kept_and_noise_is_not():
    df = price_frame()
    report = backtest(df, spec_for("D", exog=("price", "shelf_temp")), H, OPTIONS)
    drivers = report.outcome.drivers
    assert drivers.used == ("price",)
    assert drivers.report["price"]["with"] < 0.5 * drivers.report["price"]["without"]
    assert not drivers.report["shelf_temp"]["used"]
    assert report.outcome.spec.exog == ("price",)
    plain = backtest(df, spec_for("D"), H, OPTIONS)
    assert report.summary.loc["selected", "wape"] < 0.6 * plain.summary.loc["selected", "wape"]


def test_without_a_plan_the_models_serve_without_the_driver():
    df = price_frame()
    outcome = train_and_forecast(df, spec_for("D", exog=("price",)), H, OPTIONS)
    assert outcome.drivers.used == ("price",)
    served = outcome.serving
    assert served.without_plan(None) == ["price"]
    unplanned = served.forecast(H)  # no plan: the driver-free twins serve
    assert np.isfinite(unplanned["yhat"]).all() and len(unplanned) == 3 * H
    last = df.groupby("unique_id")["ds"].max()
    grid = [(u, d) for u in last.index for d in pd.date_range(last[u], periods=H + 1)[1:]]
    plan = pd.DataFrame(grid, columns=["unique_id", "ds"])
    cheap = served.forecast(H, plan.assign(price=8.0))["yhat"].mean()
    dear = served.forecast(H, plan.assign(price=12.0))["yhat"].mean()
    assert cheap > dear + 40  # a planned price moves the forecast as the history says


def test_named_drivers_are_kept_without_screening():
    df = price_frame()
    options = TrainOptions(models=("linear_trend",), n_windows=2, drivers="all")
    outcome = train_and_forecast(df, spec_for("D", exog=("shelf_temp",)), H, options)
    assert outcome.drivers.used == ("shelf_temp",)
    with pytest.raises(DataError, match="planned values"):
        outcome.serving.fitted["linear_trend"].predict(H)


def _grocery_export(items: int = 6, days: int = 800, seed: int = 3, planned: int = 28) -> bytes:
    """Daily item sales that follow the item's price, beside the columns a store system
    exports with them: a store number, M5's week counter, a day-of-week and a month
    column, and a Christmas flag; the last ``planned`` days carry the planned prices and
    no sales yet."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2021-01-01", periods=days + planned)
    days += planned
    frames = []
    for item in range(items):
        price = 3 + rng.choice([0.0, -0.5], size=days, p=[0.8, 0.2])
        frames.append(
            pd.DataFrame(
                {
                    "date": dates.strftime("%Y-%m-%d"),
                    "item": f"i{item}",
                    "store_nbr": 101 + 11 * item,
                    "sales": rng.poisson(5 * np.exp(-0.5 * (price - 3))),
                    "sell_price": price,
                    "wm_yr_wk": 11100 + (dates - pd.Timestamp("2021-01-02")).days // 7,
                    "dow": dates.dayofweek,
                    "mon": dates.month,
                    "xmas": ((dates.month == 12) & (dates.day == 25)).astype(int),
                }
            )
        )
        frames[-1].loc[days - planned :, "sales"] = np.nan
    return pd.concat(frames).to_csv(index=False).encode()


def test_identifiers_counters_and_calendar_keys_are_never_tried_and_a_price_is():
    from forecasting.data.dataset import prepare
    from forecasting.data.reading_options import ReadingOptions

    data = prepare(_grocery_export(), ReadingOptions(ids=["item"]), horizon=28)
    assert data.spec.exog == ("sell_price",)
    why = data.drivers_left_out
    assert why["store_nbr"].startswith("an identifier")
    assert why["wm_yr_wk"].startswith("a counter")
    assert why["dow"] == "a calendar key: a function of the day of the week"
    assert why["mon"] == "a calendar key: a function of the month"
    assert why["xmas"].startswith("a calendar key")
    assert "wm_yr_wk not tried (a counter" in data.describe_drivers()
    # without the planned rows the price is not known ahead: not tried either
    unplanned = prepare(_grocery_export(planned=0), ReadingOptions(ids=["item"]), horizon=28)
    assert unplanned.spec.exog == ()
    assert "not known ahead" in unplanned.drivers_left_out["sell_price"]
    # named by the user, a column is used as asked
    named = prepare(_grocery_export(), ReadingOptions(ids=["item"], exog=["wm_yr_wk"]), horizon=28)
    assert named.spec.exog == ("wm_yr_wk",)


def test_a_holiday_flag_that_no_cycle_repeats_stays_a_candidate():
    from forecasting.data.driver_kinds import why_not_a_driver
    from forecasting.data.frequency import frequency_from_alias

    frame = make_weekly_with_moving_holiday()
    assert why_not_a_driver(frame, "holiday", frequency_from_alias("W-SUN")) is None


def make_weekly_with_moving_holiday() -> pd.DataFrame:
    """Three years of weeks; the flag marks Easter's week, which moves through the year."""
    dates = pd.date_range("2021-01-03", periods=156, freq="W-SUN")
    easter = pd.to_datetime(["2021-04-04", "2022-04-17", "2023-04-09"])
    flag = dates.isin(easter).astype(float)
    return pd.concat(
        [pd.DataFrame({"unique_id": u, "ds": dates, "y": 10.0, "holiday": flag}) for u in "ab"]
    )


def test_a_driver_that_only_helps_a_few_series_by_luck_is_not_kept():
    # ten series; the noise column lowers the validation score of some, raises others'
    df = price_frame(n_series=10, periods=160, seed=4)
    options = TrainOptions(models=("linear_trend",), n_windows=3)
    outcome = train_and_forecast(df, spec_for("D", exog=("price", "shelf_temp")), H, options)
    report = outcome.drivers.report
    assert report["price"]["used"] and report["price"]["t"] >= 2
    assert not report["shelf_temp"]["used"]
    assert len(report["shelf_temp"]["fold_gains"]) == 3


def test_a_named_driver_is_said_to_be_used_because_it_was_named_not_validated():
    from forecasting.evaluation.drivers import DriverChoice

    choice = DriverChoice(
        ("Preis", "price"),
        {
            "Preis": {"used": True},  # named by the user: not tested
            "price": {"used": True, "with": 0.41, "without": 0.62, "t": 6.3},
        },
    )
    named, tested = choice.describe()
    assert named == "Preis: used, as you named it (validation did not weigh it)"
    assert (
        tested
        == "price: used (validation score 0.410 with it, 0.620 without; paired t 6.3, 2 needed)"
    )


def test_the_reading_counts_the_plan_s_rows_and_says_which_plans_end_sooner(tmp_path):
    from forecasting.data.dataset import prepare
    from forecasting.data.reading_options import ReadingOptions

    rng = np.random.default_rng(1)
    rows = []
    for item, planned in (("a", 7), ("b", 7), ("c", 4)):
        for k, day in enumerate(pd.date_range("2024-01-01", periods=60 + planned)):
            sales = float(rng.poisson(20)) if k < 60 else None  # the plan: a price, no sales
            rows.append({"date": day, "item": item, "units": sales, "price": 2.0 + (k % 3)})
    path = tmp_path / "planned.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    reading = ReadingOptions(date="date", target="units", ids=("item",), exog=("price",))
    notes = "\n".join(prepare(path, reading, horizon=7).notes())
    assert "rows: 180 read (and 18 rows of plan past the last sale)" in notes
    assert (
        "planned values for 7 periods past the last sale (2024-03-01 to 2024-03-07), for 2 "
        "of 3 series; 1 ends sooner (the shortest after 4 periods)"
    ) in notes


def test_price_holes_are_filled_in_the_frame_itself_without_pandas_warning(tmp_path):
    """A stranger's runs printed SettingWithCopyWarning from the fill: a fill on a slice
    may not reach the frame that is used. Here it must, and silently."""
    import warnings

    from forecasting.data.dataset import prepare
    from forecasting.data.reading_options import ReadingOptions

    days = pd.date_range("2024-01-01", periods=60)
    frame = pd.concat(
        [
            pd.DataFrame({"date": days, "item": item, "units": 20.0 + np.arange(60) % 7,
                          "price": 2.5, "promo": 0.0})
            for item in ("a", "b")
        ],
        ignore_index=True,
    )  # fmt: skip
    frame.loc[[10, 11, 100], "price"] = None  # the export lost three prices
    frame.loc[[5, 70], "promo"] = None
    frame["revenue"] = frame["units"] * 2.5  # a column the reading leaves out
    path = tmp_path / "holes.csv"
    frame.to_csv(path, index=False)
    reading = ReadingOptions(
        date="date", target="units", ids=("item",), exog=("price", "promo"),
        prices=("price",), promotions=("promo",),
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.SettingWithCopyWarning)
        data = prepare(path, reading, horizon=7)
    assert (data.frame["price"] == 2.5).all() and (data.frame["promo"] == 0.0).all()


def test_a_revenue_column_is_an_outcome_never_tried_and_named_anyway_is_flagged():
    """Revenue is the sales again, priced: zero on the days nothing sold and moving with
    the units. A stranger ticked it as a driver and nothing said so."""
    import io

    from forecasting.data.dataset import prepare
    from forecasting.data.driver_kinds import outcome_of_sales
    from forecasting.data.reading_options import ReadingOptions

    export = pd.read_csv(io.BytesIO(_grocery_export()))
    export["revenue"] = export["sales"] * export["sell_price"]
    raw = export.to_csv(index=False).encode()
    data = prepare(raw, ReadingOptions(ids=["item"]), horizon=28)
    assert data.spec.exog == ("sell_price",)  # the price stays a candidate
    assert set(data.outcomes) == {"revenue"}
    assert data.drivers_left_out["revenue"].startswith("zero whenever nothing sold")
    assert outcome_of_sales(data.frame, "sell_price") is None
    from dashapp.upload_views import report_card

    report = json.loads(json.dumps(data.validation_report(), default=str))  # as the page has it
    card = report_card(report, data.notes(), "x.csv")
    assert "revenue (an outcome of the sales)" in str(card)
    ids = _find(card, "retraining-read-ids")
    assert "item" in ids.options and not {"sell_price", "revenue", "sales"} & set(ids.options)
    assert {"sell_price", "revenue", "sales"} <= {
        o["value"] for o in _find(card, "retraining-read-target").options
    }
    named = prepare(raw, ReadingOptions(ids=["item"], exog=["revenue"]), horizon=28)
    assert named.spec.exog == ("revenue",)  # the user's word stands, and is questioned
    assert "revenue is used as you named it, but it looks like an outcome" in (
        named.describe_drivers()
    )
    # moving with the sales is not enough: a column that is not zero with them is no outcome
    traffic = data.frame.assign(traffic=data.frame["y"] * 10 + 50)
    assert outcome_of_sales(traffic, "traffic") is None


def test_a_revenue_is_an_outcome_where_every_day_sold_too():
    """No day without a sale to show revenue zero with the units (a second stranger's
    shop): a steady amount per unit sold, moving with the sales, tells it; a price and a
    promotion flag are no outcome."""
    from forecasting.data.driver_kinds import outcome_of_sales

    rng = np.random.default_rng(4)
    rows = []
    for uid, base in (("a", 3.5), ("b", 8.0), ("c", 1.2)):
        promo = (rng.random(200) < 0.1).astype(float)
        price = base * np.where(promo == 1, 0.8, rng.choice([0.95, 1.0, 1.05], 200))
        units = rng.poisson(20 * (1 + 0.6 * promo)) + 3  # never zero
        rows.append(pd.DataFrame({"unique_id": uid, "y": units.astype(float), "price": price,
                                  "promo": promo, "revenue": units * price}))  # fmt: skip
    frame = pd.concat(rows, ignore_index=True)
    said = outcome_of_sales(frame, "revenue")
    assert said is not None and said.startswith("a steady amount per unit sold")
    assert outcome_of_sales(frame, "price") is None
    assert outcome_of_sales(frame, "promo") is None


def test_a_weekly_erp_export_s_margin_and_fiscal_week_are_never_tried_even_unplanned():
    """A stranger's ERP export had no rows past its last week: its Gross Margin $ (an
    outcome) and Fiscal Week (a calendar key drifting against the calendar's weeks) were
    offered as plain ticks, said only to be "not known ahead", as was the price."""
    from forecasting.data.dataset import prepare
    from forecasting.data.reading_options import ReadingOptions

    rng = np.random.default_rng(6)
    weeks = pd.date_range("2020-12-12", periods=260, freq="W-SAT")  # five years: it drifts
    fiscal = ((weeks - pd.Timestamp("2022-01-30")).days // 7) % 52 + 1  # 364-day years
    rows = []
    for sku, price in (("a", 4.8), ("b", 15.0), ("c", 9.5)):
        promo = rng.random(len(weeks)) < 0.12
        net = price * np.where(promo, 0.85, 1.0)
        season = 1 + 0.3 * np.sin(2 * np.pi * np.arange(len(weeks)) / 52)
        units = rng.poisson(900 * season * np.where(promo, 1.6, 1.0)).astype(float)
        rows.append(pd.DataFrame({
            "Week Ending": weeks.strftime("%m/%d/%Y"), "SKU": sku, "Units Shipped": units,
            "Net Price": net, "Gross Margin $": units * (net - 0.3 * price),
            "Fiscal Week": fiscal, "Promo Flag": np.where(promo, "Y", "N"),
        }))  # fmt: skip
    csv = pd.concat(rows).to_csv(index=False).encode()
    why = prepare(csv, ReadingOptions(), horizon=4).drivers_left_out
    assert why["Fiscal Week"].startswith("a calendar key: it numbers the periods")
    assert "an outcome of them" in why["Gross Margin $"]
    assert "not known ahead" in why["Net Price"]  # a plan would make it a candidate


def test_a_margin_whose_promotion_weeks_sell_more_at_less_a_unit_is_an_outcome():
    """A stranger's Gross Margin $ moved with the units at 0.55 within series: promotion
    weeks sell 60% more at 15% off. Its amount per unit is steady all the same."""
    from forecasting.data.driver_kinds import _median_correlation, outcome_of_sales

    rng = np.random.default_rng(8)
    rows = []
    for uid, price in (("a", 4.8), ("b", 15.0), ("c", 9.5)):
        promo = rng.random(150) < 0.12
        net = price * np.where(promo, 0.85, 1.0)
        season = 1 + 0.1 * np.sin(np.arange(150) * 2 * np.pi / 52)
        units = rng.poisson(900 * season * np.where(promo, 1.6, 1.0)).astype(float)
        rows.append(pd.DataFrame({"unique_id": uid, "y": units, "net": net,
                                  "margin": units * (net - 0.55 * price)}))  # fmt: skip
    frame = pd.concat(rows, ignore_index=True)
    r = _median_correlation(frame["margin"], frame["y"], frame["unique_id"])
    assert 0.5 < r < 0.75  # what a threshold of 0.75 (0.9 before) let through
    assert "an outcome of them" in outcome_of_sales(frame, "margin")
    assert outcome_of_sales(frame, "net") is None


def test_an_outcome_does_not_explain_the_sales_away_when_outliers_are_flagged():
    """With revenue among the drivers the outliers are judged on, the sales' own priced
    copy explains them so well that ordinary days stand out (a stranger's upload flagged
    69 points where the stored data flagged 31)."""
    from forecasting.data.cleaning import flag_outliers
    from forecasting.data.dataset import prepare
    from forecasting.data.reading_options import ReadingOptions

    rng = np.random.default_rng(4)
    dates = pd.date_range("2023-01-01", periods=730, freq="D")
    promo = ((np.arange(730) // 7) % 9 == 4).astype(int)
    rows = []
    for i, (level, list_price) in enumerate([(20, 8.0), (6, 3.5), (0.3, 300.0), (12, 2.0)]):
        price = (list_price * np.where(promo == 1, 0.8, 1.0)).round(2)
        weekend = 1 + 0.4 * (dates.dayofweek >= 5)
        qty = rng.poisson(level * weekend * np.where(promo == 1, 1.6, 1.0))
        revenue = (qty * price).round(2)
        columns = {"day": dates.strftime("%Y-%m-%d"), "item": f"i{i}", "qty": qty}
        rows.append(pd.DataFrame(columns | {"price": price, "promo": promo, "revenue": revenue}))
    raw = pd.concat(rows).to_csv(index=False).encode()
    data = prepare(raw, ReadingOptions(target="qty"), horizon=28)
    assert set(data.outcomes) == {"revenue"}
    judged = flag_outliers(data.frame, 7, 6.0, ["price", "promo"])
    assert data.cleaned.outliers.equals(judged)
    assert len(flag_outliers(data.frame, 7, 6.0, ["price", "promo", "revenue"])) > len(judged)


def _find(component, id_: str):
    """The component of a layout with id ``id_``."""
    if getattr(component, "id", None) == id_:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and not isinstance(child, str):
            found = _find(child, id_)
            if found is not None:
                return found
    return None
