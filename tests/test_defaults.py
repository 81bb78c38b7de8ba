"""The defaults that generalize: a trend that is there is forecast, a combination serves
unless validation says otherwise beyond noise (``forecasting.selection``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.frequency import frequency_from_alias
from forecasting.spec import DataSpec
from forecasting.workflow import TrainOptions, train_and_forecast

H = 12


def trending_monthly(n_series: int = 12, months: int = 96, seed: int = 2) -> pd.DataFrame:
    """Monthly series that grow by 1.5% of their level a month, with a season and noise."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2016-01-01", periods=months, freq="MS")
    t = np.arange(months)
    frames = []
    for i in range(n_series):
        level = 200 + 40 * i
        y = level * (1 + 0.015 * t) * (1 + 0.15 * np.sin(2 * np.pi * t / 12 + i))
        frames.append(
            pd.DataFrame(
                {"unique_id": f"s{i:02d}", "ds": dates, "y": y * rng.normal(1, 0.03, months)}
            )
        )
    return pd.concat(frames, ignore_index=True)


def test_a_trend_that_is_there_is_forecast():
    df = trending_monthly()
    spec = DataSpec(freq=frequency_from_alias("MS"), country=None)
    options = TrainOptions(models=("ets", "theta", "ces"), n_windows=2)
    outcome = train_and_forecast(df, spec, H, options)
    served = set(outcome.selection.choice)
    assert served <= {"ensemble(ets+theta+ces)", "ets", "theta", "ces"}
    forecast = outcome.forecast.groupby("unique_id")["yhat"].mean()
    last_year = df.groupby("unique_id").tail(12).groupby("unique_id")["y"].mean()
    level = pd.Series(200.0 + 40 * np.arange(12), index=forecast.index)
    # a 1.5% monthly growth lifts next year's mean over the last one's by 18% of the level
    gained = (forecast - last_year) / level
    assert (gained > 0.09).all(), gained.round(3).to_dict()
