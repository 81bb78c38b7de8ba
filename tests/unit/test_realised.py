"""Realised accuracy, the drift rule and why a model serves, on small frames with known
answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.evaluation.realised import DRIFT_RATIO, DRIFT_RULE, judge_drift, realised_accuracy
from forecasting.evaluation.why import describe_why, why_served


def _case():
    ds = pd.date_range("2025-01-01", periods=4, freq="MS")
    forecast = pd.DataFrame(
        {"unique_id": ["a"] * 4 + ["b"] * 4, "ds": list(ds) * 2,
         "yhat": [10.0, 10, 10, 10, 20, 20, 20, 20]}
    )  # fmt: skip
    forecast["lo80"], forecast["hi80"] = forecast["yhat"] - 1, forecast["yhat"] + 1
    forecast["lo95"], forecast["hi95"] = forecast["yhat"] - 3, forecast["yhat"] + 3
    # two periods have arrived: a misses by 2 and 0, b by 1 and 4
    actuals = pd.DataFrame(
        {"unique_id": ["a", "a", "b", "b"], "ds": [ds[0], ds[1]] * 2, "y": [12.0, 10, 21, 24]}
    )
    history = pd.DataFrame(
        {"unique_id": ["a"] * 3 + ["b"] * 3, "ds": list(pd.date_range("2024-10-01", periods=3,
         freq="MS")) * 2, "y": [8.0, 10, 12, 18, 20, 22]}
    )  # fmt: skip
    return forecast, actuals, history


def test_the_figures_are_the_backtests_on_the_periods_that_arrived():
    forecast, actuals, history = _case()
    got = realised_accuracy(forecast, actuals, history, season_length=1)
    assert got.periods == 2 and got.points == 4
    # naive scale 2 for both series: MASE a = mean(2, 0) / 2, b = mean(1, 4) / 2
    assert got.overall["mase"] == pytest.approx(np.mean([0.5, 1.25]))
    assert got.overall["wape"] == pytest.approx(7 / 67)
    assert got.overall["bias"] == pytest.approx(-7 / 67)
    assert got.overall["coverage80"] == pytest.approx(0.5)  # 10 and 21 inside +-1
    assert got.overall["coverage95"] == pytest.approx(0.75)  # 24 is 4 above 20
    steps = got.steps.set_index("step")
    assert steps.loc[1, "mase"] == pytest.approx(np.mean([2 / 2, 1 / 2]))
    assert steps.loc[2, "wape"] == pytest.approx(4 / 34)
    assert got.series.set_index("unique_id").loc["b", "points"] == 2


def test_nothing_arrived_is_zero_periods_and_no_figures():
    forecast, actuals, history = _case()
    got = realised_accuracy(forecast, actuals.iloc[:0], history, season_length=1)
    assert got.periods == 0 and got.overall["mase"] is None
    assert not judge_drift(got, 0.5, 12).drifted


def test_drift_is_worse_than_promised_by_the_stated_ratio_once_enough_arrived():
    forecast, actuals, history = _case()
    narrow = realised_accuracy(forecast, actuals, history, season_length=1)
    low = judge_drift(narrow, narrow.overall["wape"], horizon=2)  # half inside the 80% band
    assert low.drifted and "only 50% of the actuals fell inside the 80% band" in low.why
    forecast["lo80"], forecast["hi80"] = forecast["yhat"] - 5, forecast["yhat"] + 5
    got = realised_accuracy(forecast, actuals, history, season_length=1)
    wape = got.overall["wape"]
    assert not judge_drift(got, wape, horizon=12).drifted  # 2 of the 3 periods it waits for
    assert judge_drift(got, wape / (DRIFT_RATIO + 0.1), horizon=2).drifted
    assert not judge_drift(got, wape / (DRIFT_RATIO - 0.1), horizon=2).drifted
    verdict = judge_drift(got, wape / 2, horizon=2)
    assert "2.00x the held-out" in verdict.why


def test_one_near_empty_series_does_not_hide_the_others_drift():
    # a seller of ~1,000 a month misses by 15% where its backtest missed by 9%; beside it a
    # near-empty series (history 0, 0, 0.01) misses by 1: its MASE is in the hundreds
    ds = pd.date_range("2025-01-01", periods=3, freq="MS")
    forecast = pd.DataFrame(
        {"unique_id": ["big"] * 3 + ["tiny"] * 3, "ds": list(ds) * 2,
         "yhat": [1000.0] * 3 + [1.0] * 3}
    )  # fmt: skip
    for level, width in ((80, 400.0), (95, 600.0)):
        forecast[f"lo{level}"], forecast[f"hi{level}"] = (
            forecast["yhat"] - width,
            forecast["yhat"] + width,
        )
    actuals = forecast[["unique_id", "ds"]].assign(y=[1150.0, 850, 1150, 0, 0, 0])
    history = pd.DataFrame(
        {"unique_id": ["big"] * 3 + ["tiny"] * 3, "ds": list(ds - pd.DateOffset(months=3)) * 2,
         "y": [900.0, 1000, 1100, 0, 0, 0.01]}
    )  # fmt: skip
    got = realised_accuracy(forecast, actuals, history, season_length=1)
    tiny = got.series.set_index("unique_id").loc["tiny", "mase"]
    assert tiny > 50 * got.series.set_index("unique_id").loc["big", "mase"]
    verdict = judge_drift(got, 0.09, horizon=3)
    assert verdict.drifted and "WAPE" in verdict.why and "WAPE" in DRIFT_RULE


def test_why_names_the_runner_up_and_the_baseline_per_class_when_classes_chose_apart():
    ids = [f"s{i}" for i in range(6)]
    scores = pd.DataFrame(
        {"ets": [0.5, 0.6, 0.55, 1.0, 1.1, 0.9], "croston": [0.9, 0.8, 0.85, 0.6, 0.7, 0.65],
         "seasonal_naive": [1.0] * 6}, index=ids
    )  # fmt: skip
    choice = pd.Series(["ets"] * 3 + ["croston"] * 3, index=ids)
    classes = pd.Series(["smooth"] * 3 + ["intermittent"] * 3, index=ids)
    rows = why_served(scores, choice, classes)
    by = {r["group"]: r for r in rows}
    assert by["smooth"]["served"] == "ets" and by["smooth"]["runner_up"] == "croston"
    assert by["smooth"]["score"] == pytest.approx(0.55)
    assert by["intermittent"]["baseline_score"] == pytest.approx(1.0)
    text = describe_why(rows)
    assert "smooth: ets (validation score 0.550, runner-up croston 0.850" in text
    one = why_served(scores, pd.Series("ets", index=ids), classes)
    assert [r["group"] for r in one] == ["all"]
    assert describe_why(one).startswith("ets serves (validation score")


def test_why_says_a_lower_scoring_challenger_did_not_replace_what_serves():
    """The combination stays unless a challenger wins beyond noise: 'runner-up ces 0.830'
    beside a served 0.869 read as a contradiction to a stranger."""
    ids = [f"s{i}" for i in range(4)]
    anchor = "ensemble(croston+tsb+adida+imapa)"
    scores = pd.DataFrame({anchor: [0.87] * 4, "ces": [0.83] * 4}, index=ids)
    text = describe_why(why_served(scores, pd.Series(anchor, index=ids)))
    assert "runner-up" not in text
    assert (
        "ces 0.830: lower, but not by more than noise across series and folds, so it did "
        "not replace it"
    ) in text
