"""Per-series ridge regression on a linear trend, seasonal terms, holidays and drivers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.data.calendar import calendar_features
from forecasting.models.local import LocalForecaster

_YEAR_DAYS = 365.25
#: calendar columns by date span (see ``LinearTrend._calendar``)
_CALENDARS: dict[tuple, np.ndarray] = {}


def seasonal_design(ds: pd.DatetimeIndex, alias: str, fourier_terms: int) -> np.ndarray:
    """Weekday dummies (daily), month dummies (monthly) and yearly Fourier terms."""
    cols = []
    if alias == "D":
        cols.append(np.eye(7)[ds.dayofweek][:, 1:])
    if alias in ("MS", "ME"):
        cols.append(np.eye(12)[ds.month - 1][:, 1:])
    elif fourier_terms > 0:
        phase = 2 * np.pi * (ds.dayofyear.to_numpy() - 1) / _YEAR_DAYS
        k = np.arange(1, fourier_terms + 1)
        cols += [np.sin(np.outer(phase, k)), np.cos(np.outer(phase, k))]
    return np.hstack(cols) if cols else np.empty((len(ds), 0))


def _signed_ridge(Z: np.ndarray, y: np.ndarray, alpha: float, signs: np.ndarray) -> np.ndarray:
    """Ridge (the intercept unpenalised) whose coefficients keep the ``signs`` asked
    (-1: at most 0, +1: at least 0, 0: free). A coefficient of the wrong sign is held at 0
    and the rest refitted, until none is: the active-set answer, as a price whose
    estimated effect came out positive is a price with no effect the data can show."""
    free = np.ones(Z.shape[1], dtype=bool)
    coef = np.zeros(Z.shape[1])
    for _ in range(int(np.count_nonzero(signs)) + 1):
        Zf = Z[:, free]
        penalty = alpha * np.eye(Zf.shape[1])
        penalty[0, 0] = 0.0
        coef = np.zeros(Z.shape[1])
        coef[free] = np.linalg.solve(Zf.T @ Zf + penalty, Zf.T @ y)
        wrong = signs * coef < 0
        if not wrong.any():
            break
        free &= ~wrong
    return coef


@dataclass
class _State:
    coef: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    origin: pd.Timestamp
    step_days: float


class LinearTrend(LocalForecaster):
    """Trend, season, holiday and drivers by ridge on the last ``history`` periods."""

    name = "linear_trend"
    series_seconds = 7.8e-5
    period_seconds = 4.5e-6

    def __init__(self, history: int | None = None, alpha: float = 1.0, fourier_terms: int = 4):
        self.history = history
        self.alpha = alpha
        self.fourier_terms = fourier_terms

    def _design(self, ds: pd.DatetimeIndex, X: np.ndarray | None, origin, step_days) -> np.ndarray:
        days = (ds - origin).to_numpy() / np.timedelta64(1, "D")
        trend = (days / step_days)[:, None]
        parts = [trend, self._calendar(ds)]
        if X is not None:
            parts.append(X)
        return np.hstack(parts)

    def _calendar(self, ds: pd.DatetimeIndex) -> np.ndarray:
        """Season and holiday columns of ``ds``; series of a panel mostly share their dates,
        so each span is computed once (it was most of a fit's cost)."""
        spec = self.spec_
        key = (
            ds[0].value,
            ds[-1].value,
            len(ds),
            spec.freq.alias,
            spec.country,
            self.fourier_terms,
        )
        cached = _CALENDARS.get(key)
        if cached is None:
            parts = [seasonal_design(ds, spec.freq.alias, self.fourier_terms)]
            if spec.country:
                cal = calendar_features(ds, spec.freq, spec.country)
                flag = "holiday" if "holiday" in cal else "holidays_in_period"
                parts.append(cal[[flag]].to_numpy(float))
            cached = np.hstack(parts)
            if len(_CALENDARS) >= 256:
                _CALENDARS.clear()
            _CALENDARS[key] = cached
        return cached

    def _fit_one(self, y, X, ds):
        if self.history:
            y, ds = y[-self.history :], ds[-self.history :]
            X = X[-self.history :] if X is not None else None
        step_days = self.spec_.freq.days_per_period
        origin = ds[-1]
        A = self._design(ds, X, origin, step_days)
        mean, scale = A.mean(axis=0), A.std(axis=0)
        scale[scale == 0] = 1.0
        Z = np.hstack([np.ones((len(A), 1)), (A - mean) / scale])
        signs = np.zeros(Z.shape[1])
        if X is not None:  # the drivers are the last columns
            signs[-X.shape[1] :] = [self.spec_.effect_sign(d) for d in self.spec_.exog]
        coef = _signed_ridge(Z, y, self.alpha, signs)
        return _State(coef, mean, scale, origin, step_days)

    def _predict_one(self, state: _State, X, ds):
        A = self._design(ds, X, state.origin, state.step_days)
        Z = np.hstack([np.ones((len(A), 1)), (A - state.mean) / state.scale])
        return Z @ state.coef

    @staticmethod
    def search_space(trial, spec):
        m = spec.season_length
        return {
            "history": trial.suggest_categorical("history", [None, 2 * m, 4 * m, 8 * m]),
            "alpha": trial.suggest_float("alpha", 1e-3, 100.0, log=True),
            "fourier_terms": trial.suggest_int("fourier_terms", 0, 8),
        }

    @classmethod
    def test_params(cls):
        return {"fourier_terms": 2}
