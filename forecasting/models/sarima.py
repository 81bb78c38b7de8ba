"""Seasonal ARIMA per series (statsmodels), tractable for long seasons.

Seasons up to 24 periods (weekly-in-daily, monthly) use a seasonal ARIMA
order; longer ones (52 weeks) are modelled by Fourier terms as regressors of a
plain ARIMA, since a 52-lag seasonal polynomial is slow and unstable. History
and optimiser iterations are capped so one fit can never hang.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from forecasting.models.linear_trend import seasonal_design
from forecasting.models.local import LocalForecaster

MAX_SEASONAL_ORDER_PERIOD = 24


@dataclass
class SarimaState:
    """What a fitted series needs to forecast: data, orders and estimated parameters.

    Kept instead of statsmodels' results object, which holds every filter and
    smoother matrix (hundreds of MB for a few dozen series); refiltering with
    fixed parameters at forecast time costs milliseconds.
    """

    y: np.ndarray
    exog: np.ndarray | None
    order: tuple[int, int, int]
    seasonal: tuple[int, int, int, int]
    trend: str
    params: np.ndarray | None
    #: the driver columns that vary in this series' history (a price that never changed
    #: is a second constant next to the trend, which SARIMAX refuses)
    varying: np.ndarray | None = None

    def model(self):
        """The statsmodels SARIMAX of this state (imported here: statsmodels takes a
        second to import, and most runs never fit an ARIMA)."""
        from statsmodels.tsa.statespace.sarimax import SARIMAX

        return SARIMAX(
            self.y,
            exog=self.exog,
            order=self.order,
            seasonal_order=self.seasonal,
            trend=self.trend,
            enforce_stationarity=False,
            enforce_invertibility=False,
        )


class SARIMA(LocalForecaster):
    name = "sarima"
    period_seconds = 8e-6
    fit_overhead_seconds = 0.1
    expensive = True
    series_seconds = 0.045
    forward_share = 0.05

    def __init__(
        self,
        p: int = 1,
        d: int = 0,
        q: int = 1,
        P: int = 0,
        D: int = 1,
        Q: int = 1,
        fourier_terms: int = 4,
        history: int | None = 250,
        maxiter: int = 30,
    ):
        self.p, self.d, self.q = p, d, q
        self.P, self.D, self.Q = P, D, Q
        self.fourier_terms = fourier_terms
        self.history = history
        self.maxiter = maxiter

    def _uses_fourier(self) -> bool:
        return self.spec_.season_length > MAX_SEASONAL_ORDER_PERIOD

    def _exog(self, X, ds):
        parts = [X] if X is not None else []
        if self._uses_fourier() and self.fourier_terms:
            parts.append(seasonal_design(ds, self.spec_.freq.alias, self.fourier_terms))
        return np.hstack(parts) if parts else None

    def _fit_one(self, y, X, ds):
        if self.history:
            y, ds = y[-self.history :], ds[-self.history :]
            X = X[-self.history :] if X is not None else None
        m = self.spec_.season_length
        seasonal = (0, 0, 0, 0)
        if not self._uses_fourier() and len(y) > 2 * m + 2:
            seasonal = (self.P, self.D, self.Q, m)
        d = self.d
        trend = "c" if d + seasonal[1] == 0 else ("t" if d + seasonal[1] == 1 else "n")
        varying = np.ptp(X, axis=0) > 0 if X is not None else None
        signs = np.array([self.spec_.effect_sign(name) for name in self.spec_.exog])
        while True:  # a driver whose effect comes out with the wrong sign is left out
            state = SarimaState(
                y, self._exog(_columns(X, varying), ds), (self.p, d, self.q), seasonal, trend,
                None, varying,
            )  # fmt: skip
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fitted = state.model().fit(disp=False, maxiter=self.maxiter, method="lbfgs")
            state.params = np.asarray(fitted.params)
            wrong = _wrong_signs(fitted, varying, signs)
            if wrong is None:
                return state
            varying = varying & ~wrong

    def _forward_one(self, state, y, X, ds):
        """The estimated coefficients on the longer history: filtering is all it costs."""
        if not isinstance(state, SarimaState) or state.params is None:
            return self._fit_one(y, X, ds)
        if self.history:
            y, ds = y[-self.history :], ds[-self.history :]
            X = X[-self.history :] if X is not None else None
        exog = self._exog(_columns(X, state.varying), ds)
        return SarimaState(
            y, exog, state.order, state.seasonal, state.trend, state.params, state.varying
        )

    def _predict_one(self, state, X, ds):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = state.model().filter(state.params)
            X = _columns(X, state.varying)
            return np.asarray(results.forecast(len(ds), exog=self._exog(X, ds)))

    @staticmethod
    def search_space(trial, spec):
        params = {
            "p": trial.suggest_int("p", 0, 3),
            "d": trial.suggest_int("d", 0, 1),
            "q": trial.suggest_int("q", 0, 2),
        }
        if spec.season_length > MAX_SEASONAL_ORDER_PERIOD:
            params["fourier_terms"] = trial.suggest_int("fourier_terms", 1, 10)
        else:
            params |= {
                "P": trial.suggest_int("P", 0, 1),
                "D": trial.suggest_int("D", 0, 1),
                "Q": trial.suggest_int("Q", 0, 1),
            }
        return params

    @classmethod
    def test_params(cls):
        return {"history": 120, "maxiter": 20}


def _wrong_signs(fitted, varying: np.ndarray | None, signs: np.ndarray) -> np.ndarray | None:
    """The drivers whose fitted coefficient has the sign their role forbids (None: none).

    The drivers fitted are the first exogenous columns, named ``x1, x2, ...``."""
    if varying is None or not signs.any():
        return None
    names = list(fitted.model.param_names)
    wrong = np.zeros(len(varying), dtype=bool)
    for k, j in enumerate(np.flatnonzero(varying)):
        name = f"x{k + 1}"
        if signs[j] and name in names and signs[j] * fitted.params[names.index(name)] < 0:
            wrong[j] = True
    return wrong if wrong.any() else None


def _columns(X: np.ndarray | None, keep: np.ndarray | None) -> np.ndarray | None:
    """The driver columns a series' model was fitted with (none left: no drivers)."""
    if X is None or keep is None:
        return X
    return X[:, keep] if keep.any() else None
