"""The Theta method (statsforecast), strong on seasonal retail series in M3/M4.

statsforecast's implementation fits in about a millisecond on a monthly series,
so moved to a longer history (a later validation fold, the held-out window) it is
simply fitted again: its variant stays, its smoothing weight and theta follow the
newer data (keeping the old ones lost 1% of MASE on Tourism's monthly series).
"""

from __future__ import annotations

import numpy as np

from forecasting.models.local import SMOOTHING_HISTORY, SmoothingForecaster

#: below this many periods there is no trend line to draw: the mean is the forecast
MIN_PERIODS = 4


class Theta(SmoothingForecaster):
    """Seasonally adjusted SES with drift; ``model`` is the variant (Fiorucci et al. 2016):
    standard (STM, theta 2), optimised theta (OTM) or their dynamic forms (DSTM, DOTM)."""

    name = "theta"
    uses_exog = False
    #: a short series (no validation fold of its own) is often a launch, whose rise is its
    #: ramp: Theta's drift carried a stranger's 10-day launch from 10 a day to 34 at 90
    #: days, with nothing to check it against (``forecasting.data.ladder``)
    short_ok = False
    reads_dates = False
    series_seconds = 3.5e-5
    period_seconds = 1.6e-5
    forward_share = 1.0

    def __init__(
        self,
        model: str = "STM",
        decomposition: str = "multiplicative",
        history: int | None = SMOOTHING_HISTORY,
    ):
        self.model = model
        self.decomposition = decomposition
        self.history = history

    def _fit_one(self, y, X, ds):
        return self._theta(y, self._offset(len(y)))

    def _theta(self, y, offset) -> dict | float:
        from statsforecast.theta import auto_theta

        y = y[offset:]
        if len(y) < MIN_PERIODS or np.ptp(y) == 0:
            return float(np.mean(y))
        m = self.spec_.season_length
        fitted = auto_theta(
            y,
            m=m if len(y) >= 2 * m else 1,
            model=self.model,
            decomposition_type=self.decomposition,
        )
        for key in ("residuals", "fitted"):  # only intervals read them; ours are conformal
            fitted.pop(key, None)
        fitted["offset"] = offset
        return kept_states(fitted)

    def _predict_one(self, state, X, ds):
        from statsforecast.theta import forecast_theta

        if isinstance(state, float):
            return np.full(len(ds), state)
        return np.asarray(forecast_theta(whole_states(state), len(ds))["mean"])

    @staticmethod
    def search_space(trial, spec):
        return {
            "model": trial.suggest_categorical("model", ["STM", "OTM", "DSTM", "DOTM"]),
            "decomposition": trial.suggest_categorical(
                "decomposition", ["multiplicative", "additive"]
            ),
            "history": trial.suggest_categorical(
                "history", [SMOOTHING_HISTORY, 730, 8 * spec.season_length]
            ),
        }


def kept_states(fitted: dict) -> dict:
    """The fit with its last state only: the forecast reads no other (a test holds it to
    that), and a state per period of history was 15 KB a daily series, a third of a
    catalogue's serving model (issue 30)."""
    states = fitted["states"]
    return fitted | {"states": states[-1:].copy(), "state_rows": len(states)}


def whole_states(state: dict) -> dict:
    """``state`` as statsforecast's forecast takes it: the states at full length."""
    rows = state.get("state_rows")
    if rows is None:  # a model stored before it kept its last state only
        return state
    states = np.zeros((rows, state["states"].shape[1]))
    states[-1] = state["states"][-1]
    return state | {"states": states}
