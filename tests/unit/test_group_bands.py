"""Bands of a sum of series are calibrated on the sum's own validation errors."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from forecasting.evaluation.group_bands import sum_with_bands, validation_errors

H, FOLDS = 8, 6


def _validation(errors: np.ndarray) -> pd.DataFrame:
    """A validation table of ``errors[series, fold, step]`` around a forecast of 100."""
    n, folds, h = errors.shape
    rows = []
    for i, f, s in itertools.product(range(n), range(folds), range(h)):
        cutoff = pd.Timestamp("2024-01-01") + pd.Timedelta(days=10 * f)
        ds = cutoff + pd.Timedelta(days=s + 1)
        rows.append({"unique_id": f"s{i}", "cutoff": cutoff, "ds": ds, "y": 100 + errors[i, f, s]})
    table = pd.DataFrame(rows)
    return table.assign(model=100.0)


def _forecast_rows(n: int, half80: float, half95: float, model: str = "model") -> pd.DataFrame:
    """Per-series forecast rows of 100 a period with the given symmetric bands."""
    ds = pd.date_range("2025-01-01", periods=H)
    frames = [
        pd.DataFrame(
            {
                "unique_id": f"s{i}", "ds": ds, "yhat": 100.0, "model": model,
                "lo80": 100 - half80, "hi80": 100 + half80,
                "lo95": 100 - half95, "hi95": 100 + half95, "extrapolated": False,
            }
        )
        for i in range(n)
    ]  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def _scale(n: int) -> pd.Series:
    return pd.Series(1.0, index=[f"s{i}" for i in range(n)])


def _nonnegative(n: int) -> pd.Series:
    return pd.Series(True, index=[f"s{i}" for i in range(n)])


def test_independent_errors_give_a_band_of_the_sum_not_the_sum_of_bands():
    n = 25
    rng = np.random.default_rng(0)
    errors = validation_errors(_validation(rng.normal(0, 1, (n, FOLDS, H))), {"model"})
    rows = _forecast_rows(n, half80=1.28, half95=1.96)  # each series' own calibrated band
    out = sum_with_bands(rows, errors, _scale(n), _nonnegative(n))
    summed = sum_with_bands(rows, None, _scale(n), _nonnegative(n))
    assert np.allclose(out["yhat"], 100 * n)
    width = (out["hi80"] - out["lo80"]).mean() / 2
    assert np.isclose((summed["hi80"] - summed["lo80"]).mean() / 2, 1.28 * n)
    # a sum of 25 independent unit errors has sd 5: its 80% half-width is near 6.4, not 32
    assert 3.5 < width < 11, width


def test_errors_that_move_together_keep_the_wide_band():
    n = 25
    rng = np.random.default_rng(1)
    common = rng.normal(0, 1, (1, FOLDS, H))
    errors = validation_errors(_validation(np.repeat(common, n, axis=0)), {"model"})
    rows = _forecast_rows(n, half80=1.28, half95=1.96)
    out = sum_with_bands(rows, errors, _scale(n), _nonnegative(n))
    width = (out["hi80"] - out["lo80"]).mean() / 2
    assert width > 0.6 * 1.28 * n, width  # the series miss together: no diversification


def test_the_band_never_narrows_and_unvalidated_members_add_their_own():
    n = 10
    rng = np.random.default_rng(2)
    errors = validation_errors(_validation(rng.normal(0, 1, (n, FOLDS, H))), {"model"})
    rows = _forecast_rows(n, half80=1.28, half95=1.96)
    launch = _forecast_rows(1, half80=30.0, half95=50.0, model="level").assign(unique_id="new")
    both = pd.concat([rows, launch], ignore_index=True)
    scale, nonnegative = _scale(n), _nonnegative(n)
    alone = sum_with_bands(rows, errors, scale, nonnegative)
    out = sum_with_bands(both, errors, pd.concat([scale, pd.Series({"new": 5.0})]), nonnegative)
    assert np.allclose((out["hi80"] - alone["hi80"]) - (out["yhat"] - alone["yhat"]), 30.0)
    for level in (80, 95):
        width = (out[f"hi{level}"] - out[f"lo{level}"]).to_numpy()
        assert np.all(np.diff(width) >= -1e-9)
    assert (out["hi95"] >= out["hi80"]).all() and (out["lo95"] <= out["lo80"]).all()


def test_without_validation_errors_the_bands_are_summed():
    rows = _forecast_rows(3, half80=2.0, half95=3.0)
    out = sum_with_bands(rows, None, _scale(3), _nonnegative(3))
    assert np.allclose(out["hi80"] - out["yhat"], 6.0)


def test_a_level_too_few_summed_errors_can_reach_widens_as_the_members_bands_do():
    """Twelve summed errors (four weeks, three folds) cover at most 12/13 of what comes
    next: their 95% quantile was their largest, and a stranger's category read 80% +-89,
    95% +-101. The 95% band is the 80% one widened as the members' own bands widen."""
    n = 9
    rng = np.random.default_rng(2)
    errors = validation_errors(_validation(rng.normal(0, 1, (n, 3, 4))), {"model"})
    rows = _forecast_rows(n, half80=1.28, half95=2.56)  # members' tails: twice as wide
    out = sum_with_bands(rows, errors, _scale(n), _nonnegative(n))
    half80 = (out["hi80"] - out["yhat"]).to_numpy()
    half95 = (out["hi95"] - out["yhat"]).to_numpy()
    assert half80[0] < 0.5 * 1.28 * n  # the 80% band is still the sum's own
    assert np.allclose(half95[:4], 2 * half80[:4])
    # with errors enough for 95% (eight periods, six folds), both are the sum's own
    many = validation_errors(_validation(rng.normal(0, 1, (n, FOLDS, H))), {"model"})
    both = sum_with_bands(_forecast_rows(n, 1.28, 2.56), many, _scale(n), _nonnegative(n))
    ratio = (both["hi95"] - both["yhat"]) / (both["hi80"] - both["yhat"])
    assert not np.allclose(ratio, 2.0)


def test_a_period_every_member_is_sure_of_is_sure_in_the_sum():
    """Closed on Christmas Day: each store's forecast 0 with a 0-0 band, yet the total's
    band read 0-70 at 80% and 0-120 at 95% (a stranger's chain)."""
    n = 9
    rng = np.random.default_rng(3)
    errors = validation_errors(_validation(rng.normal(0, 1, (n, FOLDS, H))), {"model"})
    rows = _forecast_rows(n, half80=1.28, half95=1.96)
    closed = rows["ds"] == rows["ds"].iloc[2]
    rows.loc[closed, ["yhat", "lo80", "hi80", "lo95", "hi95"]] = 0.0
    out = sum_with_bands(rows, errors, _scale(n), _nonnegative(n)).set_index("ds")
    day = rows["ds"].iloc[2]
    assert out.loc[day, ["yhat", "lo80", "hi80", "lo95", "hi95"]].tolist() == [0.0] * 5
    other = out.drop(index=day)
    assert (other["hi80"] > other["yhat"]).all()
