"""New actuals on top of a stored version, in the pure library: what is added, what is
revised, what stays planned, and what is refused."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from forecasting.data.appending import Previous, append_actuals
from forecasting.data.dataset import prepare
from forecasting.data.reading_options import ReadingOptions
from forecasting.errors import DataError
from tests.support.files import monthly_store_items

CUT = "2024-01-01"


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def _stored(frame: pd.DataFrame, version: int = 1, exog: tuple[str, ...] = ()) -> Previous:
    """What storage would hand back for ``frame`` uploaded whole (``exog``: drivers named)."""
    data = prepare(_csv(frame), ReadingOptions(exog=exog), horizon=None)
    report = data.validation_report()
    info = {
        "mapping": report["detected"],
        "freq": data.spec.freq.alias,
        "exog": list(data.spec.exog),
        "attributes": list(data.spec.attributes),
        "country": data.spec.country,
        "cleaning": report["cleaning"],
    }
    return Previous.of(version, info, data.frame, data.plan)


@pytest.fixture(scope="module")
def monthly() -> pd.DataFrame:
    return monthly_store_items()


def test_new_periods_go_on_top_and_read_like_the_whole_file(monthly):
    previous = _stored(monthly[monthly["month"] < CUT])
    appended = append_actuals(previous, _csv(monthly[monthly["month"] >= CUT]))
    whole = prepare(_csv(monthly), horizon=None).frame
    got = appended.dataset.frame
    cols = ["unique_id", "ds", "y", "store", "item", "category"]
    pd.testing.assert_frame_equal(
        got[cols].reset_index(drop=True), whole[cols].reset_index(drop=True)
    )
    assert len(appended.new_periods) == 12 and appended.new_periods[0] == CUT
    assert appended.revisions.empty and appended.new_series == []
    assert "12 new periods (2024-01-01 to 2024-12-01)" in appended.describe()


def test_a_changed_stored_value_is_a_revision_and_a_new_series_is_named(monthly):
    previous = _stored(monthly[monthly["month"] < CUT])
    new = monthly[monthly["month"] >= "2023-11-01"].copy()
    new.loc[new.index[0], "units"] += 7.5  # north tea, November 2023
    launch = pd.DataFrame(
        {"month": ["2024-11-01", "2024-12-01"], "store": "north", "item": "cocoa",
         "category": "drinks", "units": [5.0, 9.0]}
    )  # fmt: skip
    appended = append_actuals(previous, _csv(pd.concat([new, launch])))
    assert appended.overlapping == 12  # two stored months of six series
    rev = appended.revisions
    assert len(rev) == 1 and rev.iloc[0]["unique_id"] == "store=north/item=tea"
    assert rev.iloc[0]["after"] - rev.iloc[0]["before"] == pytest.approx(7.5)
    assert appended.new_series == ["store=north/item=cocoa"]
    frame = appended.dataset.frame.set_index(["unique_id", "ds"])
    assert (
        frame.loc[("store=north/item=tea", pd.Timestamp("2023-11-01")), "y"] == rev.iloc[0]["after"]
    )
    assert appended.report()["revised"][0]["ds"] == "2023-11-01"


def test_the_stored_plan_stays_for_the_periods_still_ahead():
    dates = pd.date_range("2024-01-01", periods=40, freq="W-MON")
    history = pd.DataFrame({"week": dates, "units": range(40), "price": [2.0, 2.2] * 20})
    plan = pd.DataFrame({"week": pd.date_range(dates[-1], periods=9, freq="W-MON")[1:],
                         "units": None, "price": [1.5] * 8})  # fmt: skip
    previous = _stored(pd.concat([history[:36], plan]))
    assert previous.plan is not None and len(previous.plan) == 8
    appended = append_actuals(previous, _csv(history[36:]))
    kept = appended.dataset.plan
    assert kept is not None and list(kept["ds"]) == list(plan["week"])  # all still ahead


def test_drivers_named_when_stored_stay_named_on_an_append():
    """A version stored with named drivers is appended with them named: the report does
    not call them "tried", and one that looks like an outcome is not dropped."""
    dates = pd.date_range("2024-01-01", periods=40, freq="W-MON")
    units = pd.Series(range(10, 50), dtype=float)
    history = pd.DataFrame({"week": dates, "units": units, "price": [2.0, 2.2] * 20})
    history["spend"] = history["units"] * history["price"]  # an outcome, named anyway
    previous = _stored(history[:36], exog=("price", "spend"))
    assert previous.drivers_named
    appended = append_actuals(previous, _csv(history[36:]))
    assert appended.dataset.spec.exog == ("price", "spend")
    said = appended.dataset.describe_drivers()
    assert "(named, all used)" in said and "tried" not in said
    plain = append_actuals(_stored(history[:36]), _csv(history[36:]))
    assert not plain.dataset.drivers_named  # drivers the file planned are still only tried


def test_refusals_say_what_is_wrong(monthly):
    previous = _stored(monthly[monthly["month"] < CUT])
    with pytest.raises(DataError, match="adds nothing"):
        append_actuals(previous, _csv(monthly[monthly["month"] < CUT]))
    with pytest.raises(DataError, match=r"columns of data set version 1 .*'item' is not"):
        append_actuals(previous, _csv(monthly[monthly["month"] >= CUT].drop(columns="item")))
    shifted = monthly[monthly["month"] >= CUT].assign(
        month=lambda f: (pd.to_datetime(f["month"]) + pd.offsets.MonthEnd(0)).dt.date
    )
    with pytest.raises(DataError):
        append_actuals(previous, _csv(shifted))
    region = monthly[monthly["month"] >= CUT].assign(region=lambda f: f["store"] + "-region")
    with pytest.raises(DataError, match="does not have: region"):
        append_actuals(previous, _csv(region))
    weekly = pd.DataFrame(
        [(d.date(), s, i, c, 10.0)
         for d in pd.date_range("2024-01-07", periods=8, freq="W-SUN")
         for s, i, c in monthly[["store", "item", "category"]].drop_duplicates().to_numpy()],
        columns=["month", "store", "item", "category", "units"],
    )  # fmt: skip
    with pytest.raises(DataError, match=r"The new file is weekly .* version 1 is monthly"):
        append_actuals(previous, _csv(weekly[[*monthly.columns]]))


def test_what_the_stored_version_filled_stays_marked_and_counted(monthly):
    """A lost month interpolated when version 1 was stored is a value in its history: the
    append must keep its mark and its count (a stranger's version 2 said 0 filled)."""
    first = monthly[monthly["month"] < CUT]
    lost = first.index[(first["store"] == "north") & (first["item"] == "tea")][20]
    data = prepare(_csv(first.drop(index=lost)), ReadingOptions(), horizon=None)
    assert data.cleaned.report.values_filled == 1 and len(data.cleaned.filled) == 1
    keys = data.cleaned.filled.set_index(["unique_id", "ds"]).index
    stored = data.frame.assign(is_filled=data.frame.set_index(["unique_id", "ds"]).index.isin(keys))
    report = data.validation_report()
    info = {"mapping": report["detected"], "freq": data.spec.freq.alias, "exog": [],
            "attributes": list(data.spec.attributes), "country": data.spec.country,
            "cleaning": report["cleaning"]}  # fmt: skip
    previous = Previous.of(1, info, stored, None)
    appended = append_actuals(previous, _csv(monthly[monthly["month"] >= CUT])).dataset
    marked = set(appended.cleaned.filled.itertuples(index=False, name=None))
    assert set(data.cleaned.filled.itertuples(index=False, name=None)) <= marked
    r = appended.cleaned.report
    assert r.values_filled == 1 and r.gaps_as_missing == 1
    # read as the two files held them: the history less its lost month, and the new rows
    assert r.rows_in == len(first) - 1 + (monthly["month"] >= CUT).sum()
    assert r.rows_out == r.rows_in + r.values_filled - r.leading_zeros_trimmed
    assert "1 period filled when data set version 1 was stored" in r.gap_rule


def test_a_whole_re_export_counts_a_slow_starter_s_leading_zeros_once(monthly):
    """Next month's export repeats the history: the leading zeros the stored version
    trimmed are in it again, trimmed again, and counted once (a stranger's report said
    38 for 19), and the rows read are the file's."""
    history = monthly[monthly["month"] < CUT].copy()
    first = history["store"].eq("north") & history["item"].eq("tea")
    history.loc[first & (history["month"] < "2021-04-01"), "units"] = 0.0  # a slow start
    stored = _stored(history)
    # as storage hands it back: with each row's filled mark
    previous = replace(stored, frame=stored.frame.assign(is_filled=False))
    zeros = int(previous.cleaning["leading_zeros_trimmed"])
    assert zeros > 0
    export = pd.concat([history, monthly[monthly["month"] >= CUT]])
    appended = append_actuals(previous, _csv(export))
    r = appended.dataset.cleaned.report
    assert r.leading_zeros_trimmed == zeros
    assert r.rows_in == len(export)
    assert r.rows_out == len(export) - zeros
    # new periods alone: the stored version's trimmed zeros still count, as before
    alone = append_actuals(previous, _csv(monthly[monthly["month"] >= CUT]))
    assert alone.dataset.cleaned.report.leading_zeros_trimmed == zeros
