"""The held-out window is never seen: no leakage, real pruning, calibrated intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.data.positions import periods_from_end
from forecasting.evaluation import intervals
from forecasting.evaluation.backtest import cross_validate, fold_scales, split
from forecasting.evaluation.intervals import apply_intervals, conformal_quantiles, coverage
from forecasting.evaluation.tuning import tune
from forecasting.models import MODELS
from forecasting.models.features import LagConfig, lag_features
from forecasting.workflow import TrainOptions, backtest
from tests.support.frames import make_frame, spec_for

H = 14


def test_changing_the_test_window_changes_no_backtest_forecast():
    df = make_frame(n_series=3, periods=150, exog=True, seed=5)
    spec = spec_for("D", exog=("promo",))
    options = TrainOptions(
        models=("linear_trend", "xgboost", "theta", "ets"), trials=3, n_windows=2
    )
    first = backtest(df, spec, H, options)
    tampered = df.copy()
    in_test = periods_from_end(tampered) < H
    tampered.loc[in_test, "y"] = tampered.loc[in_test, "y"] * 10 + 1000
    second = backtest(tampered, spec, H, options)
    cols = ["unique_id", "ds", *first.outcome.per_model.columns[2:]]
    pd.testing.assert_frame_equal(first.outcome.per_model[cols], second.outcome.per_model[cols])
    pd.testing.assert_frame_equal(first.outcome.forecast, second.outcome.forecast)
    assert not np.allclose(first.actuals["y"], second.actuals["y"])


def test_lag_features_at_t_ignore_values_from_t_on():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(4, 60))
    cfg = LagConfig((1, 2, 7), (3, 7), 2, 7)
    cols = np.arange(20, 60)
    before = lag_features(values, cols, cfg)
    for t in (20, 35, 59):
        changed = values.copy()
        changed[:, t:] = 1e6
        after = lag_features(changed, np.array([t]), cfg)
        for name, arr in after.items():
            np.testing.assert_allclose(arr[:, 0], before[name][:, t - 20], err_msg=name)


def test_split_holds_out_the_last_periods_of_every_series():
    df = make_frame(n_series=2, periods=50)
    train, window = split(df, H, H)
    assert (window.groupby("unique_id").size() == H).all()
    assert train["ds"].max() < window["ds"].min()


def test_optuna_pruner_really_prunes():
    df = make_frame(n_series=4, periods=200, seed=2)
    spec = spec_for("D")
    scales = fold_scales(df, H, 3, spec.season_length)
    result = tune(MODELS["linear_trend"], df, spec, H, 3, scales, trials=25)
    assert result.trials == 25
    assert result.pruned > 0
    default = tune(MODELS["linear_trend"], df, spec, H, 3, scales, trials=0)
    assert result.score <= default.score  # defaults are the first trial


def test_conformal_intervals_cover_new_data_at_about_their_level():
    rng = np.random.default_rng(1)
    n, h = 200, 10
    cv = pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{i}" for i in range(n)], h * 3),
            "cutoff": np.tile(np.repeat([0, 1, 2], h), n),
            "y": rng.normal(0, 1, n * h * 3),
            "yhat": 0.0,
        }
    )
    scale = pd.Series(1.0, index=[f"s{i}" for i in range(n)])
    q = conformal_quantiles(cv, scale, "yhat")
    # the steps of a table scored column by column, counted once, give the same bands
    steps = intervals.horizon_steps(cv, ["unique_id", "cutoff"])
    pd.testing.assert_frame_equal(conformal_quantiles(cv, scale, "yhat", steps=steps), q)
    fresh = pd.DataFrame(
        {"unique_id": np.repeat(scale.index, h), "ds": np.tile(range(h), n), "yhat": 0.0}
    )
    banded = apply_intervals(fresh, q, scale, pd.Series(False, index=scale.index))
    banded["y"] = rng.normal(0, 1, len(banded))
    got = coverage(banded)
    assert got["80"] == pytest.approx(0.80, abs=0.04)
    assert got["95"] == pytest.approx(0.95, abs=0.025)
    assert (banded["hi95"] > banded["hi80"]).all() and (banded["lo95"] < banded["lo80"]).all()


def test_short_series_sit_out_the_older_folds():
    df = make_frame(n_series=2, periods=120)
    df = df[(df.unique_id == "s0") | (df.groupby("unique_id").cumcount(ascending=False) < 40)]
    cv = cross_validate(lambda: MODELS["theta"](), df, spec_for("D"), H, 3)
    folds = cv.groupby("unique_id")["cutoff"].nunique()
    assert folds["s0"] == 3
    assert folds["s1"] == 1  # 40 periods: only the latest fold leaves 14 to learn from


def test_the_newest_fold_weighs_most_in_the_bands():
    rng = np.random.default_rng(2)
    n, h = 100, 7
    ids = [f"s{i}" for i in range(n)]
    cutoff = np.tile(np.repeat([0, 1, 2], h), n)
    spread = np.where(cutoff == 0, 4.0, 1.0)  # an unusual oldest fold (a holiday, a stock-out)
    cv = pd.DataFrame(
        {
            "unique_id": np.repeat(ids, h * 3),
            "cutoff": cutoff,
            "y": rng.normal(0, 1, n * h * 3) * spread,
            "yhat": 0.0,
        }
    )
    scale = pd.Series(1.0, index=ids)
    fresh = pd.DataFrame({"unique_id": np.repeat(ids, h), "ds": np.tile(range(h), n), "yhat": 0.0})
    fresh_y = rng.normal(0, 1, len(fresh))  # the weeks ahead look like the recent folds

    def covered(decay: float) -> float:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(intervals, "FOLD_DECAY", decay)
            q = conformal_quantiles(cv, scale, "yhat")
        banded = apply_intervals(fresh, q, scale, pd.Series(False, index=scale.index))
        return coverage(banded.assign(y=fresh_y))["80"]

    equal, decayed = covered(1.0), covered(intervals.FOLD_DECAY)
    assert equal > 0.9  # equal weights: the odd fold widens every band
    assert decayed < equal - 0.02
    assert decayed > 0.8  # a weighted quantile is still a conformal one: never below nominal here


def test_equal_weights_give_the_usual_conformal_rank():
    scores = np.arange(1.0, 20.0)  # 19 scores: the 80% quantile is the ceil(20 * 0.8) = 16th
    assert intervals._quantile(scores, 0.80) == 16.0
    assert intervals._quantile(scores, 0.95) == 19.0


def test_lag_features_at_one_column_equal_those_of_the_whole_panel():
    """A recursive step reads one column's features from slices; they are the panel's."""
    rng = np.random.default_rng(2)
    values = rng.normal(size=(5, 80))
    values[values > 1.2] = np.nan  # gaps, as in a right-aligned panel of unequal series
    cfg = LagConfig((1, 2, 7, 30), (3, 7, 28), 2, 7)
    cols = np.arange(0, 80)
    panel = lag_features(values, cols, cfg)
    for t in (0, 1, 5, 29, 30, 79):
        single = lag_features(values, np.array([t]), cfg)
        for name, arr in single.items():
            np.testing.assert_allclose(arr[:, 0], panel[name][:, t], err_msg=f"{name} at {t}")
