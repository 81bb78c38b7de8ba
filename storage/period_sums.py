"""What a page draws of a stored version, read without holding its rows.

A web worker read the whole version it showed and kept it: 641 MB at 10,000 daily
series (issue 30), where a chart needs one series' rows or a group's sums per period.
A group's and the total's sums are written with the version (``PeriodSums``); one
series' rows come from the observations' index; a version stored before the sums
existed is summed in the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import pandas as pd
from sqlalchemy import case, func, select

from storage.database import Database
from storage.tables import Observation, PeriodSum

#: the scope of every series
TOTAL = ""
#: ids bound in one query (SQLite allows 32,766 variables; PostgreSQL 65,535)
IDS_PER_QUERY = 10_000
#: a group of fewer series is summed when asked, through the observations' index: about
#: a millisecond a daily series (0.2 s for 200 of 10,000 series of 1,941 days; the
#: total of all of them, 16 million rows, took 27 s)
MIN_MEMBERS = 250
#: a column of more values names items, not groups worth keeping: its groups are small
MAX_GROUPS = 200
SUMMED = ["ds", "y", "filled", "filled_y", "members"]


def group_scope(column: str, value: object) -> str:
    """How a group is named in the table: ``column=value``, the value as text."""
    return f"{column}={value}"


class PeriodSums:
    """The total's and the large groups' sums of a version's partitions, added as each is
    stored: one row per period and scope, whatever the number of series."""

    def __init__(self, key_columns: Sequence[str]):
        self._sums: dict[str, pd.DataFrame] = {}  # per column ("" the total)
        self._sizes: dict[str, pd.Series] = {}  # series per value
        self._columns = [TOTAL, *key_columns]

    def add(self, frame: pd.DataFrame, filled: pd.Series) -> None:
        """Sum a partition (``unique_id, ds, y`` and its key columns); ``filled`` marks
        the rows the gap rule made up."""
        y = frame["y"].astype(float)
        rows = pd.DataFrame(
            {
                "ds": frame["ds"],
                "y": y,
                "filled": filled.astype(int),
                "filled_y": y.where(filled, 0),
            }
        )
        for column in [c for c in self._columns if c == TOTAL or c in frame]:
            values = (
                pd.Series("", index=frame.index) if column == TOTAL else frame[column].astype(str)
            )
            sizes = frame["unique_id"].groupby(values, observed=True).nunique()
            sizes = sizes.add(self._sizes.get(column, pd.Series(dtype=int)), fill_value=0)
            if len(sizes) > MAX_GROUPS:  # an item column: none of its groups is kept
                self._columns.remove(column)
                self._sums.pop(column, None)
                continue
            self._sizes[column] = sizes
            summed = (
                rows.assign(value=values)
                .groupby(["value", "ds"], observed=True)
                .agg(
                    y=("y", "sum"),
                    filled=("filled", "sum"),
                    filled_y=("filled_y", "sum"),
                    members=("y", "size"),
                )
            )
            before = self._sums.get(column)
            self._sums[column] = summed if before is None else summed.add(before, fill_value=0)

    def rows(self, dataset_id: int) -> pd.DataFrame:
        """``dataset_id, scope, ds, y, filled, members``: the total's, and those of the
        groups of at least ``MIN_MEMBERS`` series."""
        kept = []
        for column, summed in self._sums.items():
            large = self._sizes[column].index[self._sizes[column] >= MIN_MEMBERS]
            if column != TOTAL:
                summed = summed.loc[summed.index.get_level_values("value").isin(large)]
            summed = summed.reset_index()
            scope = (
                summed.pop("value")
                if column == TOTAL
                else summed.pop("value").map(lambda v, c=column: group_scope(c, v))
            )
            kept.append(summed.assign(scope=scope))
        if not kept:
            return pd.DataFrame(columns=["dataset_id", "scope", *SUMMED])
        joined = pd.concat(kept, ignore_index=True)
        joined = joined.astype({"filled": int, "members": int}).sort_values(["scope", "ds"])
        return joined.assign(dataset_id=dataset_id)[["dataset_id", "scope", *SUMMED]]


def stored_sums(db: Database, dataset_id: int, scope: str) -> pd.DataFrame | None:
    """``ds, y, filled, filled_y, members`` of a scope as written with the version; None
    where none were written (a version stored before them)."""
    query = (
        select(PeriodSum.ds, PeriodSum.y, PeriodSum.filled, PeriodSum.filled_y, PeriodSum.members)
        .where(PeriodSum.dataset_id == dataset_id, PeriodSum.scope == scope)
        .order_by(PeriodSum.ds)
    )
    with db.session() as s:
        frame = pd.read_sql(query, s.connection())
    if frame.empty:
        return None
    return frame.assign(ds=pd.to_datetime(frame["ds"]))


def summed_in_database(db: Database, dataset_id: int, ids: Sequence[str] | None) -> pd.DataFrame:
    """``ds, y, filled, filled_y, members`` over the series ``ids`` (all where None),
    summed by the database ``IDS_PER_QUERY`` ids at a time."""
    filled = func.sum(case((Observation.is_filled, 1), else_=0))
    filled_y = func.sum(case((Observation.is_filled, Observation.y), else_=0.0))
    base = select(
        Observation.ds,
        func.sum(Observation.y).label("y"),
        filled.label("filled"),
        filled_y.label("filled_y"),
        func.count().label("members"),
    ).where(Observation.dataset_id == dataset_id)
    queries = (
        [base]
        if ids is None
        else [base.where(Observation.unique_id.in_(chunk)) for chunk in _chunks(ids)]
    )
    with db.session() as s:
        parts = [pd.read_sql(q.group_by(Observation.ds), s.connection()) for q in queries]
    joined = pd.concat(parts, ignore_index=True).astype({"y": float, "filled_y": float})
    joined["ds"] = pd.to_datetime(joined["ds"])
    return joined.groupby("ds", sort=True)[SUMMED[1:]].sum().reset_index()


def rows_on(
    db: Database, dataset_id: int, days: Iterable[datetime], ids: Sequence[str]
) -> pd.Series:
    """How many of the series ``ids`` have a row on each of ``days`` (by ``ds``)."""
    days = list(days)
    counts = []
    if days and len(ids):
        with db.session() as s:
            for chunk in _chunks(ids):
                query = (
                    select(Observation.ds, func.count().label("n"))
                    .where(
                        Observation.dataset_id == dataset_id,
                        Observation.ds.in_(days),
                        Observation.unique_id.in_(chunk),
                    )
                    .group_by(Observation.ds)
                )
                counts.append(pd.read_sql(query, s.connection()))
    if not counts:
        return pd.Series(dtype=int)
    joined = pd.concat(counts, ignore_index=True)
    joined["ds"] = pd.to_datetime(joined["ds"])
    return joined.groupby("ds")["n"].sum()


def _chunks(ids: Sequence[str]) -> Iterable[list[str]]:
    ids = list(ids)
    for start in range(0, len(ids), IDS_PER_QUERY):
        yield ids[start : start + IDS_PER_QUERY]
