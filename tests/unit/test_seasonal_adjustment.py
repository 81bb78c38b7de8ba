"""A yearly season too long for ETS's state is taken out before the fit, where it is."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.data.seasonality import stable_season
from forecasting.models.seasonal_adjustment import repeats_a_season_later, seasonally_adjusted
from forecasting.workflow import TrainOptions, train_and_forecast
from tests.support.frames import spec_for

WEEKS = 148  # under three years: two or three values for each week of the year


def _christmas_weeks(seed: int, weeks: int = WEEKS) -> np.ndarray:
    """Weekly sales of a decoration: a tenfold peak in mid-December, noise otherwise."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2022-12-10", periods=weeks, freq="W-SAT")
    days = (ds - pd.to_datetime([f"{d.year}-12-15" for d in ds])).days.to_numpy()
    days = np.minimum(np.abs(days), 365 - np.abs(days))
    mu = 120 * (1 + 5.0 * np.exp(-((days / 28.0) ** 2)))
    return rng.poisson(mu).astype(float)


def test_a_christmas_peak_on_under_three_years_is_a_season():
    """The positions' test has two or three values a week of the year and missed it."""
    seen = [seasonally_adjusted(_christmas_weeks(seed), 52)[1] is not None for seed in range(6)]
    assert sum(seen) >= 5
    y = _christmas_weeks(0)
    assert repeats_a_season_later(y, 52)


@pytest.mark.parametrize("kind", ["noise", "random walk", "counts"])
def test_noise_a_random_walk_and_counts_are_no_season(kind):
    rng = np.random.default_rng(11)
    found = 0
    for _ in range(50):
        if kind == "noise":
            y = rng.normal(100, 10, WEEKS)
        elif kind == "random walk":
            y = 100 + np.cumsum(rng.normal(0, 5, WEEKS))
        else:
            y = rng.poisson(3, WEEKS).astype(float)
        found += repeats_a_season_later(y, 52)
    assert found <= 2  # about 1% of series by chance


def test_ets_forecasts_the_christmas_peak_it_no_longer_misses():
    weeks = 138  # to the end of July 2025: the positions' test alone finds no season
    df = pd.concat(
        pd.DataFrame(
            {
                "unique_id": f"s{i}",
                "ds": pd.date_range("2022-12-10", periods=weeks, freq="W-SAT"),
                "y": _christmas_weeks(i, weeks),
            }
        )
        for i in range(3)
    )
    options = TrainOptions(models=("ets",), n_windows=1)
    ets = train_and_forecast(df, spec_for("W-SAT"), 22, options).per_model  # to Christmas
    first = ets.groupby("unique_id")["ets"].first()
    december = ets.loc[ets["ds"].dt.month == 12].groupby("unique_id")["ets"].max()
    assert (december > 3 * first).all(), ets


def test_the_positions_test_alone_is_unchanged():
    """The gap fill still asks the positions' test alone."""
    assert not stable_season(np.r_[np.ones(52), np.ones(52) * 1.0], 52)
