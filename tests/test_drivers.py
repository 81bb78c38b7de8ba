"""Drivers by default: each numeric column is kept only when validation says it helps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.errors import DataError
from forecasting.workflow import TrainOptions, backtest, train_and_forecast
from tests.conftest import spec_for

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
