"""Selection serves the candidate that validates best, globally or per series."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting import selection as selection_module
from forecasting.backtest import fold_scales
from forecasting.selection import Selection, combine, select
from tests.conftest import make_frame


def _cv(df: pd.DataFrame, h: int, error: dict[str, float]) -> pd.DataFrame:
    """A fake model's CV frame: actuals plus a per-series constant error."""
    rows = []
    for uid, g in df.groupby("unique_id"):
        for fold, back in enumerate((2 * h, h)):
            window = g.iloc[len(g) - back : len(g) - back + h]
            rows.append(window.assign(cutoff=fold, yhat=window["y"] + error[uid]))
    return pd.concat(rows, ignore_index=True)[["unique_id", "ds", "cutoff", "y", "yhat"]]


def _two_series(errors: dict[str, dict[str, float]], h: int = 7) -> tuple[dict, pd.DataFrame]:
    """Validation folds of s0 and s1 for each model, off the actuals by the given errors."""
    df = make_frame(n_series=2, periods=80)
    return {name: _cv(df, h, err) for name, err in errors.items()}, fold_scales(df, h, 2, 7)


def test_per_series_and_global_choices():
    cvs, scales = _two_series(
        {"a": {"s0": 0.1, "s1": 30.0}, "b": {"s0": 30.0, "s1": 0.1}, "c": {"s0": 5.0, "s1": 5.0}}
    )
    per_series = select(cvs, scales, mode="per_series")
    assert per_series.choice.to_dict() == {"s0": "a", "s1": "b"}
    assert per_series.served_models() == {"a", "b"}
    chosen = select(cvs, scales, mode="global", ensemble_margin=0.0)
    assert chosen.choice.nunique() == 1
    best = chosen.scores.mean().idxmin()
    assert chosen.choice.iloc[0] == best
    pairs = [set(m) for name, m in chosen.members.items() if name.startswith("ensemble(")]
    assert {"c", "a"} in pairs or {"c", "b"} in pairs  # the two best models, averaged


def test_an_ensemble_must_beat_the_best_single_model_by_the_margin():
    cvs, scales = _two_series({"a": {"s0": 2.0, "s1": 2.0}, "b": {"s0": -1.5, "s1": -1.5}})
    means = select(cvs, scales, mode="global", ensemble_margin=0.0).scores.mean()
    gain = 1 - means["ensemble(a+b)"] / means[["a", "b"]].min()
    assert 0 < gain < 1
    below = select(cvs, scales, mode="global", ensemble_margin=gain * 0.9)
    above = select(cvs, scales, mode="global", ensemble_margin=min(gain * 1.1, 0.99))
    assert set(below.choice) == {"ensemble(a+b)"}
    assert set(above.choice) == {"b"}


def test_combine_averages_the_members_of_an_ensemble():
    frame = pd.DataFrame(
        {"unique_id": ["s0", "s0", "s1"], "a": [1.0, 2.0, 3.0], "b": [3.0, 4.0, 5.0]}
    )
    selection = Selection(
        members={"a": ["a"], "ens": ["a", "b"]},
        choice=pd.Series({"s0": "ens", "s1": "a"}),
        scores=pd.DataFrame(),
        mode="per_series",
    )
    np.testing.assert_allclose(combine(frame, selection), [2.0, 3.0, 3.0])


def _profile(classes: dict[str, str], step: str = "long") -> pd.DataFrame:
    return pd.DataFrame(
        {"demand_class": pd.Series(classes), "ladder_step": step, "periods": 80}
    ).rename_axis("unique_id")


def test_each_demand_class_gets_the_candidate_that_validates_best_on_it(monkeypatch):
    monkeypatch.setattr(selection_module, "MIN_CLASS_SERIES", 2)
    h = 7
    df = make_frame(n_series=4, periods=80)
    scales = fold_scales(df, h, 2, 7)
    smooth, slow = {"s0": 0.1, "s1": 0.1}, {"s2": 30.0, "s3": 30.0}
    cvs = {
        "smooth_model": _cv(df, h, {**smooth, **slow}),
        "croston_like": _cv(df, h, {"s0": 30.0, "s1": 30.0, "s2": 0.1, "s3": 0.1}),
    }
    profile = _profile({"s0": "smooth", "s1": "smooth", "s2": "lumpy", "s3": "lumpy"})
    chosen = select(cvs, scales, "per_class", 1, profile)
    assert chosen.choice.to_dict() == {
        "s0": "smooth_model", "s1": "smooth_model", "s2": "croston_like", "s3": "croston_like",
    }  # fmt: skip
    overall = select(cvs, scales, "global", 1, profile)
    assert overall.choice.nunique() == 1


def test_short_series_take_their_class_best_among_models_that_fit_short_histories():
    cvs, scales = _two_series(
        {
            "global_tree": {"s0": 0.1, "s1": 0.1},  # best, but not for short series
            "level": {"s0": 3.0, "s1": 3.0},
            "trend": {"s0": 9.0, "s1": 9.0},
        }
    )
    profile = pd.concat(
        [
            _profile({"s0": "smooth", "s1": "smooth"}),
            _profile({"young": "smooth"}, "short"),
            _profile({"launch": "smooth"}, "new"),
            _profile({"never": "none"}, "zero"),
        ]
    )
    chosen = select(cvs, scales, "global", 1, profile, short_ok={"level", "trend"})
    assert chosen.choice.to_dict() == {
        "s0": "global_tree", "s1": "global_tree", "young": "level", "launch": "level",
        "never": "zero",
    }  # fmt: skip


def test_a_short_series_under_a_season_does_not_take_a_model_that_repeats_a_season():
    """Validated on long series, seasonal naive wins; on 8 weeks it would repeat last week."""
    cvs, scales = _two_series(
        {"seasonal_naive": {"s0": 0.1, "s1": 0.1}, "level": {"s0": 3.0, "s1": 3.0}}
    )
    launches = _profile({"eight_weeks": "smooth", "a_year": "smooth"}, "short")
    launches["whole_season"] = [False, True]
    profile = pd.concat([_profile({"s0": "smooth", "s1": "smooth"}), launches])
    fit = {"seasonal_naive", "level"}
    chosen = select(cvs, scales, "global", 1, profile, fit, seasonal={"seasonal_naive"})
    assert chosen.choice["eight_weeks"] == "level"
    assert chosen.choice["a_year"] == chosen.choice["s0"] == "seasonal_naive"


def test_a_class_keeps_the_global_choice_unless_it_wins_beyond_noise():
    h = 7
    df = make_frame(n_series=24, periods=80)
    scales = fold_scales(df, h, 2, 7)
    ids = sorted(df["unique_id"].unique())
    profile = _profile({uid: "smooth" if i < 12 else "lumpy" for i, uid in enumerate(ids)})
    lumpy = profile.index[profile["demand_class"] == "lumpy"]
    steady = {uid: 5.0 for uid in ids}
    # on the lumpy series "toss_up" is a little ahead on average, series by series a coin toss
    toss_up = {uid: 6.0 if uid not in lumpy else (2.0 if i % 2 else 7.5) for i, uid in
               enumerate(ids)}  # fmt: skip
    chosen = select({"steady": _cv(df, h, steady), "toss_up": _cv(df, h, toss_up)}, scales,
                    "per_class", 1, profile)  # fmt: skip
    assert chosen.scores.loc[lumpy, "toss_up"].mean() < chosen.scores.loc[lumpy, "steady"].mean()
    assert set(chosen.choice) == {"steady"}
    # ahead on every series of the class is clear: the class takes it
    clear = {uid: 4.0 if uid in lumpy else 6.0 for uid in ids}
    chosen = select({"steady": _cv(df, h, steady), "clear": _cv(df, h, clear)}, scales,
                    "per_class", 1, profile)  # fmt: skip
    assert set(chosen.choice[lumpy]) == {"clear"}
    assert set(chosen.choice.drop(lumpy)) == {"steady"}


def test_an_ensemble_serves_on_a_small_gain_only_when_series_after_series_share_it():
    h = 7
    df = make_frame(n_series=12, periods=80)
    scales = fold_scales(df, h, 2, 7)
    ids = sorted(df["unique_id"].unique())
    # "a" misses 2.9 high, "b" 1 low on every series: their average misses 0.95, 5% better
    steady = {"a": dict.fromkeys(ids, 2.9), "b": dict.fromkeys(ids, -1.0)}
    cvs = {name: _cv(df, h, errors) for name, errors in steady.items()}
    plain = select(cvs, scales, mode="global", ensemble_test=False)  # the margin alone
    tested = select(cvs, scales, mode="global")  # the default: the margin or the test
    means = plain.scores.mean()
    assert 0 < 1 - means["ensemble(a+b)"] / means["b"] < 0.10  # under the margin
    assert set(plain.choice) == {"b"}
    assert set(tested.choice) == {"ensemble(a+b)"}
    # about the same average gain, but half the series lose: noise, the single model serves
    mixed = {"a": {uid: (2.0 if i % 2 else 3.8) for i, uid in enumerate(ids)},
             "b": dict.fromkeys(ids, -1.0)}  # fmt: skip
    cvs = {name: _cv(df, h, errors) for name, errors in mixed.items()}
    noisy = select(cvs, scales, mode="global")
    means = noisy.scores.mean()
    assert 0 < 1 - means["ensemble(a+b)"] / means["b"] < 0.10
    assert set(noisy.choice) == {"b"}
