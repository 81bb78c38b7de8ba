"""Every series in, every series out: the ladder, demand classes, the divergence guard, bands."""

from __future__ import annotations

import logging
import pickle

import numpy as np
import pandas as pd
import pytest

from forecasting.data.dataset import prepare
from forecasting.data.ladder import profile_series, quiet_stops, series_table
from forecasting.evaluation.intervals import LEVELS, apply_intervals, conformal_quantiles
from forecasting.models import MODELS
from forecasting.models.base import DIVERGENCE_FACTOR
from forecasting.models.local import LocalForecaster
from forecasting.workflow import TrainOptions, backtest, train_and_forecast
from pipeline.context import RunContext
from pipeline.steps.forecast import forecast
from pipeline.steps.train import serving_series
from pipeline.trained import Trained
from pipeline.training_data import TrainedOn, TrainingData
from storage import run_rows
from storage.database import Database
from storage.results import stored_forecasts
from storage.settings import Settings
from tests.support.files import launch_and_never_sold
from tests.support.frames import make_frame, spec_for

H = 7
log = logging.getLogger(__name__)
QUICK = TrainOptions(models=("linear_trend", "xgboost", "ets", "theta"), n_windows=2)


def _series(uid: str, y, start: str = "2023-01-01") -> pd.DataFrame:
    y = np.asarray(y, dtype=float)
    return pd.DataFrame({"unique_id": uid, "ds": pd.date_range(start, periods=len(y)), "y": y})


def retail_mix(seed: int = 0) -> pd.DataFrame:
    """The shapes of a planner's file: steady sellers, a slow mover, a product launched
    three days ago, one that never sold, one with a single enormous day."""
    rng = np.random.default_rng(seed)
    n = 140
    steady = make_frame(n_series=2, periods=n, seed=seed)
    slow = rng.poisson(0.4, n) * rng.integers(1, 4, n)  # about 70% zero days
    huge = rng.poisson(20, n).astype(float)
    huge[90] = 1e6
    end = steady["ds"].max()
    start = str((end - pd.Timedelta(days=n - 1)).date())
    return pd.concat(
        [
            steady,
            _series("slow", slow, start=start),
            _series("launch", [3, 5, 4], start=str((end - pd.Timedelta(days=2)).date())),
            _series("never", np.zeros(60), start=str((end - pd.Timedelta(days=59)).date())),
            _series("spike", huge, start=start),
        ],
        ignore_index=True,
    )


@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_forecasts_every_retail_shape(name):
    df = retail_mix()
    cls = MODELS[name]
    model = cls(**cls.test_params()).fit(df, spec_for("D"))
    pred = model.predict(H)
    assert sorted(pred["unique_id"].unique()) == sorted(df["unique_id"].unique())
    assert len(pred) == df["unique_id"].nunique() * H
    assert np.isfinite(pred["yhat"]).all()
    assert (pred["yhat"] >= 0).all()  # sales never go negative
    by_series = pred.groupby("unique_id")["yhat"]
    assert by_series.max()["never"] <= 1.0, "a product that never sold is forecast near zero"
    assert by_series.max()["launch"] < 50, "three days of 3-5 units stay in that range"


def test_demand_classes_follow_syntetos_boylan():
    rng = np.random.default_rng(1)
    smooth = rng.normal(50, 5, 100)
    erratic = rng.choice([5.0, 200.0], 100)
    intermittent = np.where(np.arange(100) % 3 == 0, 10.0, 0.0)
    lumpy = np.where(np.arange(100) % 3 == 0, rng.choice([1.0, 300.0], 100), 0.0)
    df = pd.concat(
        [
            _series(n, y)
            for n, y in [
                ("smooth", smooth),
                ("erratic", erratic),
                ("intermittent", intermittent),
                ("lumpy", lumpy),
                ("never", np.zeros(100)),
            ]
        ]
    )
    profile = profile_series(df, H, 7)
    assert profile["demand_class"].to_dict() == {
        "smooth": "smooth",
        "erratic": "erratic",
        "intermittent": "intermittent",
        "lumpy": "lumpy",
        "never": "none",
    }
    assert profile.loc["intermittent", "adi"] == pytest.approx(100 / 34)
    assert profile.loc["intermittent", "cv2"] == 0.0


def test_ladder_steps_by_history():
    df = retail_mix()
    profile = profile_series(df, 28, 7)
    assert profile["ladder_step"].to_dict() == {
        "s0": "long",
        "s1": "long",
        "slow": "long",
        "launch": "new",
        "never": "zero",
        "spike": "long",
    }
    short = profile_series(_series("short", np.arange(1.0, 31.0)), 28, 7)
    assert short.loc["short", "ladder_step"] == "short"  # 30 days cannot hold out 28 and fit 8


def test_every_input_series_gets_a_forecast_and_bands():
    df = retail_mix()
    df = pd.concat([df, _series("young", np.arange(10.0, 22.0), start="2023-07-08")])
    outcome = train_and_forecast(df, spec_for("D"), H, QUICK)
    served = outcome.forecast
    assert set(served["unique_id"]) == set(df["unique_id"])
    assert served.groupby("unique_id").size().eq(H).all()
    cols = ["yhat", *[f"{s}{level}" for level in LEVELS for s in ("lo", "hi")]]
    assert np.isfinite(served[cols].to_numpy()).all()
    assert (served["lo95"] <= served["lo80"]).all() and (served["hi80"] <= served["hi95"]).all()
    never = served[served["unique_id"] == "never"]
    assert (never[cols].to_numpy() == 0).all()  # all-zero history: zeros, bands included
    launch = served[served["unique_id"] == "launch"]
    assert launch["yhat"].eq(4.0).all()  # the mean of 3, 5, 4
    assert (launch["hi95"] - launch["lo95"]).min() > 2.0  # wide: three days say little
    steps = {row["unique_id"]: row for row in outcome.series_report()}
    assert steps["launch"]["ladder_step"] == "new"
    assert steps["launch"]["ladder_note"] == "new: 3 days of history, level forecast"
    assert steps["never"]["served_by"] == "zero"
    assert steps["young"]["ladder_step"] == "short"
    assert MODELS[steps["young"]["served_by"].split("(")[-1].split("+")[0].rstrip(")")].short_ok


def test_backtest_scores_every_series_it_can():
    df = retail_mix()
    report = backtest(df, spec_for("D"), H, QUICK)
    scored = set(report.per_series["unique_id"])
    assert scored == set(df["unique_id"])  # the launch holds out 2 of its 3 days
    assert np.isfinite(report.summary.loc["selected", ["mase", "rmsse"]]).all()
    by_step = report.coverage_by_step
    assert list(by_step.index) == list(range(1, H + 1))
    assert list(by_step.columns) == ["80", "95"]


class _Explodes(LocalForecaster):
    """A per-series model that diverges on one series, as SARIMA can on odd data."""

    name = "explodes"
    uses_exog = False

    def _fit_one(self, y, X, ds):
        return float(y[-1])

    def _predict_one(self, state, X, ds):
        if state > 150:  # only s1's level in make_frame
            return np.full(len(ds), 5e21)
        return np.full(len(ds), state)


def test_a_diverged_forecast_is_replaced_and_flagged():
    df = make_frame(n_series=2, periods=60, seed=1)
    df.loc[df["unique_id"] == "s1", "y"] += 50
    model = _Explodes().fit(df, spec_for(country=None))
    pred = model.predict(H)
    diverged = pred.attrs["diverged"]  # returned with the forecast: the model is unchanged
    assert set(diverged) == {"s1"} and not hasattr(model, "diverged_")
    assert "5e+21" in diverged["s1"] and f"{DIVERGENCE_FACTOR:g}x" in diverged["s1"]
    s1 = df[df.unique_id == "s1"]["y"].to_numpy()
    np.testing.assert_allclose(pred[pred.unique_id == "s1"]["yhat"], s1[-7:])  # seasonal naive
    assert pred[pred.unique_id == "s0"]["yhat"].max() < 1e3
    assert not model.fallbacks_ and not pred.attrs["fallbacks"]  # the forecast went wrong


class _Trend(LocalForecaster):
    """A per-series model with a steep trend (half the history's range a day)."""

    name = "trend"
    uses_exog = False
    slope = 0.5

    def _fit_one(self, y, X, ds):
        return float(y[-1]), self.slope * float(y.max() - y.min())

    def _predict_one(self, state, X, ds):
        last, step = state
        return last + step * np.arange(1, len(ds) + 1)


def test_every_horizon_gets_the_same_first_periods_from_the_guard():
    """A year ahead (what a run stores) and a week (what a page asks for) agree on the
    days they share: a trend that leaves the range late is replaced from there on only."""
    df = make_frame(n_series=2, periods=90, seed=3)
    model = _Trend().fit(df, spec_for(country=None))
    week, year = model.predict(H), model.predict(365)
    assert not week.attrs["diverged"]  # 7 half-ranges up: within 10x the range
    assert set(year.attrs["diverged"]) == {"s0", "s1"}
    assert "replaced by seasonal naive from there" in year.attrs["diverged"]["s0"]
    for uid in ("s0", "s1"):
        ahead = year.loc[year.unique_id == uid, "yhat"].to_numpy()
        np.testing.assert_allclose(ahead[:H], week.loc[week.unique_id == uid, "yhat"])
        y = df.loc[df.unique_id == uid, "y"].to_numpy()
        top = y.max() + DIVERGENCE_FACTOR * (y.max() - y.min())
        first = int(np.argmax(np.diff(ahead) < 0)) + 1  # where the trend stops
        assert first > H and ahead[first - 1] <= top  # the trend is kept while in range
        np.testing.assert_allclose(ahead[first:], np.resize(y[-7:], 365)[first:])


class _Falling(_Trend):
    slope = -0.5


def test_a_trend_falling_to_zero_on_sales_is_not_divergence():
    """Sales never go below zero: a trend that falls there is floored, not replaced."""
    df = make_frame(n_series=1, periods=90, seed=3)
    model = _Falling().fit(df, spec_for(country=None))
    year = model.predict(365)
    assert not year.attrs["diverged"]
    assert year["yhat"].iloc[-1] == 0.0 and year["yhat"].iloc[0] > 0


def test_a_run_names_what_its_stored_year_replaced_in_the_series_table(monkeypatch, tmp_path):
    """The stored forecast runs a year ahead, past what validation saw: a model it
    replaced there is named in the run's series table, not in its log only."""
    monkeypatch.setitem(MODELS, "trend", _Trend)
    df = make_frame(n_series=2, periods=120, seed=3)
    spec = spec_for(country=None)
    outcome = train_and_forecast(
        df, spec, H, TrainOptions(models=("trend",), n_windows=2, always=())
    )
    assert not outcome.diverged()  # within range over the validated week
    db = Database(f"sqlite:///{tmp_path / 'runs.db'}")
    db.migrate()
    ctx = RunContext(db, Settings(data_dir=tmp_path), run_rows.create_run(db, "run", {}), log)
    ctx.artifacts.save(ctx.run_id, {"series": serving_series(outcome.serving, {})})
    trained_on = TrainedOn.of(TrainingData(df, None, None), spec, H, H, 2)
    trained = Trained(1, spec, H, outcome.serving, None, trained_on)
    count = forecast(ctx, trained)
    stored = stored_forecasts(db, ctx.run_id)
    assert count == len(stored) > 0
    table = ctx.artifacts.load(ctx.run_id, "series")
    assert table.set_index("unique_id")["diverged"].to_dict() == {"s0": "trend", "s1": "trend"}
    week = outcome.serving.forecast(H)  # what a page asks for: the stored year's first week
    np.testing.assert_allclose(stored.groupby("unique_id").head(H)["yhat"], week["yhat"])


def test_diverged_models_are_reported_by_the_workflow(monkeypatch):
    monkeypatch.setitem(MODELS, "explodes", _Explodes)
    df = make_frame(n_series=2, periods=120, seed=1)
    df.loc[df["unique_id"] == "s1", "y"] += 50
    options = TrainOptions(models=("explodes",), n_windows=2)
    report = backtest(df, spec_for(country=None), H, options)
    assert set(report.outcome.diverged()["explodes"]) == {"s1"}
    assert report.summary.loc["explodes", "mase"] < 10  # never a score like 5e21
    assert "s1" in report.to_json({}, H)["diverged"]["explodes"]


def test_bands_never_narrow_as_the_horizon_grows():
    df = make_frame(n_series=1, periods=150, alias="MS", seed=4)  # one monthly series
    outcome = train_and_forecast(df, spec_for("MS"), 12, QUICK)
    served = outcome.serving.forecast(24)
    for level in LEVELS:
        width = (served[f"hi{level}"] - served[f"lo{level}"]).to_numpy()
        assert np.all(np.diff(width) >= -1e-9), level
        assert width[11] > 1.3 * width[0]  # one series, few folds: pooled, grown with h
        assert width[23] > 1.3 * width[11]  # and still growing past the validated horizon
    assert served["extrapolated"].tolist() == [False] * 12 + [True] * 12


def test_conformal_quantiles_per_step_are_monotone():
    rng = np.random.default_rng(0)
    rows = []
    for uid in range(50):
        for cutoff in range(2):
            for step in range(6):
                err = rng.normal(0, 1 + (5 - step) * 0.5)  # errors that shrink with the step
                rows.append((f"s{uid}", step, cutoff, 100.0, 100.0 + err))
    cv = pd.DataFrame(rows, columns=["unique_id", "ds", "cutoff", "y", "yhat"])
    table = conformal_quantiles(cv, pd.Series(1.0, index=cv["unique_id"].unique()), "yhat")
    assert (table.diff().dropna() >= 0).all().all()


def test_a_falling_forecast_pinned_at_zero_keeps_its_band_width():
    forecast = pd.DataFrame(
        {"unique_id": "p", "ds": range(12), "yhat": np.linspace(1.0, 0.05, 12)}  # a fading part
    )
    flat = pd.DataFrame({80: [0.8] * 12, 95: [1.5] * 12})
    banded = apply_intervals(forecast, flat, pd.Series({"p": 1.0}), pd.Series({"p": True}))
    for level in LEVELS:
        assert (banded[f"lo{level}"] >= 0).all()
        width = (banded[f"hi{level}"] - banded[f"lo{level}"]).to_numpy()
        assert np.all(np.diff(width) >= -1e-12), level
        assert (banded[f"hi{level}"] >= banded["yhat"]).all()


def test_many_validated_errors_that_do_not_grow_give_flat_bands():
    rng = np.random.default_rng(3)
    n, h = 60, 12
    cv = pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{i}" for i in range(n)], 2 * h),
            "cutoff": np.tile(np.repeat([0, 1], h), n),
            "y": rng.poisson(1.0, 2 * h * n).astype(float),  # slow movers: errors do not grow
            "yhat": 1.0,
        }
    )
    table = conformal_quantiles(cv, pd.Series(1.0, index=cv["unique_id"].unique()), "yhat")
    assert table.loc[11, 80] < 1.25 * table.loc[0, 80]  # a forced step ** 0.25: 1.82
    few = cv[cv["unique_id"] == "s0"]  # one series: its flat errors may be luck, so they grow
    table = conformal_quantiles(few, pd.Series(1.0, index=["s0"]), "yhat")
    assert table.loc[11, 80] >= 11**0.25 * table.loc[0, 80] * 0.99


def test_a_horizon_the_history_cannot_validate_is_validated_as_far_as_it_can():
    # 24 months and a 12-month horizon: a 12-month fold needs 25; 11 months ahead fit
    df = make_frame(n_series=2, periods=24, alias="MS", start="2022-01-01")
    outcome = train_and_forecast(df, spec_for("MS"), 12, QUICK)
    assert outcome.serving.horizon == 11
    assert not outcome.selection.scores.empty  # chosen on validation, not by default
    assert set(outcome.profile["ladder_step"]) == {"long"}
    steps = outcome.forecast.groupby("unique_id").cumcount() + 1
    assert (outcome.forecast.loc[steps == 12, "extrapolated"]).all()
    assert not (outcome.forecast.loc[steps <= 11, "extrapolated"]).any()


def test_the_upload_report_names_new_and_never_sold_series_before_training():
    data = prepare(launch_and_never_sold(), horizon=14)
    notes = "\n".join(data.notes())
    assert "1 never sold: zero forecast (e.g. item=gift box/store=north)" in notes
    assert "1 new, under 4 days of history: level forecast (e.g. item=launch/store=north)" in notes
    read = data.cleaned.report.rows_in
    assert f"rows: {read:,} read, {len(data.frame):,} after cleaning" in notes


def test_a_model_pickled_under_the_old_ladder_names_serves_the_same_forecast():
    """Runs trained before the glossary stored ``rungs`` and a profile's ``tier``: the
    serving run of an upgraded install must keep serving its new and never-sold series."""
    outcome = train_and_forecast(retail_mix(), spec_for("D"), H, QUICK)
    serving = outcome.serving
    state = dict(serving.__dict__)
    state["rungs"] = state.pop("rule_levels")
    state["profile"] = state["profile"].rename(columns={"ladder_step": "tier"})
    old = object.__new__(type(serving))
    old.__setstate__(pickle.loads(pickle.dumps(state)))
    now = serving.forecast(H)
    then = old.forecast(H)
    pd.testing.assert_frame_equal(now, then)
    assert old.series_table()["ladder_step"].eq(serving.series_table()["ladder_step"]).all()
    assert then.loc[then["unique_id"] == "launch", "yhat"].eq(4.0).all()


def test_a_replaced_model_is_a_warning_only_where_it_serves(caplog):
    """A model that left its range on a series another model serves is said once, as
    information; where it serves the series it is a warning (a stranger read "ces
    diverged" on launches ETS served, and took the served forecast for replaced)."""
    from pipeline.trained import log_diverged

    df = make_frame(n_series=2, periods=90, seed=3)
    options = TrainOptions(models=("ets", "naive"), n_windows=2)
    serving = train_and_forecast(df, spec_for(country=None), H, options).serving
    s0_members = serving.serving_members("s0")
    assert s0_members and s0_members <= set(serving.models)
    unused = next(m for m in serving.models if m not in s0_members)
    served = sorted(s0_members)[0]
    why = "left 10x its range"
    with caplog.at_level(logging.INFO):
        log_diverged(logging.getLogger("run"), serving, {unused: {"s0": why}}, "")
        log_diverged(logging.getLogger("run"), serving, {served: {"s0": why}}, "")
    (info, warning) = caplog.records
    assert info.levelno == logging.INFO and f"{unused} left its range on 1 series it does not" in (
        info.getMessage()
    )
    assert "what serves them is unchanged" in info.getMessage()
    assert warning.levelno == logging.WARNING
    assert f"{served} diverged on 1 series it serves" in warning.getMessage()


def test_a_series_that_ended_early_is_forecast_zero_from_the_files_end():
    """A delisted item (no record in the file's last 20 days) is served zero from where
    every other series' forecast starts, so a total adds up the same dates (a stranger's
    total at 28 days held 56 dates, a month of them the ended item's alone); the backtest
    still scores it on its own last periods."""
    from forecasting.data.ladder import series_table
    from forecasting.serving.requests import ForecastRequest, answer
    from forecasting.workflow import production_model

    df = make_frame(n_series=3, periods=120, seed=2)
    df = df[~((df["unique_id"] == "s2") & (df["ds"] > df["ds"].max() - pd.Timedelta(days=20)))]
    spec = spec_for(country=None)
    options = TrainOptions(models=("ets", "naive"), n_windows=2)
    held = backtest(df, spec, H, options)
    assert held.actuals.groupby("unique_id")["ds"].max()["s2"] < df["ds"].max()  # its own end
    serving = production_model(df, spec, H, held.outcome)
    rows = answer(serving, ForecastRequest(H)).rows
    dates = rows.groupby("unique_id")["ds"].min()
    assert (dates == df["ds"].max() + pd.Timedelta(days=1)).all()
    ended = rows[rows["unique_id"] == "s2"]
    assert (ended["yhat"] == 0).all() and (ended["hi95"] == 0).all()
    assert rows["ds"].nunique() == H  # every series on the same dates
    table = series_table(serving.profile, serving.choice, "daily").set_index("unique_id")
    assert table.at["s2", "ladder_step"] == "ended"
    assert table.at["s2", "ladder_note"].startswith("ended: no record in the file's last 20 days")
    assert table.at["s0", "ladder_step"] == "long"


def test_a_series_that_stopped_selling_in_written_zeros_is_named_as_a_likely_stop():
    """A stranger's tea sold about 20 a day, then nothing for its last 30 days (written as
    zeros, so not ``ended``): its note asks whether it was delisted or out of stock. A slow
    mover's run of zeros as long is its ordinary history, and is not named."""
    days = pd.date_range("2024-01-01", periods=400, freq="D")
    rng = np.random.default_rng(0)
    tea = rng.poisson(20, 400).astype(float)
    tea[-30:] = 0
    slow = (rng.random(400) < 0.1) * 3.0
    slow[-30:] = 0
    short_quiet = rng.poisson(20, 400).astype(float)
    short_quiet[-5:] = 0  # under a week: too short to say
    df = pd.concat(
        pd.DataFrame({"unique_id": uid, "ds": days, "y": y})
        for uid, y in (("tea", tea), ("slow", slow), ("week", short_quiet))
    )
    profile = profile_series(df, 28, 7)
    assert profile.loc[["tea", "week"], "quiet_tail"].tolist() == [30, 5]
    assert profile.loc["slow", "quiet_tail"] >= 30
    assert quiet_stops(profile).to_dict() == {"tea": 30}
    notes = series_table(profile, pd.Series("ets", index=profile.index), "daily")
    notes = notes.set_index("unique_id")["ladder_note"]
    assert notes["tea"].endswith(
        "; sold nothing in its last 30 days, which its history makes unlikely: delisted or "
        "out of stock? Its forecast may show sales again (drop its rows after the last sale if "
        "it stopped)"
    )
    assert "sold nothing" not in notes["slow"] and "sold nothing" not in notes["week"]


def test_the_upload_report_names_a_series_that_looks_delisted_before_training():
    """A stranger's export had a SKU that sold every week, then wrote zeros for its last
    ten, with planned prices past them: it was forecast to sell 210-306 a week and the
    upload said nothing. The report now names it; a slow mover's zeros are its ordinary
    history and are not named."""
    weeks = pd.date_range("2023-01-02", periods=104, freq="W-MON")
    rng = np.random.default_rng(3)
    steady = rng.poisson(250, 104).astype(float)
    delisted = rng.poisson(240, 104).astype(float)
    delisted[-10:] = 0
    slow = (rng.random(104) < 0.15) * 2.0
    slow[-10:] = 0
    rows = pd.concat(
        pd.DataFrame({"week": weeks, "sku": sku, "units": y, "price": 3.5})
        for sku, y in (("steady", steady), ("gone", delisted), ("slow", slow))
    )
    plan = pd.DataFrame(
        {"week": [weeks[-1] + pd.Timedelta(weeks=k) for k in (1, 2)] * 3,
         "sku": ["steady"] * 2 + ["gone"] * 2 + ["slow"] * 2, "units": np.nan, "price": 3.2}
    )  # fmt: skip
    data = prepare(pd.concat([rows, plan]).to_csv(index=False).encode(), horizon=8)
    history = next(n for n in data.notes() if n.startswith("history: "))
    assert "1 series sold nothing in its last weeks, which its history makes unlikely" in history
    assert "(sku=gone): delisted or out of stock?" in history
    assert "above all where a plan of drivers is given" in history
    assert "slow" not in history and "steady" not in history
