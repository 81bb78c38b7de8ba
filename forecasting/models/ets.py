"""Exponential smoothing with automatic model choice (statsforecast's AutoETS).

AutoETS picks error, trend and season types by AICc per series; it matches R's
``ets`` on M4 and beat the statsmodels Holt-Winters fit this model used before
on our benchmarks (bench/RESULTS.md).

The pool is AutoETS's own (``ZZZ``): additive or multiplicative error and season,
no trend, a trend or a damped trend, each chosen by AICc per series. A pool
without trend (``ZNZ``, issue 18) cost less and held on the five retail files it
was chosen on, then lost to AutoETS by 5% on 133 trending monthly series nobody
had tuned it for; it stays a tuning choice.

Moved to a longer history (a later validation fold, the held-out window), a fit
keeps the form AICc chose and estimates its weights and initial states again on
the longer history: one model instead of the pool's fifteen. Keeping the old
weights and only filtering on (statsforecast's ``forward``) cost a tenth of that
and lost 13% of MASE on the Tourism competition's monthly series, whose patterns
drift over their 25 years.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecasting.models.local import SMOOTHING_HISTORY, SmoothingForecaster, season_within_reach
from forecasting.models.seasonal_adjustment import Adjustment

#: seasons longer than this (52 weeks) make the state vector huge and the fit slow: they
#: are taken out before the fit and put back after (``seasonal_adjustment``)
MAX_SEASON = 24
#: below this many periods there is nothing to choose between: the level is the forecast
MIN_PERIODS = 8


@dataclass
class EtsState:
    """A fitted ETS model (statsforecast's dict, compacted) and how many of the series'
    first periods its fit left out (the ``history`` cap)."""

    model: dict
    offset: int
    #: a season longer than ``MAX_SEASON``, taken out before the fit
    adjustment: Adjustment | None = None
    #: fitted without the season its data set has, on a history too short for it
    short_for_season: bool = False
    #: fitted without a trend, on a history too short for one (``trend_within_reach``)
    short_for_trend: bool = False


def trend_within_reach(periods: int, per_year: int) -> bool:
    """Whether a history is long enough for a trend form: half a year of it. A shorter one
    is mostly a launch, whose rise is its ramp; AutoETS took a ramp that levels off at 20
    a day for a trend and forecast 84 at 90 days from 20 days of history."""
    return periods >= per_year // 2


class ETS(SmoothingForecaster):
    """Additive or multiplicative error, trend and season chosen by AICc per series."""

    name = "ets"
    fit_overhead_seconds = 0.04
    uses_exog = False
    short_ok = True
    reads_dates = False
    series_seconds = 8e-4  # the whole pool: three times the no-trend pool's (bench/cost.py)
    period_seconds = 1.5e-5
    forward_share = 0.15
    positive_factor = 2.0  # the multiplicative forms join the search
    max_season = MAX_SEASON

    @classmethod
    def fit_seconds(cls, series, periods, rows, season=1):
        # a seasonal search (a season of 24 or less, two of them in the history) costs four
        # times as much: Favorita's stores against Walmart's departments (bench/cost.py)
        seasonal = season <= MAX_SEASON and min(periods, SMOOTHING_HISTORY) >= 2 * season + 2
        return super().fit_seconds(series, periods, rows, season) * (4 if seasonal else 1)

    def __init__(
        self,
        model: str = "ZZZ",
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
        y, adjustment = self._deseasonalized(y)
        seasonal = season_within_reach(m, len(y), MAX_SEASON)
        spec = self.model if seasonal else self.model[:2] + "N"
        trended = trend_within_reach(len(y), self.spec_.freq.periods_per_year)
        if not trended:
            spec = spec[0] + "N" + spec[2]
        damped = self.damped if spec[1] != "N" else None
        fitted = AutoETS(season_length=m if seasonal else 1, model=spec, damped=damped)
        short = 1 < m <= MAX_SEASON and not seasonal
        no_trend = not trended and self.model[1] != "N"
        return EtsState(_compact(fitted.fit(y).model_), offset, adjustment, short, no_trend)

    def _searched_again(self, state: EtsState, periods: int) -> bool:
        """Whether the season or the trend the first fit could not consider is now within
        reach."""
        m = self.spec_.season_length
        season = getattr(state, "short_for_season", False) and season_within_reach(
            m, periods, MAX_SEASON
        )
        trend = getattr(state, "short_for_trend", False) and trend_within_reach(
            periods, self.spec_.freq.periods_per_year
        )
        return season or trend

    def _forward_one(self, state, y, X, ds):
        """The form the fit chose (error, trend, damping, season), its weights estimated
        again on the longer history; the whole pool where that form no longer fits (a
        multiplicative form on a history that now has a zero)."""
        if not isinstance(state, EtsState):
            return self._fit_one(y, X, ds)
        from statsforecast.models import AutoETS

        offset = self._offset(len(y))
        adjusted, adjustment = self._deseasonalized(y[offset:])
        if self._searched_again(state, len(adjusted)):
            return self._fit_one(y, X, ds)
        form = state.model["components"]
        m = state.model["m"]
        try:
            fitted = AutoETS(season_length=m, model=form[:3], damped=form[3] != "N").fit(adjusted)
        except ValueError:
            return self._fit_one(y, X, ds)
        return EtsState(_compact(fitted.model_), offset, adjustment)

    def _refit_one(self, state, y, X, ds):
        """For serving: the trend and damping validation chose kept, the error and season
        types searched again on the whole history (a third of the pool). On M3's monthly
        series ETS scored 0.872 held out so, 0.863 searched afresh and 0.927 with the
        validated form kept whole; the fresh search cost as much as AutoETS itself."""
        if not isinstance(state, EtsState):
            return self._fit_one(y, X, ds)
        from statsforecast.models import AutoETS

        offset = self._offset(len(y))
        adjusted, adjustment = self._deseasonalized(y[offset:])
        if self._searched_again(state, len(adjusted)):
            return self._fit_one(y, X, ds)
        form, m = state.model["components"], state.model["m"]
        season = "Z" if m > 1 else "N"
        damped = form[3] != "N" if form[1] != "N" else None
        try:
            fitted = AutoETS(season_length=m, model="Z" + form[1] + season, damped=damped)
            fitted = fitted.fit(adjusted)
        except ValueError:
            return self._fit_one(y, X, ds)
        return EtsState(_compact(fitted.model_), offset, adjustment)

    def _predict_one(self, state, X, ds):
        from statsforecast.ets import forecast_ets

        if isinstance(state, float):
            return np.full(len(ds), state)
        mean = np.asarray(forecast_ets(state.model, h=len(ds))["mean"])
        adjustment = getattr(state, "adjustment", None)
        return adjustment.restore(mean) if adjustment else mean

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
