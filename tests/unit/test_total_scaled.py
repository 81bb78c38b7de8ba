"""IMAPA scaled to the total: slow movers follow the trend of their sum; launches fake none."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.models import MODELS
from forecasting.models.total_scaled import common_total, total_ratio
from tests.support.frames import spec_for

H = 12


def slow_movers(trend: float, n_series: int = 80, periods: int = 48, seed: int = 0):
    """Monthly Poisson sales of spare parts whose rate changes by ``trend`` a month."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2020-01-01", periods=periods, freq="MS")
    frames = []
    for i in range(n_series):
        rate = rng.uniform(0.3, 2.0) * (1 + trend) ** np.arange(periods)
        frames.append(pd.DataFrame({"unique_id": f"p{i}", "ds": ds, "y": rng.poisson(rate)}))
    return pd.concat(frames, ignore_index=True).astype({"y": float})


def held_out(df: pd.DataFrame, name: str) -> tuple[float, float]:
    """Mean squared error per series and month over the last year (these models forecast
    the mean rate), and the error of the year's total, as a share of it."""
    cutoff = df["ds"].max() - pd.DateOffset(months=H)
    model = MODELS[name]().fit(df[df["ds"] <= cutoff], spec_for("MS"))
    pred = model.predict(H).merge(df, on=["unique_id", "ds"])
    mse = float(((pred["y"] - pred["yhat"]) ** 2).mean())
    return mse, abs(pred["yhat"].sum() / pred["y"].sum() - 1)


def test_declining_slow_movers_are_forecast_closer_than_by_flat_rates():
    df = slow_movers(trend=-0.03)
    (mse, total_error), (flat_mse, flat_total_error) = (
        held_out(df, "imapa_total"),
        held_out(df, "imapa"),
    )
    assert mse < 0.95 * flat_mse
    assert total_error < 0.5 * flat_total_error
    assert total_error < 0.15


def test_steady_slow_movers_are_forecast_about_as_imapa_does():
    df = slow_movers(trend=0.0, seed=1)
    assert held_out(df, "imapa_total")[0] < 1.05 * held_out(df, "imapa")[0]


def test_launches_stay_out_of_the_total_so_they_do_not_read_as_growth():
    df = slow_movers(trend=0.0, n_series=10, periods=36)
    late = df[df["unique_id"].isin(["p0", "p1", "p2"])].groupby("unique_id").tail(5)
    df = pd.concat([df[~df["unique_id"].isin(["p0", "p1", "p2"])], late])
    df.loc[df["unique_id"] == "p9", "y"] = 0.0  # never sold: not a member either
    members, total = common_total(df)
    assert members == {f"p{i}" for i in range(3, 9)}
    assert len(total) == 36
    by_back = df[df["unique_id"].isin(members)].groupby("ds")["y"].sum().to_numpy()
    np.testing.assert_allclose(total, by_back)


def test_a_total_too_short_or_rates_that_sum_to_nothing_leave_imapa_alone():
    assert (total_ratio(np.ones(3), np.ones(4), 12) == 1.0).all()
    ratio = total_ratio(np.full(30, 10.0), np.array([5.0, 0.0]), 12)
    assert ratio[1] == 1.0
    assert abs(ratio[0] - 2.0) < 1e-6  # a flat total of 10 over rates that sum to 5
