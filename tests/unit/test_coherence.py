"""Totals that add up: bottom-up or MinT, chosen on the validation folds."""

from __future__ import annotations

import os

import joblib
import numpy as np
import pandas as pd

from forecasting.serving.coherence import BOTTOM_UP, MINT
from forecasting.serving.reconciliation import (
    adjustment,
    aggregate,
    choose,
    level_nodes,
    summing_matrix,
    total_forecasts,
)

H, FOLDS, SERIES = 12, 3, 12


def _panel(noise: float, seed: int = 0):
    """Monthly series in two stores; the validation table's served forecasts miss each
    series by independent noise of size ``noise`` (their sum's errors add up)."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2015-01-01", periods=120, freq="MS")
    season = 1 + 0.3 * np.sin(2 * np.pi * np.arange(len(ds)) / 12)
    rows, keys = [], []
    for i in range(SERIES):
        uid = f"s{i}"
        y = (50 + 5 * i) * season + rng.normal(0, 1, len(ds))
        rows.append(pd.DataFrame({"unique_id": uid, "ds": ds, "y": y, "store": f"st{i % 2}"}))
        keys.append({"unique_id": uid, "store": f"st{i % 2}"})
    df = pd.concat(rows, ignore_index=True)
    parts = []
    for k in range(FOLDS):
        start = len(ds) - (FOLDS - k) * H
        window = df.loc[df["ds"].isin(ds[start : start + H])].copy()
        window["cutoff"] = k
        parts.append(window)
    table = pd.concat(parts, ignore_index=True)
    served = table["y"] + rng.normal(0, noise, len(table)) * (1 + table.index % 3)
    return table[["unique_id", "cutoff", "ds", "y"]], served, df, pd.DataFrame(keys)


def test_the_total_and_each_store_are_levels_and_the_summing_matrix_adds_them():
    keys = pd.DataFrame({"unique_id": ["a", "b", "c"], "store": ["x", "x", "y"]})
    levels = level_nodes(keys, ["store", "unique_id"])
    assert list(levels) == ["total", "store"]  # one group per series is no level
    S, names = summing_matrix(["a", "b", "c"], levels)
    assert names == ["total", "store=x", "store=y", "a", "b", "c"]
    assert S.tolist()[:3] == [[1, 1, 1], [1, 1, 0], [0, 0, 1]]


def test_reconciliation_serves_where_the_totals_own_model_is_much_better():
    table, served, df, keys = _panel(noise=15.0)
    chosen = choose(table, served, df, keys, ["store"], 12, "MS")
    assert chosen.method == MINT, chosen.validation
    mint, bottom_up = chosen.validation[MINT], chosen.validation[BOTTOM_UP]
    assert mint["total"] < bottom_up["total"] and mint["mean"] < bottom_up["mean"]
    assert set(mint) == {"total", "store", "series", "mean"}
    base = (
        df.groupby("unique_id", as_index=False)
        .tail(1)[["unique_id"]]
        .merge(pd.DataFrame({"ds": pd.date_range("2025-01-01", periods=H, freq="MS")}), how="cross")
    )
    base["yhat"] = base["unique_id"].str[1:].astype(int) * 5.0 + 20.0  # a poor level forecast
    delta = adjustment(base, table, served, df, keys, ["store"], 12, "MS")
    assert len(delta) == SERIES * H and delta["delta"].abs().max() > 0
    moved = base.merge(delta, on=["unique_id", "ds"])
    total = (moved["yhat"] + moved["delta"]).groupby(moved["ds"]).sum()
    assert total.std() > 0  # the totals' seasonal model reached the flat series forecasts


def test_bottom_up_serves_where_the_series_forecasts_are_already_good():
    table, served, df, keys = _panel(noise=0.2)
    chosen = choose(table, served, df, keys, ["store"], 12, "MS")
    assert chosen.method == BOTTOM_UP, chosen.validation
    assert "bottom-up serves" in chosen.describe()


def test_one_fold_or_one_series_is_bottom_up_and_says_why():
    table, served, df, keys = _panel(noise=15.0)
    one = table["cutoff"] == 0
    assert "one validation fold" in choose(table[one], served[one], df, keys, ["store"], 12,
                                           "MS").note  # fmt: skip
    alone = table["unique_id"] == "s0"
    assert "one validated series" in choose(table[alone], served[alone], df, keys, ["store"],
                                            12, "MS").note  # fmt: skip


def test_a_reconciled_run_answers_with_its_adjustment_a_what_if_too():
    """What a plan moves is what its drivers move: a what-if keeps the adjustment (before,
    a plan dropped it, and moved a total whose series read no driver)."""
    from dataclasses import replace

    from forecasting.serving.coherence import Coherence
    from forecasting.serving.requests import ForecastRequest, answer
    from forecasting.workflow import TrainOptions, train_and_forecast
    from tests.support.frames import make_frame, spec_for

    df = make_frame(n_series=3, periods=150, exog=True)
    options = TrainOptions(models=("ets", "linear_trend"), n_windows=2)
    bottom_up = train_and_forecast(df, spec_for(exog=("promo",)), 6, options).serving
    base = answer(bottom_up, ForecastRequest(6)).rows
    delta = base[["unique_id", "ds"]].assign(delta=np.arange(len(base), dtype=float))
    serving = replace(bottom_up, coherence=Coherence(MINT, delta=delta))
    moved = answer(serving, ForecastRequest(6)).rows
    shift = moved["yhat"] - base["yhat"]
    assert np.allclose(shift, np.maximum(base["yhat"] + delta["delta"], 0) - base["yhat"])
    assert np.allclose(moved["hi80"] - moved["lo80"], base["hi80"] - base["lo80"])
    for asked in ({"promo": 1.0}, {"promo": 0.0}):
        plain = answer(bottom_up, ForecastRequest(6, drivers=asked)).rows
        what_if = answer(serving, ForecastRequest(6, drivers=asked)).rows
        assert np.allclose(what_if["yhat"], np.maximum(plain["yhat"] + delta["delta"], 0))
    other = answer(serving, ForecastRequest(6, model="ets")).rows
    assert np.allclose(
        other["yhat"], answer(bottom_up, ForecastRequest(6, model="ets")).rows["yhat"]
    )


def test_a_code_and_its_description_are_one_level_of_totals():
    keys = pd.DataFrame(
        {
            "unique_id": ["a", "b", "c", "d"],
            "Class1": ["A", "A", "C", "C"],
            "Class1_desc": ["Alimentary", "Alimentary", "Cardio", "Cardio"],
            "Region": ["N", "S", "N", "S"],
        }
    )
    levels = level_nodes(keys, ["Class1", "Class1_desc", "Region"])
    assert list(levels) == ["total", "Class1", "Region"]


FORKS: list[int] = []
os.register_at_fork(before=lambda: FORKS.append(os.getpid()))


def test_the_totals_search_on_workers_forks_nothing_and_matches_one_process():
    """A bare ``fork`` of a run that holds BLAS and OpenMP threads can hang its child for
    good (runs stuck at "final fit on all history"): the search runs on joblib's workers."""
    _, _, df, keys = _panel(noise=1.0)
    history = aggregate(df, level_nodes(keys, ["store"]))
    alone: dict[str, str] = {}
    one = total_forecasts(history, H, 12, "MS", alone)
    FORKS.clear()
    on_two: dict[str, str] = {}
    with joblib.parallel_config(backend="loky", n_jobs=2):
        two = total_forecasts(history, H, 12, "MS", on_two)
    assert FORKS == []
    assert set(alone) == {"total", "store=st0", "store=st1"}
    assert on_two == alone
    pd.testing.assert_frame_equal(
        two.sort_values(["unique_id", "ds"], ignore_index=True),
        one.sort_values(["unique_id", "ds"], ignore_index=True),
    )


def test_series_fitted_exactly_are_added_up_where_mint_has_no_weights():
    """Validation errors all zero (a file without noise): hierarchicalforecast refuses
    MinT's weights ("Insample residuals close to 0") and a stranger-like run failed."""
    from forecasting.serving.reconciliation import reconcile

    S = np.vstack([np.ones((1, 2)), np.eye(2)])  # the total, then the two series
    base = np.array([[25.0, 26.0], [10.0, 11.0], [12.0, 12.0]])
    out = reconcile(S, base, np.zeros((3, 20)))
    np.testing.assert_allclose(out, [[22.0, 23.0], [10.0, 11.0], [12.0, 12.0]])


def test_a_reconciliation_that_could_not_be_computed_is_said_so_not_nan():
    """A stranger's run log read "reconciled nan"."""
    from forecasting.serving.coherence import Coherence

    scores = {"bottom_up": {"mean": 0.812}, "mint_shrink": {"mean": float("nan")}}
    said = Coherence("bottom_up", scores, ["total", "store"]).describe()
    assert said.endswith("bottom-up 0.812, reconciled not computed")
    assert "nan" not in said
