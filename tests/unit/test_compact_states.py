"""Theta and CES keep only the states their forecast reads (issue 30): a state per
period of history was about half a catalogue's serving model. Their forecasts are
statsforecast's own on the whole fit, for every variant and season type."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from statsforecast.ces import auto_ces, forecast_ces
from statsforecast.theta import auto_theta, forecast_theta

from forecasting.models import ces, theta


def _series(kind: int, n: int = 365) -> np.ndarray:
    rng = np.random.default_rng(kind)
    t = np.arange(n)
    return 50 + 0.04 * t * kind + 10 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 3, n)


@pytest.mark.parametrize("model", ["STM", "OTM", "DSTM", "DOTM"])
@pytest.mark.parametrize("kind", [0, 1, 2])
def test_theta_forecasts_from_its_last_state_as_from_all(model, kind):
    fitted = auto_theta(_series(kind), m=7, model=model)
    whole = forecast_theta(fitted, 60)["mean"]
    kept = theta.kept_states(fitted)
    assert kept["states"].shape[0] == 1
    np.testing.assert_array_equal(forecast_theta(theta.whole_states(kept), 60)["mean"], whole)
    assert len(pickle.dumps(kept)) < len(pickle.dumps(fitted)) / 4


@pytest.mark.parametrize("season", ["N", "S", "P", "F"])
@pytest.mark.parametrize("kind", [0, 1, 2])
def test_ces_forecasts_from_its_seasons_states_as_from_all(season, kind):
    m = 1 if season == "N" else 7
    fitted = auto_ces(_series(kind), m=m, model=season)
    whole = forecast_ces(fitted, 60)["mean"]
    kept = ces._compact(fitted)
    assert kept["states"].shape[0] == m and "fitted" not in kept
    np.testing.assert_array_equal(forecast_ces(ces.whole_states(kept), 60)["mean"], whole)
    assert len(pickle.dumps(kept)) < len(pickle.dumps(fitted)) / 4


def test_a_fit_stored_before_with_every_state_still_forecasts():
    fitted = auto_theta(_series(1), m=7, model="OTM")
    assert theta.whole_states(fitted) is fitted
    fitted = auto_ces(_series(1), m=7, model="S")
    assert ces.whole_states(fitted) is fitted
