"""Cleaning is explicit and reported: every change is counted."""

from __future__ import annotations

import pandas as pd

from forecasting.data.cleaning import clean
from forecasting.data.loading import load_csv


def _csv(rows: list[str], header: str = "date,store,sales") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def test_duplicates_gaps_leading_zeros_negatives_outliers():
    rows = [
        f"{d.date()},a,{10 + (i % 7)}"
        for i, d in enumerate(pd.date_range("2024-01-01", periods=60))
    ]
    rows[5] = "2024-01-06,a,-3"  # a return
    rows[30] = "2024-01-31,a,400"  # a spike
    del rows[40]  # a missing day
    rows.append(rows[10])  # an exact duplicate row
    rows.append("2024-01-12,a,5")  # a second row for the same day: summed
    rows += [
        f"{d.date()},b,{0 if i < 4 else 7}"
        for i, d in enumerate(pd.date_range("2024-01-01", periods=60))
    ]
    result = clean(load_csv(_csv(rows)).frame)
    report = result.report
    assert report.exact_duplicates_dropped == 1
    assert report.duplicate_periods_summed == 1
    assert report.gaps_filled == 1
    assert report.leading_zeros_trimmed == 4
    assert report.negative_values == 1
    assert report.outliers_flagged >= 1
    assert pd.Timestamp("2024-01-31") in set(result.outliers["ds"])
    frame = result.frame.set_index(["unique_id", "ds"])["y"]
    assert frame[("store=a", pd.Timestamp("2024-01-12"))] == 10 + 11 % 7 + 5
    assert frame[("store=a", pd.Timestamp("2024-02-10"))] == 0.0  # gap filled with zero
    assert frame[("store=a", pd.Timestamp("2024-01-31"))] == 400  # flagged, not removed
    assert result.frame.groupby("unique_id").size()["store=b"] == 56


def test_gap_policies_fill_differently():
    rows = ["2024-01-01,a,10", "2024-01-02,a,20", "2024-01-04,a,40"]
    for policy, expected in (("zero", 0.0), ("ffill", 20.0), ("interpolate", 30.0)):
        frame = clean(load_csv(_csv(rows)).frame, gap_policy=policy).frame
        assert frame.loc[frame["ds"] == "2024-01-03", "y"].item() == expected


def test_short_series_are_dropped_and_named_when_others_remain():
    rows = [f"{d.date()},long,{i}" for i, d in enumerate(pd.date_range("2024-01-01", periods=40))]
    rows += [
        # launched five days before the file ends (a series that stops early instead reads
        # as a slow mover whose export left out its days without sales)
        f"{d.date()},short,{i + 1}"
        for i, d in enumerate(pd.date_range("2024-02-05", periods=5))
    ]
    result = clean(load_csv(_csv(rows)).frame, min_length=20)
    assert set(result.frame["unique_id"]) == {"store=long"}
    assert "store=short" in result.report.dropped_series
