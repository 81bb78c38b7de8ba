"""Drivers a planner can trust: effects with the right sign, per-series plans, honest scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.dataset import prepare
from forecasting.effects import driver_effects, group_effects
from forecasting.models import MODELS
from forecasting.models.base import forecast_grid
from forecasting.plans import use_plan
from forecasting.requests import ForecastRequest, answer
from forecasting.workflow import TrainOptions, backtest, train_and_forecast
from tests.planner_files import priced_promoted_weekly

H = 8
QUICK = TrainOptions(models=("linear_trend", "xgboost"), n_windows=2)
DRIVER_MODELS = [name for name, cls in MODELS.items() if cls.uses_exog]


def _panel(n_series: int = 12, **kwargs):
    data = prepare(
        priced_promoted_weekly(n_series, **kwargs).to_csv(index=False).encode(), horizon=H
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
