"""Metric values checked against hand-computed numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.evaluation.metrics import (
    METRICS,
    bias,
    evaluate,
    mape,
    mase,
    rmsse,
    smape,
    summarize,
    wape,
)

Y = np.array([10.0, 0.0, 30.0])
YHAT = np.array([12.0, 1.0, 27.0])
PAST = np.array([1.0, 2.0, 4.0, 7.0])  # one-step diffs 1, 2, 3; lag-2 diffs 3, 5


def test_values_by_hand():
    assert mase(Y, YHAT, PAST, 2) == pytest.approx(2.0 / 4.0)  # MAE 2 over mean |lag-2 diff| 4
    assert rmsse(Y, YHAT, PAST, 2) == pytest.approx(np.sqrt((4 + 1 + 9) / 3 / (14 / 3)))
    assert wape(Y, YHAT, PAST, 2) == pytest.approx(6 / 40 * 100)
    assert mape(Y, YHAT, PAST, 2) == pytest.approx((0.2 + 0.1) / 2 * 100)  # zero actual skipped
    assert smape(Y, YHAT, PAST, 2) == pytest.approx((4 / 22 + 2 + 6 / 57) / 3 * 100)
    assert bias(Y, YHAT, PAST, 2) == pytest.approx(0.0)


def test_perfect_forecast_scores_zero_and_all_metrics_share_one_signature():
    for name, metric in METRICS.items():
        value = metric(Y, Y.copy(), PAST, 2)
        assert value == pytest.approx(0.0) or (name == "mape" and value == 0.0)


def test_constant_history_does_not_divide_by_zero():
    flat = np.full(10, 5.0)
    assert np.isfinite(mase(Y, YHAT, flat, 7)) and np.isfinite(rmsse(Y, YHAT, flat, 7))


def test_evaluate_and_summarize_pool_wape():
    forecasts = pd.DataFrame(
        {"unique_id": ["a", "a", "b", "b"], "y": [10.0, 10, 100, 100], "m": [11.0, 9, 110, 90]}
    )
    history = pd.DataFrame(
        {"unique_id": ["a", "a", "b", "b"], "ds": range(4), "y": [8.0, 10, 90, 100]}
    )
    per_series = evaluate(forecasts, history, ["m"], season_length=1)
    assert per_series.set_index("unique_id")["mae"].to_dict() == {"a": 1.0, "b": 10.0}
    summary = summarize(per_series, forecasts)
    assert summary.loc["m", "wape"] == pytest.approx(22 / 220 * 100)
    assert summary.loc["m", "mae"] == pytest.approx(5.5)


def test_the_panel_pass_gives_the_numbers_of_the_functions_one_series_at_a_time():
    rng = np.random.default_rng(1)
    ids = np.repeat([f"s{i}" for i in range(30)], 6)
    y = rng.poisson(2.0, len(ids)).astype(float)
    y[ids == "s3"] = 0.0  # never sold in the window: WAPE, MAPE and bias undefined
    forecasts = pd.DataFrame({"unique_id": ids, "y": y, "a": y + rng.normal(0, 1, len(ids))})
    forecasts["b"] = np.where(forecasts.index % 4 == 0, 0.0, forecasts["a"] * 1.3)
    history = pd.DataFrame(
        {"unique_id": np.repeat(forecasts["unique_id"].unique(), 20), "y": rng.poisson(2, 600)}
    )
    history.loc[history["unique_id"] == "s5", "y"] = 4.0  # a flat history: the level scale
    fast = evaluate(forecasts, history, ["a", "b"], season_length=7)
    slow = evaluate(forecasts, history, ["a", "b"], season_length=7, metrics=dict(METRICS))
    pd.testing.assert_frame_equal(fast, slow, check_dtype=False)
