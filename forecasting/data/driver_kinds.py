"""Numeric columns that are never drivers: identifiers, counters and calendar keys.

A driver moves sales in a way a model can learn and a planner can set ahead: a
price, a promotion, a marketing spend. Three kinds of numeric column in a sales
export are none of these, and screening them on validation only invites luck (a
week counter was kept because it scored 0.837 against 0.847 on ten series, issue 27):

- an identifier of the series (a store or item number): one value per series;
- a counter: moves one way with the date in every series, step after step (a week
  number, a period index, M5's ``wm_yr_wk``), a stand-in for the trend the models
  already fit;
- a calendar key: a function of the date's place in a cycle (the day of the week,
  of the month or of the year, the week of the year, the month, the quarter), e.g. a
  month number or a weekend flag, which the seasonal models already see.

A fourth kind is no driver either, though a user may still name it: an outcome of
the sales, such as their revenue or cost, zero on every day nothing sold and moving
with the units; its future is known only once the sales are made.

Holidays and events stay candidates: they are known ahead, and no cycle repeats them.
A column named like a price or a promotion is never taken for a counter: a list
price that only ever rises is still a price.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.data.frequency import Frequency
from forecasting.data.spec import PRICE_NAMES, PROMOTION_NAMES

#: a cycle position must be seen on this many dates on average before a column that
#: follows it counts as a function of it (one year of days says nothing of day-of-year)
MIN_REPEATS = 2
#: a counter steps at least this often: once per this many seasons of its series
COUNTER_SEASONS = 2
#: a column zero exactly where the sales are and this correlated with them within series
#: is an outcome of them (their revenue, cost or margin), known only once they are made:
#: a margin's promotion weeks (more units, less a unit) left it at 0.79 and 0.55 in two
#: strangers' exports, where a price moves against the sales and a promotion flag is no
#: steady amount per unit
OUTCOME_CORRELATION = 0.5
#: the share of the days that sold nothing on which the column is zero too, and of the
#: other days on which it is not
OUTCOME_ZEROS_TOGETHER = 0.98
#: days that sold nothing (and days that sold) needed before a column is judged an outcome
MIN_UNSOLD = 5
#: with fewer unsold periods, an outcome is a steady amount per unit sold (a revenue's
#: price, a cost's unit cost): the median over series of the spread (coefficient of
#: variation) of column / units at most this (a second stranger's revenue had no
#: unsold day to show it)
OUTCOME_RATIO_SPREAD = 0.25


def why_not_a_driver(frame: pd.DataFrame, column: str, freq: Frequency) -> str | None:
    """Why ``column`` of the long frame can never be a driver, or None when it can be one."""
    values = frame[column]
    known = values.notna()
    if values[known].nunique() <= 1:
        return "the same value on every row"
    ids = frame.loc[known, "unique_id"]
    per_series = values[known].groupby(ids, sort=False).nunique()
    if (per_series <= 1).all():
        return "an identifier: one value per series"
    named = PRICE_NAMES.search(column) or PROMOTION_NAMES.search(column)
    if not named and _counter(frame.loc[known, ["unique_id", "ds", column]], column, freq):
        return "a counter: it moves one way with the date in every series"
    cycle = _cycle_it_follows(frame.loc[known, ["ds", column]], column, freq)
    if cycle:
        return f"a calendar key: a function of the {cycle}"
    if not named and _period_number(frame.loc[known, ["ds", column]], column):
        return "a calendar key: it numbers the periods, one more each period and back to the start"
    return None


#: periods a column must number before it is read as a period number
MIN_NUMBERED = 8


def _period_number(frame: pd.DataFrame, column: str) -> bool:
    """Whether ``column`` numbers the periods: one value per date for (almost) every
    series, one more from each period to the next, and back to its start when its cycle ends. A
    fiscal week drifts against the calendar's weeks (52 weeks of 7 days), so no place in
    a calendar cycle holds a single value of it."""
    by_date = frame.groupby("ds", sort=True)[column]
    common = by_date.agg(lambda v: v.mode().iloc[0])
    # a filled gap carries the week before's number: most rows, not all, agree
    agree = frame[column].to_numpy(float) == frame["ds"].map(common).to_numpy(float)
    values = common.to_numpy(float)
    if len(values) < MIN_NUMBERED or agree.mean() < 0.95:
        return False
    if not np.allclose(values, np.round(values)):
        return False
    steps = np.diff(values)
    up = steps == 1
    back = (steps < 0) & (values[1:] <= values.min() + 1)
    return bool(up.mean() >= 0.8 and (up | back).mean() >= 0.95)


def outcome_of_sales(frame: pd.DataFrame, column: str) -> str | None:
    """Why ``column`` looks like an outcome of the sales (their revenue or cost), or None.

    Revenue is zero on every day nothing sold and moves with the units within each
    series; a price or a promotion does neither. A stranger ticked a revenue column as
    a driver and nothing said it was the sales again, priced."""
    both = frame[["unique_id", "y", column]].dropna()
    if len(both) < 10:
        return None
    values, y = both[column].astype(float), both["y"].astype(float)
    unsold = y == 0
    if (~unsold).sum() < MIN_UNSOLD:
        return None
    if unsold.sum() < MIN_UNSOLD:  # no days that sold nothing: a steady amount per unit
        spread = _ratio_spread(values[~unsold], y[~unsold], both["unique_id"][~unsold])
        if spread is None or spread > OUTCOME_RATIO_SPREAD:
            return None
        how = f"a steady amount per unit sold (spread {spread:.2f})"
    else:
        if (values[unsold] == 0).mean() < OUTCOME_ZEROS_TOGETHER:
            return None
        if (values[~unsold] != 0).mean() < OUTCOME_ZEROS_TOGETHER:
            return None
        how = "zero whenever nothing sold"
    r = _median_correlation(values, y, both["unique_id"])
    if r is None or r < OUTCOME_CORRELATION:
        return None
    return (
        f"{how} and moving with the sales (median correlation {r:.2f} within series): an "
        "outcome of them, such as revenue or cost, not known ahead"
    )


def _median_correlation(values: pd.Series, y: pd.Series, ids: pd.Series) -> float | None:
    """Each series' own correlation (its price is its own slope), the median over series."""
    per_series = (
        pd.DataFrame({"v": values, "y": y, "id": ids})
        .groupby("id", sort=False)[["v", "y"]]
        .corr()
        .xs("v", level=1)["y"]
        .dropna()
    )
    return None if per_series.empty else float(per_series.median())


def _ratio_spread(values: pd.Series, y: pd.Series, ids: pd.Series) -> float | None:
    """The median over series of the coefficient of variation of ``values / y``."""
    ratio = (values / y).groupby(ids.to_numpy(), sort=False)
    mean, std = ratio.mean(), ratio.std()
    spread = (std / mean.abs()).replace([np.inf, -np.inf], np.nan).dropna()
    return None if spread.empty else float(spread.median())


def _counter(frame: pd.DataFrame, column: str, freq: Frequency) -> bool:
    """Monotone in the date within every series of three or more rows, with a new value
    at least every ``COUNTER_SEASONS`` seasons."""
    frame = frame.sort_values(["unique_id", "ds"])
    by = frame.groupby("unique_id", sort=False)[column]
    steps = by.diff()
    rising = (steps.fillna(0) >= 0).groupby(frame["unique_id"], sort=False).all()
    falling = (steps.fillna(0) <= 0).groupby(frame["unique_id"], sort=False).all()
    sizes = by.size()
    distinct = by.nunique()
    often = distinct >= np.maximum(3, sizes / (COUNTER_SEASONS * max(freq.season_length, 2)))
    judged = sizes >= 3
    if not judged.any():
        return False
    return bool(((rising | falling) & often)[judged].all())


def _positions(ds: pd.Series, freq: Frequency) -> dict[str, pd.Series]:
    """The date's place in each cycle a column could follow at this frequency."""
    cycles = {"month": ds.dt.month, "quarter": ds.dt.quarter}
    if freq.name == "weekly":
        cycles["week of the year"] = ds.dt.isocalendar().week.astype(int)
    if freq.name == "daily":
        cycles |= {
            "day of the week": ds.dt.dayofweek,
            "day of the month": ds.dt.day,
            "day of the year": ds.dt.dayofyear,
        }
    return cycles


def _cycle_it_follows(frame: pd.DataFrame, column: str, freq: Frequency) -> str | None:
    """The first cycle whose every position holds a single value of the column, on
    dates that repeat each position ``MIN_REPEATS`` times on average."""
    dates = frame["ds"].drop_duplicates()
    for name, position in _positions(frame["ds"], freq).items():
        position = pd.Series(np.asarray(position), index=frame.index)
        places = position.nunique()
        if places < 2 or len(dates) < MIN_REPEATS * places:
            continue
        if (frame[column].groupby(position).nunique() <= 1).all():
            return name
    return None
