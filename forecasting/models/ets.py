"""Exponential smoothing with automatic model choice (statsforecast's AutoETS).

AutoETS picks error, trend and season types by AICc per series; it matches R's
``ets`` on M4 and beat the statsmodels Holt-Winters fit this model used before
on our benchmarks (bench/RESULTS.md).
"""

from __future__ import annotations

import numpy as np

from forecasting.models.base import LocalForecaster

#: seasons longer than this (52 weeks) make the state vector huge and the fit slow;
#: Theta, SARIMA's Fourier terms and the tree models cover those
MAX_SEASON = 24
#: below this many periods there is nothing to choose between: the level is the forecast
MIN_PERIODS = 8


class ETS(LocalForecaster):
    """Additive or multiplicative error, trend and season chosen by AICc per series."""

    name = "ets"
    uses_exog = False
    short_ok = True

    def __init__(self, model: str = "ZZZ", damped: bool | None = None, history: int | None = 730):
        self.model = model
        self.damped = damped
        self.history = history

    def _fit_one(self, y, X, ds):
        from statsforecast.models import AutoETS

        if self.history:
            y = y[-self.history :]
        if len(y) < MIN_PERIODS:
            return float(np.mean(y))
        m = self.spec_.season_length
        seasonal = m <= MAX_SEASON and len(y) >= 2 * m + 2
        spec = self.model if seasonal else self.model[:2] + "N"
        fitted = AutoETS(season_length=m if seasonal else 1, model=spec, damped=self.damped)
        return _compact(fitted.fit(y))

    def _predict_one(self, state, X, ds):
        if isinstance(state, float):
            return np.full(len(ds), state)
        return np.asarray(state.predict(len(ds))["mean"])

    @staticmethod
    def search_space(trial, spec):
        return {
            "model": trial.suggest_categorical("model", ["ZZZ", "ZZN", "ZNZ", "ANN"]),
            "damped": trial.suggest_categorical("damped", [None, True]),
            "history": trial.suggest_categorical("history", [730, 8 * spec.season_length]),
        }


def _compact(fitted):
    """Keep what forecasting reads (the last state, components, parameters): model files
    stay small (the fit keeps every state, residual and the optimiser's simplex)."""
    model = fitted.model_
    for key in ("residuals", "fitted", "actual_residuals"):
        model[key] = np.empty(0)
    model["states"] = model["states"][-1:]
    model.pop("fit", None)
    return fitted
