"""Closures: a holiday a series sells nothing on, year after year, is forecast zero."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.data import closures
from forecasting.data.closures import closed_rows, describe_closures, find_closures
from forecasting.evaluation.options import TrainOptions
from forecasting.workflow import train_and_forecast
from tests.support.frames import spec_for

CHRISTMAS = "Christmas Day"


def _shop(
    uid: str, end: str = "2023-12-20", level: float = 40.0, closed=(), seed: int = 0
) -> pd.DataFrame:
    """Daily sales from 2020 with a weekly pattern; zero on the dates ``closed``."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2020-01-01", end, freq="D")
    y = rng.poisson(level * (1 + 0.3 * (ds.dayofweek >= 5))).astype(float)
    y[ds.isin(pd.to_datetime(list(closed)))] = 0.0
    return pd.DataFrame({"unique_id": uid, "ds": ds, "y": y})


def _christmases(*years: int) -> list[str]:
    return [f"{year}-12-25" for year in years]


def test_a_store_closed_on_christmas_every_year_is_closed_on_it_and_nothing_else():
    df = pd.concat(
        [_shop(f"s{i}", closed=_christmases(2020, 2021, 2022), seed=i) for i in range(3)]
    )
    found = find_closures(df, spec_for("D"))
    assert sorted(found.itertuples(index=False, name=None)) == [
        ("s0", CHRISTMAS),
        ("s1", CHRISTMAS),
        ("s2", CHRISTMAS),
    ]
    assert describe_closures(found).startswith("closures: Christmas Day (3 series): sold")
    assert describe_closures(found.iloc[:0]) is None


def test_a_store_that_opened_on_the_last_christmas_is_not_closed_on_it():
    df = _shop("s", closed=_christmases(2020, 2021))  # open on 25 December 2022
    assert find_closures(df, spec_for("D")).empty


def test_one_quiet_christmas_is_not_a_closure():
    df = _shop("s", end="2021-12-30", closed=_christmases(2021))
    assert find_closures(df, spec_for("D")).empty


def test_a_slow_mover_takes_the_closure_of_the_chain_it_cannot_show_itself():
    closed = _christmases(2020, 2021, 2022)
    slow = _shop("slow", level=0.4, closed=closed, seed=9)  # most days sell nothing
    alone = find_closures(slow, spec_for("D"))
    assert alone.empty  # its own quiet Christmases are what its quiet days explain
    chain = pd.concat([slow, *(_shop(f"s{i}", closed=closed, seed=i) for i in range(3))])
    found = find_closures(chain, spec_for("D"))
    assert ("slow", CHRISTMAS) in set(found.itertuples(index=False, name=None))


def test_one_store_s_closures_are_its_own():
    holidays = ["2020-07-04", "2021-07-04", "2022-07-04", "2023-07-04"]
    df = pd.concat([_shop("closed", closed=holidays), _shop("open", seed=3)])
    found = find_closures(df, spec_for("D"))
    assert list(found.itertuples(index=False, name=None)) == [("closed", "Independence Day")]


def test_series_judged_a_few_at_a_time_find_what_all_at_once_do(monkeypatch):
    """A catalogue's series are judged in chunks of whole series: the same closures, the
    chain's included, whether one series or all are judged at a time."""
    closed = _christmases(2020, 2021, 2022)
    stores = [_shop(f"s{i}", closed=closed, seed=i) for i in range(3)]
    july = ["2020-07-04", "2021-07-04", "2022-07-04", "2023-07-04"]
    df = pd.concat([_shop("slow", level=0.4, closed=closed, seed=9), *stores])
    df = pd.concat([df, _shop("july", closed=[*july, *closed], seed=5)])
    df = df.sample(frac=1.0, random_state=1)
    at_once = find_closures(df, spec_for("D"))
    monkeypatch.setattr(closures, "CHUNK_ROWS", 1)  # one series at a time
    one_by_one = find_closures(df, spec_for("D"))
    assert set(one_by_one.itertuples(index=False, name=None)) == set(
        at_once.itertuples(index=False, name=None)
    )
    assert {("slow", CHRISTMAS), ("july", "Independence Day")} <= set(
        one_by_one.itertuples(index=False, name=None)
    )


def test_no_country_or_no_days_no_closures():
    df = _shop("s", closed=_christmases(2020, 2021, 2022))
    assert find_closures(df, spec_for("D", country=None)).empty
    weekly = df.set_index("ds").groupby("unique_id")["y"].resample("W").sum().reset_index()
    assert find_closures(weekly, spec_for("W")).empty


def test_every_model_forecasts_a_closed_christmas_zero_band_and_all():
    df = pd.concat(
        [_shop(f"s{i}", closed=_christmases(2020, 2021, 2022), seed=i) for i in range(3)]
    )
    options = TrainOptions(models=("seasonal_naive", "ets", "theta"), n_windows=2)
    outcome = train_and_forecast(df, spec_for("D"), 14, options)
    served = outcome.forecast
    christmas = served["ds"] == "2023-12-25"
    assert christmas.sum() == 3
    assert (served.loc[christmas, ["yhat", "lo80", "hi80", "lo95", "hi95"]] == 0).all().all()
    eve = served["ds"] == "2023-12-24"
    assert (served.loc[eve, "yhat"] > 10).all()  # the day before is an ordinary day
    models = outcome.per_model.loc[outcome.per_model["ds"] == "2023-12-25"]
    assert (models[["seasonal_naive", "ets", "theta"]] == 0).all().all()
    assert closed_rows(served, outcome.serving.closures, outcome.serving.spec).sum() == 3
