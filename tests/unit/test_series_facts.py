"""A catalogue's serving model is built a partition at a time (issue 30): what it keeps
of each series, and the closures judged on the panel's total, equal the whole panel's."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from forecasting.data.closures import COLUMNS, find_closures
from forecasting.data.frequency import frequency_from_alias
from forecasting.data.ladder import mark_ended, profile_series
from forecasting.data.partitions import Partitions
from forecasting.data.spec import DataSpec
from forecasting.evaluation.options import TrainOptions
from forecasting.partitioned import partitioned_backtest
from forecasting.partitioned_serving import Catalogue
from forecasting.serving import reconciliation
from forecasting.serving.model import SERVED
from forecasting.serving.series_facts import SeriesFacts, ruled_series
from forecasting.workflow import backtest, production_model

H = 14
CHRISTMAS = "Christmas Day"


def _panel() -> pd.DataFrame:
    """Daily shops closed on Christmas, slow movers that cannot show it themselves, a
    launch, a series that ended, one that never sold; a price and a store."""
    rng = np.random.default_rng(4)
    ds = pd.date_range("2020-01-01", "2023-12-31", freq="D")
    christmas = ds.isin(pd.to_datetime([f"{y}-12-25" for y in (2020, 2021, 2022, 2023)]))
    frames = []
    for i in range(9):
        level = 0.4 if i % 3 == 2 else 30.0 + 5 * i
        y = rng.poisson(level * (1 + 0.3 * (ds.dayofweek >= 5))).astype(float)
        y[christmas] = 0.0
        days = ds
        if i == 4:  # launched three days before the end
            days, y = ds[-3:], y[-3:]
        if i == 6:  # ended three weeks before the end
            days, y = ds[:-21], y[:-21]
        if i == 8:
            y = np.zeros(len(ds))
        price = 2.0 + 0.1 * i + rng.choice([0.0, -0.3], len(days), p=[0.8, 0.2])
        frames.append(
            pd.DataFrame(
                {"unique_id": f"s{i}", "ds": days, "y": y, "price": price, "store": f"st{i % 2}"}
            )
        )
    return pd.concat(frames, ignore_index=True)


def _spec() -> DataSpec:
    return DataSpec(
        frequency_from_alias("D"),
        exog=("price",),
        prices=("price",),
        country="US",
        attributes=("store",),
    )


def _facts_in_parts(df: pd.DataFrame, spec: DataSpec) -> tuple[SeriesFacts, SeriesFacts]:
    profile = mark_ended(profile_series(df, H, spec.season_length), df)
    on_rule = ruled_series(profile, pd.Series(dtype=object))
    span = (df["ds"].min(), df["ds"].max())
    whole = SeriesFacts.of(df, spec, span, profile, on_rule)
    parts = [
        SeriesFacts.of(df.loc[df["unique_id"].isin(ids)], spec, span, profile, on_rule)
        for ids in (["s0", "s1", "s2"], ["s3", "s4", "s5"], ["s6", "s7", "s8"])
    ]
    return whole, SeriesFacts.joined(parts)


def test_facts_made_a_partition_at_a_time_are_the_whole_panels():
    df, spec = _panel(), _spec()
    whole, joined = _facts_in_parts(df, spec)
    pd.testing.assert_series_equal(joined.scale, whole.scale)
    pd.testing.assert_series_equal(joined.nonnegative, whole.nonnegative)
    pd.testing.assert_frame_equal(joined.rule_levels, whole.rule_levels)
    assert set(whole.rule_levels.index) == {"s4", "s6", "s8"}  # new, ended, never sold
    pd.testing.assert_frame_equal(joined.driver_tail, whole.driver_tail)
    pd.testing.assert_frame_equal(joined.driver_range, whole.driver_range)
    pd.testing.assert_frame_equal(joined.total, whole.total)
    pd.testing.assert_frame_equal(joined.keys, whole.keys)
    span = whole.span()
    closures = joined.closures(spec, span)
    # the slow movers' own quiet Christmases tell nothing: the chain's closure does
    assert ("s2", CHRISTMAS) in set(closures.itertuples(index=False, name=None))
    assert not set(
        SeriesFacts.of(df.loc[df["unique_id"] == "s2"], spec, span).closures(spec, span)[
            "unique_id"
        ]
    )
    expected = find_closures(df, spec)
    key = sorted(COLUMNS)
    assert closures.sort_values(key, ignore_index=True).equals(
        expected.sort_values(key, ignore_index=True)
    )


def test_a_catalogue_serving_model_built_in_partitions_forecasts_as_the_whole(tmp_path):
    """From the backtest to the served forecast with its bands, the plan's drivers and the
    closures: the serving model of partitions of whole series, never the whole frame."""
    df, spec = _panel(), _spec()
    options = TrainOptions(
        models=("seasonal_naive", "ets", "linear_trend"), n_windows=2, always=(), drivers="all"
    )
    whole_report = backtest(df, spec, H, options)
    ahead = pd.date_range("2024-01-01", periods=H, freq="D")
    plan = pd.DataFrame(
        [(uid, day, 1.5) for uid in df["unique_id"].unique() for day in ahead],
        columns=["unique_id", "ds", "price"],
    )
    whole = production_model(df, spec, H, whole_report.outcome, plan=plan)
    parts = Partitions.cut(df, tmp_path / "partitions", rows=4_000)
    assert len(parts) == 4
    report = partitioned_backtest(parts, spec, H, options, keep=tmp_path)
    catalogue = Catalogue(parts, tmp_path)
    served = production_model(None, spec, H, report.outcome, plan=plan, catalogue=catalogue)
    assert catalogue.span() == (df["ds"].min(), df["ds"].max())
    a, b = served.forecast(H), whole.forecast(H)
    key = ["unique_id", "ds"]
    a, b = a.sort_values(key, ignore_index=True), b.sort_values(key, ignore_index=True)
    pd.testing.assert_frame_equal(a[b.columns], b, check_exact=False, rtol=1e-9)
    assert "linear_trend" in set(served.choice) and served.spec.exog == ("price",)
    dearer = served.forecast(H, plan.assign(price=3.0))  # the plan is what it reads
    assert dearer["yhat"].sum() != pytest.approx(a["yhat"].sum(), rel=1e-6)
    pd.testing.assert_frame_equal(
        served.profile.sort_index(), whole.profile.sort_index(), check_like=True
    )
    assert served.closures.sort_values(COLUMNS, ignore_index=True).equals(
        whole.closures.sort_values(COLUMNS, ignore_index=True)
    )
    assert served.closures["unique_id"].nunique() == 8  # every series that sold


@pytest.mark.parametrize("rows", [1, 10_000])
def test_a_catalogue_reads_its_totals_rows_only_where_it_reconciles(tmp_path, monkeypatch, rows):
    """Few validated series: ``coherent`` reads their rows; over ``MAX_SERIES`` only the
    keys (all it reads then), never every row of a catalogue."""
    df, spec = _panel(), _spec()
    parts = Partitions.cut(df, tmp_path, rows=rows)
    catalogue = Catalogue(parts, tmp_path)
    facts = SeriesFacts.of(df, spec, (df["ds"].min(), df["ds"].max()))
    cutoffs = np.where(df["ds"] < "2023-01-01", df["ds"].min(), df["ds"].max())
    table = df.assign(cutoff=cutoffs)[["unique_id", "cutoff", "ds", "y"]]

    chosen = SimpleNamespace(table=table)  # all ``totals_rows`` reads of a selection
    read = catalogue.totals_rows(chosen, facts)
    pd.testing.assert_frame_equal(read, df)
    monkeypatch.setattr(reconciliation, "MAX_SERIES", 3)
    read = catalogue.totals_rows(chosen, facts)
    assert list(read.columns) == ["unique_id", "store"] and len(read) == 9
    monkeypatch.undo()  # few enough series, but one validation fold: no weights to learn
    one_fold = SimpleNamespace(table=table.assign(cutoff=df["ds"].max()))
    assert list(catalogue.totals_rows(one_fold, facts).columns) == ["unique_id", "store"]


def test_a_backtest_in_partitions_closes_the_panels_holidays_on_every_series(tmp_path):
    """A partition of one slow mover cannot show the chain's Christmas: the held-out
    forecast of a backtest in partitions reads the closures of the panel's total, as the
    whole backtest does (it read its own partition's total, and forecast a sale)."""
    df = _panel()
    spec = DataSpec(frequency_from_alias("D"), country="US")
    options = TrainOptions(models=("seasonal_naive", "ets"), n_windows=1, always=())
    whole = backtest(df, spec, H, options)
    parts = Partitions.cut(df, tmp_path / "partitions", rows=1_461)  # a series each
    assert len(parts) == df["unique_id"].nunique()
    split = partitioned_backtest(parts, spec, H, options, work=tmp_path)
    key = ["unique_id", "ds"]
    a = split.actuals.sort_values(key, ignore_index=True)
    b = whole.actuals.sort_values(key, ignore_index=True)
    christmas = a.loc[(a["ds"] == "2023-12-25") & (a["unique_id"].isin(["s2", "s5"]))]
    assert len(christmas) == 2 and (christmas[SERVED] == 0).all()
    np.testing.assert_allclose(a[SERVED], b[SERVED], rtol=1e-9)
