"""Holt-Winters exponential smoothing (statsmodels), damped trend by default."""

from __future__ import annotations

import warnings

import numpy as np
from statsmodels.tsa.holtwinters import ExponentialSmoothing

from forecasting.models.base import LocalForecaster


class ETS(LocalForecaster):
    """Additive-error exponential smoothing with optional (damped) trend and season."""

    name = "ets"
    uses_exog = False

    def __init__(
        self,
        trend: str | None = "add",
        damped: bool = True,
        seasonal: str | None = "add",
        history: int | None = 365,
    ):
        self.trend = trend
        self.damped = damped
        self.seasonal = seasonal
        self.history = history

    def _fit_one(self, y, X, ds):
        m = self.spec_.season_length
        if self.history:
            y = y[-self.history :]
        # Like statsforecast's AutoETS, no seasonal states beyond 24 periods (52-week seasons
        # make the optimiser slow and unstable); Theta and the tree models cover those.
        seasonal = self.seasonal if len(y) >= 2 * m + 2 and m <= 24 else None
        if seasonal == "mul" and np.any(y <= 0):
            seasonal = "add"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = ExponentialSmoothing(
                y,
                trend=self.trend,
                damped_trend=bool(self.trend) and self.damped,
                seasonal=seasonal,
                seasonal_periods=m if seasonal else None,
                initialization_method="estimated",
            )
            return model.fit(optimized=True)

    def _predict_one(self, state, X, ds):
        return np.asarray(state.forecast(len(ds)))

    @staticmethod
    def search_space(trial, spec):
        m = spec.season_length
        return {
            "trend": trial.suggest_categorical("trend", ["add", None]),
            "damped": trial.suggest_categorical("damped", [True, False]),
            "seasonal": trial.suggest_categorical("seasonal", ["add", "mul", None]),
            "history": trial.suggest_categorical("history", [365, 730, 8 * m]),
        }
