"""Automatic ARIMA per series (statsforecast's AutoARIMA, Hyndman-Khandakar stepwise).

The fourth model of the M4 statistical ensemble (ARIMA, ETS, CES, Theta) and the
strongest single model on long trending monthly series, where it beats AutoETS. It
costs ten to forty times an ETS fit, so it is ``expensive``: validated on a sample of
series first (``forecasting.evaluation.screening``). Seasons longer than ``MAX_SEASON`` (52
weeks, 365 days) are left to the non-seasonal search: a 52-lag seasonal polynomial is
slow and unstable, and the Fourier terms of ``sarima`` cover it. The fit reads the
last ``history`` periods; moved to a longer history, the orders the search chose
stay and the coefficients are estimated again (one model instead of the search's
dozens).
"""

from __future__ import annotations

import warnings

import numpy as np

from forecasting.models.local import LocalForecaster, season_within_reach

#: the longest season the seasonal search takes on
MAX_SEASON = 24
#: below this many periods there is nothing to identify: the level is the forecast
MIN_PERIODS = 10


class ARIMA(LocalForecaster):
    """AutoARIMA by AICc, stepwise, on the last ``history`` periods of each series."""

    name = "arima"
    uses_exog = False
    short_ok = False
    reads_dates = False
    expensive = True
    fit_overhead_seconds = 0.05
    series_seconds = 0.1  # 0.35 s a series of 240 months (Tourism's sample, bench/cost.py)
    period_seconds = 1e-3
    forward_share = 0.1

    def __init__(self, history: int | None = 240, max_order: int = 5):
        self.history = history
        self.max_order = max_order

    def _offset(self, n: int) -> int:
        return max(0, n - self.history) if self.history else 0

    def _fit_one(self, y, X, ds):
        offset = self._offset(len(y))
        y = y[offset:]
        if len(y) < MIN_PERIODS or np.ptp(y) == 0:
            return float(np.mean(y))
        from statsforecast.arima import auto_arima_f

        m = self.spec_.season_length
        seasonal = season_within_reach(m, len(y), MAX_SEASON)
        with warnings.catch_warnings():  # "possible convergence problem" of a candidate
            warnings.simplefilter("ignore")
            fitted = auto_arima_f(
                y, period=m if seasonal else 1, seasonal=seasonal, max_order=self.max_order
            )
        short = 1 < m <= MAX_SEASON and not seasonal
        return fitted | {"offset": offset, "short_for_season": short}

    def _forward_one(self, state, y, X, ds):
        """The orders the search chose, the coefficients estimated again on the longer
        history; the whole search where they no longer fit."""
        if not isinstance(state, dict):
            return self._fit_one(y, X, ds)
        from statsforecast.arima import Arima

        p, q, P, Q, m, d, D = state["arma"][:7]
        offset = self._offset(len(y))
        if state.get("short_for_season") and season_within_reach(
            self.spec_.season_length, len(y) - offset, MAX_SEASON
        ):
            return self._fit_one(y, X, ds)  # the season is within reach now: search again
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fitted = Arima(
                    y[offset:],
                    order=(p, d, q),
                    seasonal={"order": (P, D, Q), "period": m},
                    include_mean="intercept" in state["coef"],
                    include_drift="drift" in state["coef"],
                    method="CSS-ML",
                )
        except Exception:
            return self._fit_one(y, X, ds)
        return fitted | {"offset": offset}

    def _predict_one(self, state, X, ds):
        if isinstance(state, float):
            return np.full(len(ds), state)
        from statsforecast.arima import forecast_arima

        return np.asarray(forecast_arima(state, h=len(ds))["mean"])

    @classmethod
    def fitted_periods(cls, periods: float, season: int) -> float:
        return min(periods, 240)

    @staticmethod
    def search_space(trial, spec):
        return {
            "history": trial.suggest_categorical("history", [240, 120, 8 * spec.season_length]),
            "max_order": trial.suggest_int("max_order", 2, 5),
        }

    @classmethod
    def test_params(cls):
        return {"history": 60, "max_order": 2}
