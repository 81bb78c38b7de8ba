"""Drivers a planner can trust: effects with the right sign, per-series plans, honest scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.data.dataset import prepare
from forecasting.data.reading_options import ReadingOptions
from forecasting.models import MODELS
from forecasting.models.base import forecast_grid
from forecasting.serving.effects import driver_effects, group_effects
from forecasting.serving.plans import use_plan
from forecasting.serving.requests import ForecastRequest, answer
from forecasting.workflow import TrainOptions, backtest, train_and_forecast
from tests.support.files import priced_promoted_weekly

H = 8
QUICK = TrainOptions(models=("linear_trend", "xgboost"), n_windows=2)
DRIVER_MODELS = [name for name, cls in MODELS.items() if cls.uses_exog]


def _panel(n_series: int = 12, **kwargs):
    # the file holds no rows ahead: the planner declares the price and the display known
    # ahead (they set them), so they are tried as drivers
    data = prepare(
        priced_promoted_weekly(n_series, **kwargs).to_csv(index=False).encode(),
        ReadingOptions(exog=["price", "display"]),
        horizon=H,
    )
    return data.frame, data.spec


@pytest.fixture(scope="module")
def panel():
    return _panel()


@pytest.fixture(scope="module")
def trained(panel):
    df, spec = panel
    return train_and_forecast(df, spec, H, QUICK).serving


def _held(serving, price_factor: float = 1.0, display: float = 0.0) -> pd.DataFrame:
    grid = forecast_grid(serving.last_ds, H, serving.spec)
    last = serving.driver_tail.groupby("unique_id")["price"].last()
    return grid.assign(price=grid["unique_id"].map(last) * price_factor, display=display)


def test_the_roles_come_from_the_names():
    _, spec = _panel(3)
    assert spec.prices == ("price",) and spec.promotions == ("display",)
    assert spec.effect_sign("price") == -1 and spec.effect_sign("display") == 1


@pytest.mark.parametrize("name", DRIVER_MODELS)
def test_a_price_rise_never_raises_a_forecast_and_a_promotion_never_lowers_one(name, panel):
    df, spec = panel
    df = df.loc[df["unique_id"].isin(df["unique_id"].unique()[:4])]
    model = MODELS[name](**MODELS[name].test_params()).fit(df, spec)
    grid = forecast_grid(model.last_ds_, H, spec)
    last = df.groupby("unique_id")["price"].last()

    def forecast(factor: float, display: float) -> np.ndarray:
        future = grid.assign(price=grid["unique_id"].map(last) * factor, display=display)
        return model.predict(H, future)["yhat"].to_numpy()

    usual, dear = forecast(1.0, 0.0), forecast(1.3, 0.0)
    assert (dear <= usual + 1e-6 * np.abs(usual).max()).all()
    promoted = forecast(1.0, 1.0)
    assert (promoted >= usual - 1e-6 * np.abs(usual).max()).all()


def test_a_hole_in_one_series_plan_leaves_the_others_whole_and_is_named(trained):
    grid = forecast_grid(trained.last_ds, H, trained.spec)
    lowest = grid["unique_id"].map(trained.driver_range["price_min"])  # within the history
    plan = grid.assign(price=lowest, display=0.0)
    first = trained.series[0]
    hole = plan.index[(plan["unique_id"] == first)][2]
    plan.loc[hole, ["price", "display"]] = np.nan  # the source data's lost week
    short = trained.series[1]
    plan = plan.drop(plan.index[(plan["unique_id"] == short)][5:])  # its plan ends early
    use = use_plan(plan, trained, H)
    steps = use.periods()
    assert steps[first] == H  # filled by rule: the previous price, no promotion
    assert steps[short] == 5
    assert (steps.drop([first, short]) == H).all()  # nobody else loses a period
    filled = use.rows.set_index(["unique_id", "ds"]).loc[(first, plan.loc[hole, "ds"])]
    previous = trained.driver_range.loc[first, "price_min"]  # the planned price before it
    assert filled["price"] == previous and filled["display"] == 0.0
    holes = use.describe_holes()
    assert any(
        first in line and "price" in line and "the price before it" in line for line in holes
    )
    # the series a plan cannot move are left out of what the page says of the plan
    others = use.without([first])
    assert first not in others.periods().index and short in others.periods().index
    assert not any(first in line for line in others.describe_holes())
    assert len(others.rows) == len(use.rows) - H
    assert any(first in line and "display" in line and "no promotion" in line for line in holes)
    rows = answer(trained, ForecastRequest(H, plan=plan)).rows
    by_series = rows.groupby("unique_id")["planned"].sum()
    assert by_series[short] == 5 and by_series[first] == H
    past = rows.loc[(rows["unique_id"] == short) & ~rows["planned"]]
    assert past["model"].isin(set(trained.unplanned)).all()  # the driver-free choice


def test_a_blank_what_if_driver_gives_the_driver_free_forecast(trained):
    blank = answer(trained, ForecastRequest(H, drivers={"price": None})).rows
    none = trained.forecast(H)
    assert not blank["planned"].any()
    np.testing.assert_allclose(blank["yhat"].to_numpy(), none["yhat"].to_numpy())
    assert set(blank["model"]) <= set(trained.unplanned)
    assert not set(blank["model"]) & {"xgboost", "linear_trend"}
    past_plan = {m for c in set(trained.unplanned) for m in trained.members[c]}
    assert past_plan <= trained.served_models()  # marked served, as they serve here


def test_a_named_driver_no_served_forecast_reads_is_not_called_a_perfect_plan():
    """Drivers named, yet the models chosen read none: the held-out report says a plan
    changes nothing instead of comparing a "perfect plan" with none (a stranger's find)."""
    from pipeline.formatting import describe_holdout
    from tests.support.frames import make_frame, spec_for

    df = make_frame(n_series=3, periods=150, exog=True, seed=2)
    options = TrainOptions(n_windows=2, models=("ets", "theta"), drivers="all")
    holdout = backtest(df, spec_for(exog=("promo",)), H, options).holdout()
    assert holdout["series_a_plan_moves"] == 0
    assert holdout["with_plan"] == holdout["without_plan"]
    said = describe_holdout({"holdout": holdout})
    assert "a plan changes nothing" in said and "perfect plan" not in said


def test_a_price_typed_as_it_stands_changes_nothing_a_blank_promotion_is_off(trained):
    last = trained.driver_tail.groupby("unique_id")["price"].last()
    uid = trained.series[0]
    typed = answer(trained, ForecastRequest(H, series=(uid,), drivers={"price": float(last[uid])}))
    held = answer(
        trained,
        ForecastRequest(H, series=(uid,), drivers={"price": float(last[uid]), "display": 0}),
    )
    np.testing.assert_allclose(typed.rows["yhat"], held.rows["yhat"])
    assert typed.rows["planned"].all() and (typed.rows["display"] == 0).all()


def test_the_held_out_scores_with_and_without_the_plan_are_both_reported(panel):
    df, spec = panel
    report = backtest(df, spec, H, QUICK)
    holdout = report.holdout()
    for key in ("with_plan", "without_plan"):
        assert {"mase", "rmsse", "wape", "coverage80", "coverage95"} <= set(holdout[key])
    # the prices and the display explain much: knowing them must show in the score
    assert holdout["with_plan"]["mase"] < 0.85 * holdout["without_plan"]["mase"]
    assert 0 < holdout["series_a_plan_moves"] <= df["unique_id"].nunique()
    assert report.to_json({}, H)["holdout"] == holdout
    beyond = report.outcome.selection.beyond_plan
    assert not {m for c in set(beyond.choice) for m in beyond.members.get(c, [c])} & {
        "xgboost",
        "linear_trend",
    }
    # past the plan nothing serves that validates worse than the simple benchmarks
    scores = beyond.scores
    served = np.mean(
        [scores.loc[uid, c] for uid, c in beyond.choice.items() if uid in scores.index]
    )
    assert served <= scores[["naive", "seasonal_naive"]].mean().min() + 1e-9
    # how it was chosen is said beside how the choice with a plan was: a test per pool
    tests = report.outcome.selection.tests()
    beyond_tests = [t for t in tests if t.pool.endswith(", periods no plan covers")]
    assert len(beyond_tests) == len(beyond.departures) >= 1
    assert tests[: len(tests) - len(beyond_tests)] == report.outcome.selection.departures
    assert [t.challenger for t in beyond_tests] == [t.challenger for t in beyond.departures]


def test_the_served_elasticity_and_lift_are_near_the_truth():
    # thirty series: on twelve, a display one week in six is too rare to show beyond noise
    df, spec = _panel(30, seed=1)
    serving = train_and_forecast(df, spec, H).serving  # the defaults
    table = group_effects(driver_effects(serving), None).set_index("driver")
    assert abs(table.loc["price", "effect"] / -2.0 - 1) < 0.25
    assert 1.2 < table.loc["display", "effect"] < 1.8  # a lift of 1.5


def test_the_elasticity_of_a_series_at_its_regular_price_is_not_halved():
    """A stranger's SKUs sold at a regular price with discounts below it, and each last
    week at the regular price, the highest ever: a price 10% above it is held at it in the
    forecast, so the reported elasticity read half the true one. It is measured over the
    prices the forecast takes."""
    panel = priced_promoted_weekly(30, seed=1, steps=(0.7, 0.85, 1.0, 1.0), regular_last=True)
    data = prepare(panel.to_csv(index=False).encode(), ReadingOptions(exog=["price"]), horizon=H)
    serving = train_and_forecast(data.frame, data.spec, H, QUICK).serving
    tail = serving.driver_tail.groupby("unique_id")["price"].last()
    assert (tail >= serving.driver_range["price_max"].reindex(tail.index) - 1e-9).all()
    table = group_effects(driver_effects(serving), None).set_index("driver")
    assert abs(table.loc["price", "effect"] / -2.0 - 1) < 0.25


def test_a_promotion_week_is_not_an_outlier_a_week_nothing_explains_is():
    from forecasting.data.cleaning import flag_outliers

    rng = np.random.default_rng(3)
    weeks = 110
    promo = np.zeros(weeks)
    promo[rng.choice(np.arange(5, weeks - 5), 12, replace=False)] = 1.0
    y = rng.poisson(50, weeks) * (1 + 2.0 * promo)  # a promotion triples a week's units
    odd = int(np.flatnonzero(promo == 0)[40])
    y[odd] = 400.0  # a week nothing in the file explains
    frame = pd.DataFrame(
        {"unique_id": "s", "ds": pd.date_range("2022-01-05", periods=weeks, freq="W-WED"),
         "y": y.astype(float), "promo": promo}
    )  # fmt: skip
    flagged = set(flag_outliers(frame, 52, drivers=["promo"])["ds"])
    promoted = set(frame.loc[promo == 1, "ds"])
    assert not flagged & promoted and frame.loc[odd, "ds"] in flagged
    assert set(flag_outliers(frame, 52)["ds"]) & promoted  # blind to the driver, it would


def test_price_cuts_that_lift_by_a_factor_are_not_outliers_a_lost_week_is():
    """Promotions of different depths on a growing level: the lift is a factor of the
    level (constant elasticity), which a straight line through the units cannot take
    out (a stranger's named promotion weeks were flagged, 5 of 12)."""
    from forecasting.data.cleaning import flag_outliers

    rng = np.random.default_rng(5)
    weeks, frames, promoted, lost = 130, [], set(), set()
    dates = pd.date_range("2022-01-05", periods=weeks, freq="W-WED")
    for i in range(6):
        promo = rng.random(weeks) < 0.12
        price = 4.0 * (1 - np.where(promo, rng.uniform(0.15, 0.4, weeks), 0.0))
        level = rng.uniform(20, 200) * (1 + 0.004 * np.arange(weeks))
        y = rng.poisson(level * (price / 4.0) ** -2.5 * rng.gamma(15, 1 / 15, weeks))
        gone = int(np.flatnonzero(~promo)[50])
        y = y.astype(float)
        y[gone] = 0.0  # a week whose records were lost, written as nothing sold
        columns = {"y": y, "price": price.round(2), "promo": promo.astype(float)}
        frames.append(pd.DataFrame({"unique_id": f"s{i}", "ds": dates, **columns}))
        promoted |= {(f"s{i}", d) for d in dates[promo]}
        lost.add((f"s{i}", dates[gone]))
    frame = pd.concat(frames, ignore_index=True)
    out = flag_outliers(frame, 52, drivers=["price", "promo"])
    flagged = set(zip(out["unique_id"], out["ds"], strict=True))
    assert len(flagged & promoted) <= 1 and lost <= flagged
    given = out.merge(frame, on=["unique_id", "ds"], suffixes=("", "_file"))
    assert (given["y"] == given["y_file"]).all()  # the values as the file gave them


def test_a_yearly_season_is_measured_from_three_years_only():
    from forecasting.data.eda import profile
    from tests.support.frames import spec_for

    rng = np.random.default_rng(0)
    for weeks, measured in ((115, False), (160, True)):
        ds = pd.date_range("2020-01-01", periods=weeks, freq="W-WED")
        y = pd.Series(
            100 + 20 * np.sin(2 * np.pi * np.arange(weeks) / 52) + rng.normal(0, 3, weeks), index=ds
        )
        stats = profile(y, spec_for("W-WED")).stats
        assert (stats["seasonal_strength"] is not None) is measured
        assert ("under 3 years" in stats.get("seasonal_note", "")) is not measured


def test_a_price_beyond_the_history_is_held_at_its_edge_and_said(trained):
    uid = trained.series[0]
    highest = trained.driver_range.loc[uid, "price_max"]
    asked = answer(trained, ForecastRequest(H, series=(uid,), drivers={"price": highest * 3}))
    edge = answer(trained, ForecastRequest(H, series=(uid,), drivers={"price": float(highest)}))
    np.testing.assert_allclose(asked.rows["yhat"], edge.rows["yhat"])
    assert (asked.rows["yhat"] > 0).all()  # never the zero a straight line would reach
    said = asked.plan.describe_outside()
    assert said and uid in said[0] and "above its history's range" in said[0]
    # the periods say the price the forecast used, not the one asked
    np.testing.assert_allclose(asked.plan.rows["price"], highest)


def test_every_driver_null_gives_the_driver_free_forecast(trained):
    blank = answer(trained, ForecastRequest(H, drivers={"price": None, "display": None})).rows
    np.testing.assert_allclose(blank["yhat"], trained.forecast(H)["yhat"])
    plan = forecast_grid(trained.last_ds, H, trained.spec).assign(price=9.0, display=1.0)
    no_price = answer(trained, ForecastRequest(H, plan=plan, drivers={"price": None})).rows
    last = trained.driver_tail.groupby("unique_id")["price"].last()
    assert no_price["planned"].all() and (no_price["display"] == 1.0).all()  # it stands
    held = no_price["unique_id"].map(last)  # the price: no plan, so it keeps its last value
    np.testing.assert_allclose(no_price["price"], held)
