"""Where a row sits in its series, counted from the series' own end.

Its own module because both the backtest splits and models that look at the
whole data set (``imapa_total``) count this way, and models may not import the
backtest (which imports the models).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def periods_from_end(df: pd.DataFrame) -> np.ndarray:
    """0 for each series' last row, 1 for the one before, and so on."""
    bounds = series_runs(df)
    if bounds is not None:  # rows already grouped by series: no hashing of the ids
        starts, ends = bounds
        lengths = ends - starts
        return np.repeat(ends, lengths) - 1 - np.arange(len(df))
    return df.groupby("unique_id", sort=False).cumcount(ascending=False).to_numpy()


def series_runs(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """Where each series' rows start and end, when every series' rows are together and in
    date order (as the loader and the splits leave them); None otherwise.

    Grouping by a text id hashes every row; on ten thousand series of two years that
    was most of what a cheap model's fit cost. Checking the order compares neighbours.
    """
    ids = df["unique_id"].to_numpy()
    if len(ids) == 0:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    change = ids[1:] != ids[:-1]
    starts = np.flatnonzero(np.r_[True, change])
    if len(pd.unique(ids[starts])) != len(starts):
        return None  # a series' rows are in more than one place
    ds = df["ds"].to_numpy()
    if not np.all(change | (ds[1:] > ds[:-1])):
        return None
    return starts, np.r_[starts[1:], len(ids)]


def grouped_by_series(df: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """``df`` with each series' rows together in date order (sorted only when they are
    not already), and where each series starts and ends."""
    bounds = series_runs(df)
    if bounds is None:
        df = df.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
        bounds = series_runs(df)
    elif not isinstance(df.index, pd.RangeIndex) or df.index.start != 0:
        df = df.reset_index(drop=True)
    return df, *bounds
