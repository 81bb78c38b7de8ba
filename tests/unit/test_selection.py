"""Selection serves the candidate that validates best, globally or per series."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.evaluation import selection as selection_module
from forecasting.evaluation.backtest import fold_scales
from forecasting.evaluation.selection import Selection, combine, select
from tests.support.frames import make_frame


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


def _panel(n: int, h: int = 7) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    df = make_frame(n_series=n, periods=80)
    return df, fold_scales(df, h, 2, 7), sorted(df["unique_id"].unique())


def test_the_default_combination_serves_unless_a_candidate_wins_beyond_noise():
    # ETS, Theta and CES all miss by 3; naive by 6
    df, scales, ids = _panel(12)
    errors = {"ets": 3.0, "theta": 3.0, "ces": 3.0, "naive": 6.0}
    cvs = {name: _cv(df, 7, dict.fromkeys(ids, e)) for name, e in errors.items()}
    chosen = select(cvs, scales)
    assert set(chosen.choice) == {"ensemble(ets+theta+ces)"}
    assert chosen.served_models() == {"ets", "theta", "ces"}
    test = chosen.departures[0]
    assert test.pool == "all series" and not test.departed
    # a model that misses by 0.2 on every series and in every fold replaces it, and says so
    cvs["xgboost"] = _cv(df, 7, dict.fromkeys(ids, 0.2))
    chosen = select(cvs, scales)
    assert set(chosen.choice) == {"xgboost"}
    test = chosen.departures[0]
    assert test.departed and test.challenger == "xgboost"
    assert test.incumbent == "ensemble(ets+theta+ces)" and all(g > 0 for g in test.fold_gains)
    assert "xgboost serves instead of ensemble(ets+theta+ces)" in test.describe()


def test_a_gain_that_half_the_series_do_not_share_is_noise():
    df, scales, ids = _panel(12)
    anchor = {"ets": 1.0, "theta": 1.0, "ces": 1.0}
    cvs = {name: _cv(df, 7, dict.fromkeys(ids, e)) for name, e in anchor.items()}
    # better on average than the combination (which misses by 1), a coin toss per series
    cvs["toss_up"] = _cv(df, 7, {uid: (0.0 if i % 2 else 1.6) for i, uid in enumerate(ids)})
    chosen = select(cvs, scales)
    means = chosen.scores.mean()
    assert means["toss_up"] < means["ensemble(ets+theta+ces)"]
    assert set(chosen.choice) == {"ensemble(ets+theta+ces)"}
    assert chosen.departures[0].challenger == "toss_up" and not chosen.departures[0].departed


def test_per_series_and_global_choices():
    cvs, scales = _two_series(
        {"a": {"s0": 0.1, "s1": 30.0}, "b": {"s0": 30.0, "s1": 0.1}, "c": {"s0": 5.0, "s1": 5.0}}
    )
    per_series = select(cvs, scales, mode="per_series")
    assert per_series.choice.to_dict() == {"s0": "a", "s1": "b"}
    assert per_series.served_models() == {"a", "b"}
    chosen = select(cvs, scales, mode="global")
    assert chosen.choice.nunique() == 1
    pairs = [set(m) for name, m in chosen.members.items() if name.startswith("ensemble(")]
    assert {"c", "a"} in pairs or {"c", "b"} in pairs  # the two best models, averaged


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


def test_slow_movers_start_on_the_intermittent_methods_and_a_class_may_leave_its_start(
    monkeypatch,
):
    monkeypatch.setattr(selection_module, "MIN_CLASS_SERIES", 2)
    df, scales, _ = _panel(4)
    smooth, slow = ["s0", "s1"], ["s2", "s3"]
    good, bad = 0.1, 30.0
    errors = {
        "ets": {**dict.fromkeys(smooth, good), **dict.fromkeys(slow, bad)},
        "theta": {**dict.fromkeys(smooth, good), **dict.fromkeys(slow, bad)},
        "croston": {**dict.fromkeys(smooth, bad), **dict.fromkeys(slow, good)},
        "tsb": {**dict.fromkeys(smooth, bad), **dict.fromkeys(slow, good)},
    }
    cvs = {name: _cv(df, 7, e) for name, e in errors.items()}
    profile = _profile({"s0": "smooth", "s1": "smooth", "s2": "lumpy", "s3": "lumpy"})
    chosen = select(cvs, scales, "per_class", 1, profile)
    assert chosen.choice.to_dict() == {
        "s0": "ensemble(ets+theta)", "s1": "ensemble(ets+theta)",
        "s2": "ensemble(croston+tsb)", "s3": "ensemble(croston+tsb)",
    }  # fmt: skip


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


def test_a_long_series_with_no_validation_fold_takes_a_fitted_model_not_a_rule():
    """A slow mover whose folds held no sale is long but unvalidated: served the level
    rule it had no level for, and its stored forecast was blank (a run failed)."""
    cvs, scales = _two_series({"ets": {"s0": 1.0, "s1": 1.0}, "trend": {"s0": 2.0, "s1": 2.0}})
    profile = pd.concat(
        [_profile({"s0": "smooth", "s1": "smooth", "no_fold": "intermittent"}),
         _profile({"young": "intermittent"}, "short")]
    )  # fmt: skip
    chosen = select(cvs, scales, "global", 1, profile, short_ok={"ets", "trend"})
    assert chosen.choice["no_fold"] == chosen.choice["young"] == "ets"


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


def test_a_class_keeps_the_pool_choice_unless_it_wins_beyond_noise():
    df, scales, ids = _panel(24)
    profile = _profile({uid: "smooth" if i < 12 else "erratic" for i, uid in enumerate(ids)})
    erratic = profile.index[profile["demand_class"] == "erratic"]
    anchor = {"ets": 1.0, "theta": 1.0, "ces": 1.0}
    base = {name: dict.fromkeys(ids, e) for name, e in anchor.items()}
    # on the erratic series "toss_up" is a little ahead on average, series by series a coin toss
    toss_up = {uid: 6.0 if uid not in erratic else (0.0 if i % 2 else 1.6)
               for i, uid in enumerate(ids)}  # fmt: skip
    cvs = {name: _cv(df, 7, e) for name, e in {**base, "toss_up": toss_up}.items()}
    chosen = select(cvs, scales, "per_class", 1, profile)
    combination = "ensemble(ets+theta+ces)"
    assert (
        chosen.scores.loc[erratic, "toss_up"].mean()
        < chosen.scores.loc[erratic, combination].mean()
    )
    assert set(chosen.choice) == {combination}
    # ahead on every series of the class is clear: the class takes it, the rest does not
    clear = {uid: 0.2 if uid in erratic else 6.0 for uid in ids}
    cvs = {name: _cv(df, 7, e) for name, e in {**base, "clear": clear}.items()}
    chosen = select(cvs, scales, "per_class", 1, profile)
    assert set(chosen.choice[erratic]) == {"clear"}
    assert set(chosen.choice.drop(erratic)) == {combination}
    assert [d.pool for d in chosen.departures] == ["all series", "smooth series", "erratic series"]


def test_a_class_of_three_series_takes_the_choice_of_the_larger_pool():
    df, scales, ids = _panel(15)
    profile = _profile({uid: "smooth" if i < 12 else "erratic" for i, uid in enumerate(ids)})
    erratic = profile.index[profile["demand_class"] == "erratic"]
    anchor = {"ets": 3.0, "theta": 3.0, "ces": 3.0}
    errors = {name: dict.fromkeys(ids, e) for name, e in anchor.items()}
    # the three erratic series validate far better on "lucky"; the twelve others do not
    errors["lucky"] = {uid: 0.1 if uid in erratic else 5.0 for uid in ids}
    cvs = {name: _cv(df, 7, e) for name, e in errors.items()}
    chosen = select(cvs, scales, "per_class", 1, profile)
    assert set(chosen.choice) == {"ensemble(ets+theta+ces)"}
    assert [d.pool for d in chosen.departures] == ["all series", "smooth series"]


def test_one_series_leaves_the_combination_only_for_a_large_gain_in_every_fold():
    df, scales, _ = _panel(1)
    anchor = {"ets": 1.0, "theta": 1.0, "ces": 1.0}  # the combination misses by 1
    for error, expected in ((0.5, "sarima"), (0.95, "ensemble(ets+theta+ces)")):
        cvs = {name: _cv(df, 7, {"s0": e}) for name, e in {**anchor, "sarima": error}.items()}
        chosen = select(cvs, scales)
        assert set(chosen.choice) == {expected}


def test_a_departure_says_its_gains_in_words_lower_is_better():
    from forecasting.evaluation.departures import Departure

    kept = Departure("all series", 10, "ensemble(ets+theta)", "xgboost", 1.024, 0.997,
                     1.1, (-0.009, 0.075, 0.016), False)  # fmt: skip
    assert kept.describe() == (
        "all series (10 series): ensemble(ets+theta) stays: validation score 0.997 for "
        "xgboost against 1.024 (2.6% lower; by fold 0.9% higher, 7.5% lower, 1.6% lower, "
        "paired t 1.1 (2 needed))"
    )


def test_folds_pooled_into_one_table_are_chosen_on_as_models_own_folds_are():
    """A catalogue pools its partitions' folds into one table and hands each model a view
    of it; the choice rebuilds the table from the views' columns, neither joining nor
    copying them, and must come to the same table and the same choice as from each
    model's own frame, leaving the pooled table as it was."""
    df, scales, ids = _panel(24)
    rng = np.random.default_rng(3)
    errors = {name: dict(zip(ids, rng.normal(0, 2, len(ids)), strict=True))
              for name in ("ets", "theta", "ces", "naive")}  # fmt: skip
    own = {name: _cv(df, 7, e) for name, e in errors.items()}
    table = selection_module.fold_table(own)
    views = {name: selection_module.folds_of(table, name) for name in own}
    assert selection_module._views_of_one_table(list(views.values()))
    assert not selection_module._views_of_one_table(list(own.values()))
    rebuilt = selection_module.fold_table(views)
    pd.testing.assert_frame_equal(rebuilt, table)
    assert np.shares_memory(rebuilt["ets"].to_numpy(), table["ets"].to_numpy())  # no copy
    before = table.copy()
    profile = _profile(dict.fromkeys(ids, "smooth"))
    a, b = select(own, scales, profile=profile), select(views, scales, profile=profile)
    pd.testing.assert_series_equal(a.choice, b.choice)
    pd.testing.assert_frame_equal(a.scores, b.scores)
    pd.testing.assert_frame_equal(table, before)  # choosing on the shared columns wrote none
