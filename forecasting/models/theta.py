"""The Theta method (statsmodels), strong on seasonal retail series in M3/M4."""

from __future__ import annotations

import numpy as np
from statsmodels.tsa.forecasting.theta import ThetaModel

from forecasting.models.base import LocalForecaster


class Theta(LocalForecaster):
    """Seasonally adjusted SES with drift; ``theta`` weights the trend line."""

    name = "theta"
    uses_exog = False
    short_ok = True

    def __init__(self, theta: float = 2.0, method: str = "auto"):
        self.theta = theta
        self.method = method

    def _fit_one(self, y, X, ds):
        m = self.spec_.season_length
        seasonal = len(y) >= 2 * m
        positive = bool(np.all(y > 0))
        method = self.method if positive else "additive"
        if method == "auto" and not positive:
            method = "additive"
        return ThetaModel(y, period=m, deseasonalize=seasonal, method=method).fit()

    def _predict_one(self, state, X, ds):
        return np.asarray(state.forecast(len(ds), theta=self.theta))

    @staticmethod
    def search_space(trial, spec):
        return {
            "theta": trial.suggest_float("theta", 1.0, 3.0),
            "method": trial.suggest_categorical("method", ["auto", "additive"]),
        }
