"""Expensive models earn their place on a sample; fitting once gives what fitting afresh gives.

A synthetic panel follows an 11-day cycle that no cheap candidate here can see.
Two expensive test models are screened: ``wave`` knows the cycle (it must win on
the sample and go on to every series), ``stale`` repeats the first value it saw
(it must lose and be fitted nowhere else).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.evaluation.backtest import cross_validate, fold_offsets, min_train, split
from forecasting.evaluation.screening import sample_size, stratified_sample
from forecasting.models import MODELS
from forecasting.models.local import LocalForecaster
from forecasting.workflow import TrainOptions, backtest
from tests.support.frames import make_frame, spec_for

H = 14
CYCLE = 11


class Wave(LocalForecaster):
    """Least squares on the 11-day cycle: right by construction on the test panel."""

    name = "wave"
    uses_exog = False
    expensive = True

    def _design(self, t: np.ndarray) -> np.ndarray:
        phase = 2 * np.pi * t / CYCLE
        return np.column_stack([np.ones(len(t)), np.sin(phase), np.cos(phase)])

    def _fit_one(self, y, X, ds):
        coef, *_ = np.linalg.lstsq(self._design(np.arange(len(y))), y, rcond=None)
        return coef, len(y)

    def _predict_one(self, state, X, ds):
        coef, n = state
        return self._design(n + np.arange(len(ds))) @ coef


class Stale(LocalForecaster):
    """The first value of a series, forever: wrong by construction."""

    name = "stale"
    uses_exog = False
    expensive = True

    def _fit_one(self, y, X, ds):
        return float(y[0])

    def _predict_one(self, state, X, ds):
        return np.full(len(ds), state)


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setitem(MODELS, "wave", Wave)
    monkeypatch.setitem(MODELS, "stale", Stale)


def cycle_panel(n_series: int = 40, periods: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2023-01-01", periods=periods, freq="D")
    t = np.arange(periods)
    frames = []
    for i in range(n_series):
        level = 20 + 30 * rng.random()  # volumes differ, so the sample has bands to draw
        y = level + 0.4 * level * np.sin(2 * np.pi * t / CYCLE + rng.random() * 6)
        y = np.maximum(y + rng.normal(0, 0.5, periods), 0)
        frames.append(pd.DataFrame({"unique_id": f"s{i:02d}", "ds": dates, "y": y}))
    return pd.concat(frames, ignore_index=True)


def test_the_sample_keeps_the_model_that_wins_and_leaves_out_the_one_that_loses(registered):
    df = cycle_panel()
    options = TrainOptions(default=("naive", "wave", "stale"), always=("naive",))
    assert options.screened() == {"wave", "stale"}
    report = backtest(df, spec_for("D", country=None), H, options)
    outcome = report.outcome
    screens = {s.model: s for s in outcome.screens}
    assert screens["wave"].kept and not screens["stale"].kept
    assert len(screens["wave"].sample) == sample_size(40) == 12
    assert screens["wave"].t_stat >= 2
    # the winner went on to every series; the loser was fitted nowhere beyond the sample
    assert outcome.tuning["wave"].cv["unique_id"].nunique() == 40
    assert "stale" not in outcome.tuning and "stale" not in outcome.fitted
    assert "stale" not in set(report.per_series["model"])
    assert set(outcome.selection.served_models()) == {"wave"}
    # and the report says which, with the sample's figures
    screened = report.to_json({}, H)["screened"]
    assert [(s["model"], s["kept"]) for s in screened] == [("wave", True), ("stale", False)]
    text = outcome.screens[1].describe()
    assert "stale left out" in text and "12 of 40 series" in text and "naive" in text


def test_a_model_a_run_names_is_validated_on_every_series(registered):
    df = cycle_panel(n_series=30)
    options = TrainOptions(models=("stale",), always=("naive",))
    assert options.screened() == set()
    report = backtest(df, spec_for("D", country=None), H, options)
    assert report.outcome.screens == []
    assert report.outcome.tuning["stale"].cv["unique_id"].nunique() == 30
    assert "stale" in set(report.per_series["model"])


def test_few_series_are_validated_whole_without_a_screen(registered):
    df = cycle_panel(n_series=10)
    report = backtest(
        df, spec_for("D", country=None), H, TrainOptions(default=("stale",), always=("naive",))
    )
    assert report.outcome.screens == []
    assert report.outcome.tuning["stale"].cv["unique_id"].nunique() == 10


def test_one_series_leaves_out_the_models_that_learn_across_series_and_says_why():
    df = cycle_panel(n_series=1)
    spec = spec_for("D", country=None)
    default = TrainOptions(default=("naive", "xgboost"), always=("naive",))
    report = backtest(df, spec, H, default)
    assert "xgboost" not in report.outcome.tuning
    screened = report.to_json({}, H)["screened"]
    assert [(s["model"], s["kept"]) for s in screened] == [("xgboost", False)]
    assert "one series" in report.outcome.screens[0].describe()
    # named, it is fitted; and two series are a panel to learn across
    named = backtest(df, spec, H, TrainOptions(models=("xgboost",), always=("naive",)))
    assert "xgboost" in named.outcome.tuning and named.outcome.screens == []
    two = backtest(cycle_panel(n_series=2), spec, H, default)
    assert "xgboost" in two.outcome.tuning


def test_the_sample_draws_every_demand_class_and_volume_band():
    ids = pd.Index([f"s{i}" for i in range(60)])
    classes = ["smooth"] * 40 + ["intermittent"] * 15 + ["lumpy"] * 5
    profile = pd.DataFrame({"demand_class": classes}, index=ids)
    volume = pd.Series(np.arange(60, dtype=float), index=ids)
    sample = stratified_sample(profile, volume, ids, 15)
    assert len(sample) == 15 and len(set(sample)) == 15
    drawn = profile.loc[sample, "demand_class"].value_counts()
    assert set(drawn.index) == {"smooth", "intermittent", "lumpy"}
    assert drawn["smooth"] > drawn["intermittent"] >= drawn["lumpy"]
    smooth = [s for s in sample if profile.at[s, "demand_class"] == "smooth"]
    assert volume[smooth].min() < 14 and volume[smooth].max() > 26  # low and high volume
    assert sample == stratified_sample(profile, volume, ids, 15)  # the same for the same data


def _fold_by_fold(name: str, df: pd.DataFrame, spec, h: int, n_windows: int) -> pd.DataFrame:
    """Each fold fitted afresh: what the fit-once path must reproduce."""
    frames = []
    for fold, back in enumerate(fold_offsets(h, n_windows)):
        train, window = split(df, back, h)
        sizes = train.groupby("unique_id").size()
        keep = sizes.index[sizes >= min_train(h, spec.season_length)]
        pred = MODELS[name]().fit(train.loc[train["unique_id"].isin(keep)], spec).predict(h)
        out = window[["unique_id", "ds", "y"]].merge(pred, on=["unique_id", "ds"])
        frames.append(out.assign(cutoff=fold))
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize(
    "name", ["naive", "seasonal_naive", "croston", "tsb", "adida", "imapa", "imapa_total"]
)
def test_fitting_once_gives_the_forecasts_of_fitting_each_fold_afresh(name):
    """Models with nothing estimated beyond the data's own state (the naive and the
    intermittent families) forecast exactly as if fitted afresh at every fold."""
    df = make_frame(n_series=4, periods=100, seed=3)
    df.loc[df.index % 3 == 0, "y"] = 0.0  # some empty periods for the intermittent methods
    spec = spec_for("D")
    once = cross_validate(lambda: MODELS[name](), df, spec, H, 3)
    afresh = _fold_by_fold(name, df, spec, H, 3)
    cols = ["unique_id", "ds", "cutoff"]
    merged = once.merge(afresh, on=cols, suffixes=("_once", "_afresh"))
    assert len(merged) == len(afresh) == 4 * 3 * H
    np.testing.assert_allclose(merged["yhat_once"], merged["yhat_afresh"], rtol=1e-9)


@pytest.mark.parametrize("name", ["ets", "theta", "sarima", "xgboost", "random_forest"])
def test_moving_a_fit_forward_to_its_own_history_changes_no_forecast(name):
    """Moved forward, a model keeps what it estimated: on the very history it was
    fitted to it forecasts exactly what the fit does."""
    df = make_frame(n_series=3, periods=90, seed=4)
    spec = spec_for("D")
    fitted = MODELS[name](**MODELS[name].test_params()).fit(df, spec)
    moved = fitted.forward(df)
    np.testing.assert_allclose(moved.predict(H)["yhat"], fitted.predict(H)["yhat"], rtol=1e-7)
    later = fitted.forward(make_frame(n_series=3, periods=120, seed=4))
    assert later.predict(H)["ds"].min() > fitted.predict(H)["ds"].max() - pd.Timedelta(days=H)
