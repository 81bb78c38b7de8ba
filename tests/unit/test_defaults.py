"""The defaults that generalize: a trend that is there is forecast, a combination serves
unless validation says otherwise beyond noise (``forecasting.evaluation.selection``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.data.frequency import frequency_from_alias
from forecasting.data.spec import DataSpec
from forecasting.models import MODELS
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


@pytest.mark.parametrize("name", ["ets", "ces", "arima"])
def test_a_season_out_of_reach_at_the_first_fold_is_searched_for_once_within_reach(name):
    """48 months validated with three yearly folds start from 12: too short for a season.
    Moved forward, and refitted for serving, on the whole history the fit must search
    again and find the season (it once stayed flat: the naive forecast, unwarned)."""
    df = trending_monthly(n_series=3, months=48)
    spec = DataSpec(freq=frequency_from_alias("MS"), country=None)
    first = df.groupby("unique_id").head(14)
    fitted = MODELS[name]().fit(first, spec)
    for later in (fitted.moved(df), fitted.refitted(df)):
        forecast = later.predict(H)
        spread = forecast.groupby("unique_id")["yhat"].agg(lambda y: y.max() / y.min())
        assert (spread > 1.15).all(), spread  # the season is +-15%: not a flat line


def test_a_launch_s_ramp_is_not_forecast_as_a_trend():
    """Twelve long daily series that grow, and a launch 30 days old whose sales ramp up
    and level off: the long ones keep their trend, the launch's forecast stays near its
    last weeks (a stranger's 38-day launch selling 12 a day was forecast at 83)."""
    rng = np.random.default_rng(4)
    dates = pd.date_range("2023-01-01", periods=540, freq="D")
    t = np.arange(540)
    frames = [
        pd.DataFrame({"unique_id": f"s{i:02d}", "ds": dates,
                      "y": rng.poisson((40 + 3 * i) * (1 + t / 540) * (1 + 0.2 * (t % 7 == 5)))})
        for i in range(12)
    ]  # fmt: skip
    ramp = np.minimum(2 + 0.8 * np.arange(30), 18)
    frames.append(pd.DataFrame({"unique_id": "launch", "ds": dates[-30:],
                                "y": rng.poisson(ramp)}))  # fmt: skip
    df = pd.concat(frames, ignore_index=True).astype({"y": float})
    spec = DataSpec(freq=frequency_from_alias("D"), country=None)
    options = TrainOptions(models=("ets", "theta", "ces"), n_windows=2)
    outcome = train_and_forecast(df, spec, 28, options)
    forecast = outcome.forecast.set_index("unique_id")["yhat"]
    recent = df[df["unique_id"] == "launch"]["y"].tail(14).mean()
    assert forecast["launch"].max() < 1.5 * recent, forecast["launch"].round(1).tolist()
    grown = forecast.drop("launch").groupby(level=0).mean()
    last = (
        df[df["unique_id"] != "launch"].groupby("unique_id")["y"].apply(lambda y: y.tail(28).mean())
    )
    assert (grown > last).mean() > 0.5  # the long series' trend stays
