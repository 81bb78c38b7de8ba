"""Exponential smoothing with automatic model choice (statsforecast's AutoETS).

AutoETS picks error, trend and season types by AICc per series; it matches R's
``ets`` on M4 and beat the statsmodels Holt-Winters fit this model used before
on our benchmarks (bench/RESULTS.md).

By default the pool has no trend (``ZNZ``): the reduced pool of "fast and
frugal" retail forecasting (Petropoulos et al. 2023, arXiv 2102.13209). Held out
on Favorita, M5, Carparts and Walmart it scored as well or better than the full
pool (Walmart 1.48 against 1.59 MASE, Carparts 0.85 against 0.92) at a quarter to
a seventh of the cost; Theta and the global models carry trends. The full pool
stays a tuning choice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecasting.models.base import SMOOTHING_HISTORY, SmoothingForecaster

#: seasons longer than this (52 weeks) make the state vector huge and the fit slow;
#: Theta, SARIMA's Fourier terms and the tree models cover those
MAX_SEASON = 24
#: below this many periods there is nothing to choose between: the level is the forecast
MIN_PERIODS = 8


@dataclass
class EtsState:
    """A fitted ETS model (statsforecast's dict, compacted) and how many of the series'
    first periods its fit left out (the ``history`` cap): moving it forward filters the
    longer series from the same start, so its initial states still fit."""

    model: dict
    offset: int


class ETS(SmoothingForecaster):
    """Additive or multiplicative error, trend and season chosen by AICc per series."""

    name = "ets"
    fit_overhead_seconds = 0.04
    uses_exog = False
    short_ok = True
    reads_dates = False
    series_seconds = 2.7e-4
    period_seconds = 5e-6
    forward_share = 0.02
    positive_factor = 2.0  # the multiplicative forms join the search

    @classmethod
    def fit_seconds(cls, series, periods, rows, season=1):
        # a seasonal search (a season of 24 or less, two of them in the history) costs four
        # times as much: Favorita's stores against Walmart's departments (bench/cost.py)
        seasonal = season <= MAX_SEASON and min(periods, SMOOTHING_HISTORY) >= 2 * season + 2
        return super().fit_seconds(series, periods, rows, season) * (4 if seasonal else 1)

    def __init__(
        self,
        model: str = "ZNZ",
        damped: bool | None = None,
        history: int | None = SMOOTHING_HISTORY,
    ):
        self.model = model
        self.damped = damped
        self.history = history

    def _fit_one(self, y, X, ds):
        from statsforecast.models import AutoETS

        offset = self._offset(len(y))
        y = y[offset:]
        if len(y) < MIN_PERIODS:
            return float(np.mean(y))
        m = self.spec_.season_length
        seasonal = m <= MAX_SEASON and len(y) >= 2 * m + 2
        spec = self.model if seasonal else self.model[:2] + "N"
        fitted = AutoETS(season_length=m if seasonal else 1, model=spec, damped=self.damped)
        return EtsState(_compact(fitted.fit(y).model_), offset)

    def _forward_one(self, state, y, X, ds):
        from statsforecast.ets import forward_ets

        if not isinstance(state, EtsState) or state.offset >= len(y):
            return self._fit_one(y, X, ds)
        return EtsState(_compact(forward_ets(state.model, y[state.offset :])), state.offset)

    def _predict_one(self, state, X, ds):
        from statsforecast.ets import forecast_ets

        if isinstance(state, float):
            return np.full(len(ds), state)
        return np.asarray(forecast_ets(state.model, h=len(ds))["mean"])

    @staticmethod
    def search_space(trial, spec):
        return {
            "model": trial.suggest_categorical("model", ["ZNZ", "ZZZ", "ZZN", "ANN"]),
            "damped": trial.suggest_categorical("damped", [None, True]),
            "history": trial.suggest_categorical(
                "history", [SMOOTHING_HISTORY, 730, 8 * spec.season_length]
            ),
        }


def _compact(model: dict) -> dict:
    """Keep what forecasting and moving forward read (the last state, components,
    parameters): model files stay small (a fit keeps every state, residual and the
    optimiser's simplex)."""
    model = dict(model)
    for key in ("residuals", "fitted", "actual_residuals"):
        model[key] = np.empty(0)
    model["states"] = model["states"][-1:]
    model["fit"] = None
    return model
