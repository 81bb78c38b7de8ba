"""One conformance suite over every registered model (scikit-learn's check_estimator idea)."""

from __future__ import annotations

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from forecasting.errors import DataError
from forecasting.models import MODELS
from forecasting.models.local import LocalForecaster
from tests.support.frames import make_frame, spec_for

H = 7


def _model(name: str):
    cls = MODELS[name]
    return cls(**cls.test_params())


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("alias", ["D", "W-FRI", "MS"])
def test_fit_predict_contract(name, alias):
    periods = {"D": 120, "W-FRI": 120, "MS": 60}[alias]
    df = make_frame(n_series=3, periods=periods, alias=alias)
    model = _model(name)
    params = model.get_params()
    fitted = model.fit(df, spec_for(alias))
    assert fitted is model
    assert model.get_params() == params  # fit never changes hyperparameters
    pred = model.predict(H)
    assert list(pred.columns) == ["unique_id", "ds", "yhat"]
    assert len(pred) == 3 * H
    assert np.isfinite(pred["yhat"]).all()
    last = df.groupby("unique_id")["ds"].max()
    for uid, g in pred.groupby("unique_id"):
        expected = pd.date_range(last[uid], periods=H + 1, freq=alias)[1:]
        assert list(g["ds"]) == list(expected)
    # a sensible forecast: the right order of magnitude for each series
    level = df.groupby("unique_id")["y"].mean()
    ratio = pred.groupby("unique_id")["yhat"].mean() / level
    assert ratio.between(0.5, 2.0).all(), ratio
    assert not model.fallbacks_ and pred.attrs == {"diverged": {}, "fallbacks": {}}


@pytest.mark.parametrize("name", list(MODELS))
def test_predict_leaves_the_model_as_it_was_and_the_model_clones_and_pickles(name):
    """As in scikit-learn: what a forecast found (diverged series, fallbacks) comes back
    with it, never stored on the model, so two readers of one model cannot disagree."""
    df = make_frame(n_series=3, periods=120)
    model = _model(name).fit(df, spec_for("D"))
    assert MODELS[model.name] is type(model)  # the registry key is the model's name
    before = joblib.hash(model)
    first = model.predict(H)
    assert joblib.hash(model) == before
    again = pickle.loads(pickle.dumps(model)).predict(H)
    pd.testing.assert_frame_equal(first, again)
    fresh = clone(model)
    assert fresh.get_params() == model.get_params() and not hasattr(fresh, "spec_")


@pytest.mark.parametrize("name", [n for n, c in MODELS.items() if c.uses_exog])
def test_drivers_are_used_and_required(name):
    df = make_frame(n_series=2, periods=150, exog=True, seed=3)
    spec = spec_for("D", exog=("promo",))
    cutoff = df["ds"].max() - pd.Timedelta(days=H)
    model = _model(name).fit(df[df["ds"] <= cutoff], spec)
    with pytest.raises(DataError, match="planned values"):
        model.predict(H)
    future = df.loc[df["ds"] > cutoff, ["unique_id", "ds"]]
    off = model.predict(H, future.assign(promo=0.0))["yhat"].to_numpy()
    on = model.predict(H, future.assign(promo=1.0))["yhat"].to_numpy()
    assert on.mean() > off.mean()  # promotions lift sales in this data


def test_predict_before_fit_is_an_error():
    with pytest.raises(RuntimeError, match="not fitted"):
        MODELS["xgboost"]().predict(3)


def test_fit_rejects_missing_target_values():
    df = make_frame(n_series=1, periods=40)
    df.loc[5, "y"] = np.nan
    with pytest.raises(DataError, match="missing values"):
        MODELS["linear_trend"]().fit(df, spec_for())


class _FailsOnOneSeries(LocalForecaster):
    """A per-series model that breaks on series s1, as a real model can on odd data."""

    name = "fails_on_s1"

    def _fit_one(self, y, X, ds):
        if y.mean() > 115:  # only s1 has this level in make_frame
            raise np.linalg.LinAlgError("singular matrix")
        return float(y[-1])

    def _predict_one(self, state, X, ds):
        return np.full(len(ds), state)


def test_a_failing_series_falls_back_to_seasonal_naive():
    df = make_frame(n_series=2, periods=60, seed=1)
    model = _FailsOnOneSeries().fit(df, spec_for(country=None))
    pred = model.predict(H)
    assert set(model.fallbacks_) == {"s1"}
    assert "singular matrix" in model.fallbacks_["s1"]
    s1 = df[df.unique_id == "s1"]["y"].to_numpy()
    assert np.allclose(pred[pred.unique_id == "s1"]["yhat"], s1[-7:])
    assert np.allclose(pred[pred.unique_id == "s0"]["yhat"], df[df.unique_id == "s0"]["y"].iloc[-1])


def test_forecasts_of_sales_are_never_negative():
    df = make_frame(n_series=1, periods=80)
    df["y"] = np.r_[np.full(70, 50.0), np.linspace(40, 0, 10)]  # collapsing demand
    pred = clone(MODELS["linear_trend"](history=20)).fit(df, spec_for()).predict(28)
    assert (pred["yhat"] >= 0).all()


def test_series_ending_on_different_dates_forecast_from_their_own_end():
    df = make_frame(n_series=2, periods=100)
    df = df[~((df.unique_id == "s1") & (df.ds > df.ds.max() - pd.Timedelta(days=10)))]
    for name in ("xgboost", "theta", "seasonal_naive"):
        pred = _model(name).fit(df, spec_for()).predict(3)
        firsts = pred.groupby("unique_id")["ds"].min()
        assert firsts["s0"] - firsts["s1"] == pd.Timedelta(days=10), name


def test_sarima_fits_a_series_whose_driver_never_changes():
    # a product whose price never moved: a second constant next to the trend
    # (weekly: the 52-week season is Fourier terms, so the model keeps a constant trend)
    df = make_frame(n_series=2, periods=120, alias="W-SUN", exog=True)
    df.loc[df["unique_id"] == "s1", "promo"] = 1.0
    model = MODELS["sarima"]().fit(df, spec_for("W-SUN", exog=("promo",)))
    future = df.groupby("unique_id").tail(4).assign(ds=lambda f: f["ds"] + pd.Timedelta(weeks=4))
    pred = model.predict(4, future)
    assert model.fallbacks_ == {} and pred["yhat"].notna().all() and len(pred) == 8


class _DefaultsInSpace:
    """An Optuna trial that answers each suggestion with the model's default and says
    where the default falls outside the space (Optuna enqueues the defaults first)."""

    def __init__(self, defaults: dict):
        self.defaults = defaults
        self.outside: list[str] = []

    def _check(self, name: str, ok: bool):
        if name in self.defaults and not ok:
            self.outside.append(f"{name}={self.defaults[name]!r}")
        return self.defaults.get(name)

    def suggest_categorical(self, name, choices):
        return self._check(name, self.defaults.get(name) in choices)

    def suggest_int(self, name, low, high, **_):
        return self._check(name, low <= self.defaults.get(name, low) <= high)

    def suggest_float(self, name, low, high, **_):
        return self._check(name, low <= self.defaults.get(name, low) <= high)


@pytest.mark.parametrize("alias", ["D", "W-FRI", "MS"])
@pytest.mark.parametrize("name", list(MODELS))
def test_every_search_space_holds_the_defaults_it_is_started_from(name, alias):
    defaults = MODELS[name]().get_params()
    trial = _DefaultsInSpace(defaults)
    MODELS[name].search_space(trial, spec_for(alias))
    assert not trial.outside, f"{name} at {alias}: {trial.outside} outside its search space"
