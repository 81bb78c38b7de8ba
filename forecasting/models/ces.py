"""Complex exponential smoothing (statsforecast's AutoCES, Svetunkov and Kourentzes).

CES models the level and its "potential" as one complex number, so a trend needs no
separate component: it follows a trend, a level or anything between without the
choice ETS makes between them. It is one of the four models of the statistical
ensemble that placed sixth in M4 (ARIMA, ETS, CES, Theta; ACCURACY.md, section 1)
and costs about what ETS does. A season over 24 periods is taken out before the fit
and put back after, as for ETS (``seasonal_adjustment``). The season type (none,
simple, partial, full) is chosen by AICc per series; moved to a longer history, the
season type stays and the weights are estimated again (as ETS's form).
"""

from __future__ import annotations

import numpy as np

from forecasting.models.ets import MAX_SEASON
from forecasting.models.local import SMOOTHING_HISTORY, SmoothingForecaster, season_within_reach

#: below this many periods the weights cannot be estimated: the level is the forecast
MIN_PERIODS = 8


class CES(SmoothingForecaster):
    """AutoCES: the season type chosen by AICc per series."""

    name = "ces"
    uses_exog = False
    #: on a short series (often a launch) CES follows the ramp as a trend: a stranger's
    #: 38-day launch selling about 12 a day was forecast at 83 a year ahead, its 10-day
    #: twin at 49 within four weeks (``forecasting.data.ladder``)
    short_ok = False
    reads_dates = False
    fit_overhead_seconds = 0.05
    series_seconds = 2e-3
    period_seconds = 2e-5
    forward_share = 0.35
    max_season = MAX_SEASON

    def __init__(self, model: str = "Z", history: int | None = SMOOTHING_HISTORY):
        self.model = model
        self.history = history

    def _season(self, n: int) -> int:
        m = self.spec_.season_length
        return m if season_within_reach(m, n, MAX_SEASON) else 1

    def _fit_one(self, y, X, ds):
        offset = self._offset(len(y))
        y = y[offset:]
        if len(y) < MIN_PERIODS or np.ptp(y) == 0:
            return float(np.mean(y))
        from statsforecast.ces import auto_ces

        y, adjustment = self._deseasonalized(y)
        m = self._season(len(y))
        fitted = auto_ces(y, m=m, model=self.model if m > 1 else "N")
        short = 1 < self.spec_.season_length <= MAX_SEASON and m == 1
        return _compact(fitted) | {
            "offset": offset, "adjustment": adjustment, "short_for_season": short,
        }  # fmt: skip

    def _forward_one(self, state, y, X, ds):
        """The season type the fit chose, its weights estimated again on the longer history."""
        if not isinstance(state, dict):
            return self._fit_one(y, X, ds)
        from statsforecast.ces import auto_ces

        offset = self._offset(len(y))
        adjusted, adjustment = self._deseasonalized(y[offset:])
        if state.get("short_for_season") and self._season(len(adjusted)) > 1:
            return self._fit_one(y, X, ds)  # the season is within reach now: search again
        refitted = auto_ces(adjusted, m=state["m"], model=state["seasontype"])
        return _compact(refitted) | {"offset": offset, "adjustment": adjustment}

    def _predict_one(self, state, X, ds):
        if isinstance(state, float):
            return np.full(len(ds), state)
        from statsforecast.ces import forecast_ces

        mean = np.asarray(forecast_ces(whole_states(state), len(ds))["mean"])
        adjustment = state.get("adjustment")
        return adjustment.restore(mean) if adjustment else mean

    @staticmethod
    def search_space(trial, spec):
        return {"model": trial.suggest_categorical("model", ["Z", "N", "S", "P", "F"])}


def _compact(model: dict) -> dict:
    """What forecasting and moving forward read: the season's states after the history,
    weights and type. A fit also keeps its residuals, the optimiser's result, its fitted
    values and a state per period of history: 12 KB a daily series, a quarter of a
    catalogue's serving model (issue 30); the forecast reads none of them (a test holds
    it to that)."""
    out = {k: v for k, v in model.items() if k not in ("residuals", "fit", "fitted")}
    n, m, states = model["n"], model["m"], model["states"]
    return out | {"states": states[n : n + m].copy(), "state_rows": len(states)}


def whole_states(state: dict) -> dict:
    """``state`` as statsforecast's forecast takes it: the states at full length (it reads
    the ``m`` after the history) and fitted values (it passes them through)."""
    rows = state.get("state_rows")
    if rows is None:  # a model stored before it kept the season's states only
        return state
    n, m = state["n"], state["m"]
    states = np.zeros((rows, state["states"].shape[1]))
    states[n : n + m] = state["states"]
    return state | {"states": states, "fitted": np.empty(0)}
