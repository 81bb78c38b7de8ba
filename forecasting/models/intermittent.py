"""Models for intermittent demand (statsforecast): Croston-SBA, TSB, ADIDA and IMAPA.

Most retail series are slow movers: many periods sell nothing. These methods
forecast the demand rate (size x probability of a sale), never a pattern of
zeros and spikes, which is what stocking needs (ACCURACY.md, section 3). Each
gives one flat level per series, so the fitted state is a single number and
the fits run in-process (microseconds per series).
"""

from __future__ import annotations

import numpy as np

from forecasting.models.local import LocalForecaster


class _FlatRateForecaster(LocalForecaster):
    """A per-series model whose forecast is one level for every future period."""

    uses_exog = False
    short_ok = True
    parallel = False
    reads_dates = False
    series_seconds = 8e-6
    period_seconds = 1.5e-7

    def _method(self):
        raise NotImplementedError

    def _fit_one(self, y, X, ds) -> float:
        if not np.any(y != 0):
            return 0.0
        method = self.__dict__.get("_method_cache")
        if method is None:  # one statsforecast object per batch of series, not per series
            method = self.__dict__["_method_cache"] = self._method()
        return float(method.forecast(y=y, h=1)["mean"][0])

    def _predict_one(self, state: float, X, ds) -> np.ndarray:
        return np.full(len(ds), state)


class Croston(_FlatRateForecaster):
    """Croston's method with the Syntetos-Boylan bias correction (SBA, alpha 0.1)."""

    name = "croston"
    fit_overhead_seconds = 0.1  # the first of the family compiles statsforecast's numba code

    def _method(self):
        from statsforecast.models import CrostonSBA

        return CrostonSBA()


class TSB(_FlatRateForecaster):
    """Teunter-Syntetos-Babai: updates the chance of a sale every period, so a product
    that stops selling decays towards zero instead of keeping its last rate."""

    name = "tsb"

    def __init__(self, alpha_d: float = 0.1, alpha_p: float = 0.1):
        self.alpha_d = alpha_d
        self.alpha_p = alpha_p

    def _method(self):
        from statsforecast.models import TSB as StatsforecastTSB

        return StatsforecastTSB(alpha_d=self.alpha_d, alpha_p=self.alpha_p)

    @staticmethod
    def search_space(trial, spec):
        return {
            "alpha_d": trial.suggest_float("alpha_d", 0.01, 0.5, log=True),
            "alpha_p": trial.suggest_float("alpha_p", 0.01, 0.5, log=True),
        }


class ADIDA(_FlatRateForecaster):
    """Aggregate-disaggregate: smooth the demand summed over the mean interval between sales."""

    name = "adida"

    def _method(self):
        from statsforecast.models import ADIDA as StatsforecastADIDA

        return StatsforecastADIDA()


class IMAPA(_FlatRateForecaster):
    """ADIDA at every aggregation level up to the mean interval, averaged."""

    name = "imapa"

    def _method(self):
        from statsforecast.models import IMAPA as StatsforecastIMAPA

        return StatsforecastIMAPA()
