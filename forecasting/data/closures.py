"""Holidays a series sells (next to) nothing on, year after year: closures.

A store closed on Christmas Day records nothing that day, every year (M5's Walmart
stores, Favorita's), yet the served ETS, Theta, CES and ARIMA read no calendar and
forecast an ordinary day. A daily series' holiday (by name, from the ``holidays``
calendar of the data set's country, so a moving feast counts too) is a closure when
it was quiet (sales at most ``AT_MOST`` of the series' mean over the month around it) at every
occurrence, or at all but one of four or more, the last one included, and chance
would explain that less than once in a hundred (quiet ordinary days as common as in
the series, and every holiday of the calendar tried: a slow mover's many quiet days
explain a quiet holiday, and one of ten holidays is quiet by chance more often than
one holiday). Its forecast for
that holiday is zero, with a zero band, whatever model serves.

"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
from scipy.stats import binom

from forecasting.data.calendar import holiday_table
from forecasting.data.spec import DataSpec

#: occurrences of a holiday in a series' history before its quiet is a closure
MIN_YEARS = 2
#: a day is quiet when it sells at most this share of the series' mean on other days
AT_MOST = 0.1
#: days around a day whose mean sales are its level
LEVEL_DAYS = 29
#: a quiet holiday is a closure when quiet ordinary days explain it less often than this
CHANCE = 0.01
COLUMNS = ["unique_id", "holiday"]
#: rows of whole series judged at a time
CHUNK_ROWS = 1_000_000


def named_days(spec: DataSpec, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """``ds, holiday`` for the days of the data set's calendar from ``start`` to ``end``
    (empty where closures do not apply: no country, or periods longer than a day)."""
    if not spec.country or spec.freq.alias != "D" or pd.isna(start) or start > end:
        return pd.DataFrame({"ds": pd.Series(dtype="datetime64[ns]"), "holiday": []})
    table = holiday_table(spec.country, start, end)
    # a day with two holidays' names is one closure key
    table = table.groupby("ds", as_index=False)["holiday"].agg("; ".join)
    return table.loc[(table["ds"] >= start) & (table["ds"] <= end)].reset_index(drop=True)


def find_closures(df: pd.DataFrame, spec: DataSpec) -> pd.DataFrame:
    """``unique_id, holiday``: the holidays each series of ``df`` is closed on: its own
    (a store closed on its region's holidays), and those the whole panel is closed on (a
    chain closed on Christmas Day: its slow movers' own quiet days cannot tell)."""
    if df.empty:
        return pd.DataFrame(columns=COLUMNS)
    span = (df["ds"].min(), df["ds"].max())
    own = series_closures(df, spec, span)
    total = df.groupby("ds", as_index=False)["y"].sum()
    selling = df.groupby("unique_id", sort=False)["y"].max()
    return with_panel_closures(own, total, selling.index[selling > 0], spec, span)


def series_closures(
    df: pd.DataFrame, spec: DataSpec, span: tuple[pd.Timestamp, pd.Timestamp]
) -> pd.DataFrame:
    """The closures of each series of ``df`` by its own sales, on the calendar of the
    panel's ``span`` (first and last day): a part of a catalogue is judged as it would
    be in the whole panel."""
    days = named_days(spec, *span)
    if df.empty or days.empty:
        return pd.DataFrame(columns=COLUMNS)
    tested = max(days["holiday"].nunique(), 1)
    return pd.concat(
        [_closed(rows, days, tested) for rows in _whole_series(df, CHUNK_ROWS)],
        ignore_index=True,
    )


def with_panel_closures(
    own: pd.DataFrame,
    total: pd.DataFrame,
    selling: pd.Index,
    spec: DataSpec,
    span: tuple[pd.Timestamp, pd.Timestamp],
) -> pd.DataFrame:
    """``own`` closures and, for every series in ``selling``, the holidays the panel's
    ``total`` (``ds, y``: every series summed per day) is closed on."""
    days = named_days(spec, *span)
    if days.empty or total.empty:
        return own
    tested = max(days["holiday"].nunique(), 1)
    whole = _closed(total.assign(unique_id=""), days, tested)["holiday"]
    if whole.empty:
        return own
    every = pd.MultiIndex.from_product([selling, whole], names=COLUMNS).to_frame(index=False)
    return pd.concat([own, every]).drop_duplicates(ignore_index=True)


def _whole_series(df: pd.DataFrame, rows: int) -> Iterator[pd.DataFrame]:
    """``unique_id, ds, y`` of ``df`` in chunks of whole series of about ``rows`` rows:
    ``_closed`` holds a dozen arrays over the rows it is given (1.6 GB transient on a
    catalogue's 16 million rows, issue 30); each series is judged alone."""
    codes, uids = pd.factorize(df["unique_id"], sort=False)
    per_chunk = max(1, int(rows * len(uids) / max(len(df), 1)))
    chunk = np.floor_divide(codes, per_chunk, out=codes)  # in place: 8 bytes a row less
    columns = {name: df[name].to_numpy() for name in ("unique_id", "ds", "y")}
    for k in range(int(chunk.max()) + 1):
        rows = np.flatnonzero(chunk == k)  # the chunk's rows only: no copy of every row
        yield pd.DataFrame({name: values[rows] for name, values in columns.items()})


def _closed(rows: pd.DataFrame, days: pd.DataFrame, tested: int) -> pd.DataFrame:
    """The closures of each series of ``rows`` (``unique_id, ds, y``, every day), with
    arrays over the rows, not copies of them (a catalogue's tens of millions)."""
    rows = rows.sort_values(["unique_id", "ds"], kind="stable")
    codes, uids = pd.factorize(rows["unique_id"], sort=False)
    y = rows["y"].to_numpy(float)
    level = _local_level(codes, y)
    quiet = (y <= AT_MOST * level) & (level > 0)
    named = rows["ds"].map(days.set_index("ds")["holiday"])
    on_holiday = named.notna().to_numpy()
    ordinary = ~on_holiday & (level > 0)
    counts = np.bincount(codes[ordinary], minlength=len(uids))
    chance_quiet = np.bincount(codes[ordinary], quiet[ordinary], minlength=len(uids)) / np.maximum(
        counts, 1
    )
    held = on_holiday & (level > 0)
    table = (
        pd.DataFrame(
            {
                "unique_id": uids[codes[held]],
                "holiday": named.to_numpy()[held],
                "quiet": quiet[held],
                "q": np.where(counts > 0, chance_quiet, 1.0)[codes[held]],
            }
        )
        .groupby(["unique_id", "holiday"], sort=False)
        .agg(
            times=("quiet", "size"),
            quiet=("quiet", "sum"),
            last=("quiet", "last"),
            q=("q", "first"),
        )
        .reset_index()
    )
    n, k = table["times"].to_numpy(), table["quiet"].to_numpy()
    mostly = (k == n) | ((n >= 4) & (k >= n - 1))
    # P(at least k quiet of n) on ordinary days, for each of the calendar's holidays tried
    by_chance = binom.sf(k - 1, n, table["q"].to_numpy(float)) * tested
    closed = (n >= MIN_YEARS) & mostly & table["last"].to_numpy(bool) & (by_chance < CHANCE)
    return table.loc[closed, COLUMNS].reset_index(drop=True)


def _local_level(codes: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each row's mean over the ``LEVEL_DAYS`` rows centred on it within its series (NaN
    with fewer than 7): a launch's or a trend's level where the day is, from one
    cumulative sum of rows grouped by series."""
    n = len(y)
    position = np.arange(n)
    starts = np.r_[0, np.flatnonzero(np.diff(codes)) + 1]
    ends = np.r_[starts[1:], n]
    series = np.repeat(np.arange(len(starts)), ends - starts)
    half = LEVEL_DAYS // 2
    low = np.maximum(position - half, starts[series])
    high = np.minimum(position + half + 1, ends[series])
    total = np.r_[0.0, np.cumsum(np.nan_to_num(y))]
    width = high - low
    level = (total[high] - total[low]) / width
    return np.where(width >= 7, level, np.nan)


def closed_rows(frame: pd.DataFrame, closures: pd.DataFrame | None, spec: DataSpec) -> np.ndarray:
    """Which rows of ``frame`` (``unique_id, ds``) fall on a holiday their series is
    closed on."""
    if closures is None or closures.empty or frame.empty:
        return np.zeros(len(frame), bool)
    days = named_days(spec, frame["ds"].min(), frame["ds"].max())
    if days.empty:
        return np.zeros(len(frame), bool)
    named = frame[["unique_id", "ds"]].merge(days, on="ds", how="left")
    keys = pd.MultiIndex.from_frame(closures[COLUMNS])
    return pd.MultiIndex.from_frame(named[COLUMNS]).isin(keys)


def describe_closures(closures: pd.DataFrame | None) -> str | None:
    """ "closures: Christmas Day (56 series), Thanksgiving Day (2 series): forecast zero";
    None when there is none."""
    if closures is None or closures.empty:
        return None
    counts = closures["holiday"].value_counts()
    said = ", ".join(f"{name} ({n} series)" for name, n in counts.items())
    return (
        f"closures: {said}: sold nothing there year after year, so forecast zero on "
        "those days by every model"
    )
