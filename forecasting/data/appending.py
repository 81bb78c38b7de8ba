"""New actuals added to a stored data set: the history with the new periods, cleaned again.

A planner's week: the file of last week's sales arrives and goes on top of what is
stored. The new file is read with the stored version's columns (same date, target
and id columns), put on top of its history, and the whole is cleaned and validated
as one upload would be, so the new version reads exactly like a file holding all of
it. Where the new file has a period the history already had with another value,
that is a revision: the new value wins, and each one is listed. The stored plan
(drivers past the last sale) stays for the periods that are still ahead; the new
file's own plan rows replace it where they say something.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from forecasting.data.dataset import Dataset, from_loaded
from forecasting.data.frequency import frequency_from_alias, infer_frequency
from forecasting.data.gaps import DEFAULT_GAP_POLICY
from forecasting.data.limits import Limits
from forecasting.data.loading import LoadedData, load_csv
from forecasting.data.reading_options import NO_CALENDAR, ReadingOptions
from forecasting.errors import DataError

#: revisions listed one by one in the report (the count is always whole)
LISTED_REVISIONS = 50


@dataclass
class Previous:
    """What the append needs of the stored version it goes on top of."""

    id: int
    #: the stored history: ``unique_id, ds, y``, id and attribute columns, drivers
    frame: pd.DataFrame
    #: ``unique_id, ds`` and the drivers' planned values past the last sale (or None)
    plan: pd.DataFrame | None
    freq_alias: str
    #: how the version was read: its columns, drivers, calendar and gap rule
    reading: ReadingOptions
    wide: bool
    attributes: list[str]
    #: every column of the file the version was read from (empty for versions stored
    #: before the mapping kept them)
    columns: list[str] = field(default_factory=list)
    #: whether its drivers were named by the user (else tried; False for versions stored
    #: before it was kept)
    drivers_named: bool = False
    #: the stored version's cleaning report (what was filled and trimmed when stored)
    cleaning: dict = field(default_factory=dict)

    @classmethod
    def of(cls, dataset_id: int, info: dict, frame: pd.DataFrame, plan) -> Previous:
        """From a stored version's ``info`` (``storage.datasets.dataset_dict``) and rows."""
        detected = info.get("mapping") or {}
        mapping = detected.get("mapping") or {}
        return cls(
            id=dataset_id,
            frame=frame,
            plan=plan,
            freq_alias=info["freq"],
            reading=ReadingOptions(
                date=mapping.get("date"),
                target=mapping.get("target"),
                ids=mapping.get("ids") or (),
                exog=info.get("exog") or (),
                prices=detected.get("prices") or (),
                promotions=detected.get("promotions") or (),
                country=info.get("country") or NO_CALENDAR,
                gap_policy=(info.get("cleaning") or {}).get("gap_policy", DEFAULT_GAP_POLICY),
            ),
            wide=bool(mapping.get("wide")),
            attributes=list(info.get("attributes") or []),
            columns=list(mapping.get("columns") or []),
            drivers_named=bool(detected.get("drivers_named")),
            cleaning=dict(info.get("cleaning") or {}),
        )


@dataclass
class Appended:
    """The new version and what the append changed."""

    dataset: Dataset
    base_id: int
    #: periods past the stored version's last date that now have actuals
    new_periods: list[str]
    #: rows of the new file that fell on a period the history already had
    overlapping: int
    #: ``unique_id, ds, before, after`` where the new file changed a stored value
    revisions: pd.DataFrame
    new_series: list[str]

    def report(self) -> dict:
        """JSON for the version row, the API's answer and the upload page."""
        listed = self.revisions.head(LISTED_REVISIONS)
        return {
            "appended_to": self.base_id,
            "new_periods": len(self.new_periods),
            "first_new_period": self.new_periods[0] if self.new_periods else None,
            "last_new_period": self.new_periods[-1] if self.new_periods else None,
            "overlapping_rows": self.overlapping,
            "revisions": len(self.revisions),
            "revised": [
                {
                    "unique_id": r.unique_id,
                    "ds": r.ds.date().isoformat(),
                    "before": float(r.before),
                    "after": float(r.after),
                }
                for r in listed.itertuples()
            ],
            "new_series": self.new_series[:LISTED_REVISIONS],
            "new_series_count": len(self.new_series),
        }

    def describe(self) -> str:
        """One sentence for the log and the page."""
        r = self.report()
        text = f"appended to data set version {self.base_id}: "
        if r["new_periods"]:
            text += (
                f"{r['new_periods']} new periods ({r['first_new_period']} to "
                f"{r['last_new_period']})"
            )
        else:
            text += "no new periods"
        text += f"; {r['revisions']} revised values (the new value wins)"
        if r["revisions"]:
            first = r["revised"][0]
            text += (
                f", e.g. {first['unique_id']} on {first['ds']}: {first['before']:g} -> "
                f"{first['after']:g}"
            )
        if r["new_series_count"]:
            text += f"; {r['new_series_count']} new series (e.g. {self.new_series[0]})"
        return text


def append_actuals(
    previous: Previous, raw: bytes, *, limits: Limits | None = None, country: str | None = None
) -> Appended:
    """The stored history with the new file on top, cleaned and validated as one file.

    Raises ``DataError`` saying what is wrong (other columns, another frequency, nothing
    new); nothing is changed by a refused append. ``country``: another holiday
    calendar than the stored version's.
    """
    was = previous.reading
    try:
        loaded = load_csv(
            raw,
            date=was.date,
            target=None if previous.wide else was.target,
            ids=None if previous.wide or not was.ids else list(was.ids),
            limits=limits,
        )
    except DataError as exc:
        named = [c for c in (was.date, was.target, *was.ids) if c]
        raise DataError(
            f"New actuals need the columns of data set version {previous.id} "
            f"({', '.join(named)}): {exc}"
        ) from None
    _same_columns(previous, loaded)
    _same_period(previous, loaded.frame)
    mapping = replace(
        loaded.mapping,
        attributes=[c for c in previous.attributes if c not in loaded.mapping.ids],
        drivers=list(was.exog),
    )
    keep = ["unique_id", "ds", "y", *mapping.ids, *mapping.attributes, *was.exog]
    incoming = loaded.frame[[c for c in keep if c in loaded.frame.columns]]
    history = previous.frame[[c for c in keep if c in previous.frame.columns]]
    sold = incoming["y"].notna()
    new_last = incoming.loc[sold, "ds"].max() if sold.any() else None
    new_actuals = (
        incoming.loc[sold].groupby(["unique_id", "ds"], sort=False)["y"].sum().rename("after")
    )
    before = history.set_index(["unique_id", "ds"])["y"].rename("before")
    both = pd.concat([before, new_actuals], axis=1, join="inner")
    changed = ~np.isclose(both["before"], both["after"], rtol=1e-9, atol=1e-9)
    revisions = both.loc[changed].reset_index().sort_values(["unique_id", "ds"])
    prev_end = history["ds"].max()
    new_periods = sorted(
        d for d in new_actuals.index.get_level_values("ds").unique() if d > prev_end
    )
    known = set(history["unique_id"].unique())
    new_series = sorted(set(new_actuals.index.get_level_values("unique_id")) - known)
    if not new_periods and not len(revisions) and not new_series:
        raise DataError(
            f"The file adds nothing to data set version {previous.id}: it has no period after "
            f"{prev_end.date()} and every value it repeats is already stored. Append a file "
            "with the new periods' sales, or replace the data instead."
        )
    replaced = history.set_index(["unique_id", "ds"]).index.isin(new_actuals.index)
    rows = [history.loc[~replaced], incoming]
    plan = _plan_still_ahead(previous, incoming, new_last)
    if plan is not None:
        rows.append(plan)
    combined = pd.concat(rows, ignore_index=True).sort_values(["unique_id", "ds"])
    attrs = [*mapping.ids, *mapping.attributes]
    for col in attrs:  # plan rows, and a new file without the column, take the series'
        if col not in combined:
            combined[col] = np.nan
        combined[col] = combined.groupby("unique_id", sort=False)[col].transform("first")
    merged = replace(loaded, frame=combined.reset_index(drop=True), mapping=mapping)
    reading = replace(
        was,
        prices=[c for c in was.prices if c in was.exog],
        promotions=[c for c in was.promotions if c in was.exog],
        country=country or was.country,
    )
    data = from_loaded(
        merged,
        reading,
        limits=limits,
        named=previous.drivers_named,  # named drivers stay named, as the user said
        known_ahead=True,  # the stored version's drivers were known ahead when stored
    )
    if data.spec.freq.alias != previous.freq_alias:
        raise DataError(
            f"The history with the new file reads as {data.spec.freq.alias}, but data set "
            f"version {previous.id} is {previous.freq_alias}: the new dates must fall on the "
            "same periods (same weekday for weekly data, same day of the month for monthly)."
        )
    # leading zeros the stored version trimmed that a whole re-export holds again: this
    # reading trimmed and counted them (a stranger's 19 were counted twice)
    starts = incoming["unique_id"].map(history.groupby("unique_id")["ds"].min())
    again = int(((incoming["ds"] < starts) & (incoming["y"] == 0)).sum())
    data = _with_stored_fills(data, previous, new_actuals.index, again)
    overlapping = len(both)
    return Appended(
        data,
        previous.id,
        [d.date().isoformat() for d in new_periods],
        overlapping,
        revisions.reset_index(drop=True),
        new_series,
    )


#: columns the loader makes, not the file's
DERIVED = ("unique_id", "ds", "y")


def _with_stored_fills(
    data: Dataset, previous: Previous, replaced: pd.Index, trimmed_again: int = 0
) -> Dataset:
    """The new version keeps the stored version's record of what cleaning filled and
    trimmed: its filled values are in the history now, so cleaning the whole again finds
    no hole there (a stranger's version 2 said 0 periods filled of the 92 version 1
    filled, and its interpolated days lost their marks). A filled period the new file
    gives a value for is no longer filled. ``trimmed_again``: the stored version's leading
    zeros that the new file holds again, which this reading has counted already."""
    stored = previous.frame
    if "is_filled" not in stored:
        return data
    kept = stored.loc[stored["is_filled"].astype(bool), ["unique_id", "ds", "y"]]
    kept = kept.loc[~kept.set_index(["unique_id", "ds"]).index.isin(replaced)]
    was = previous.cleaning
    if not len(kept) and not was.get("leading_zeros_trimmed"):
        return data
    cleaned = data.cleaned
    marks = [f for f in (cleaned.filled, kept[["unique_id", "ds"]]) if f is not None]
    filled = pd.concat(marks, ignore_index=True).drop_duplicates()
    zeros = int((kept["y"] == 0).sum())
    keys = kept.set_index(["unique_id", "ds"]).index
    outliers = cleaned.outliers  # a filled value is never an outlier (``_recorded_only``)
    outliers = outliers.loc[~outliers.set_index(["unique_id", "ds"]).index.isin(keys)]
    r = cleaned.report
    trimmed = max(int(was.get("leading_zeros_trimmed", 0)) - trimmed_again, 0)
    report = replace(
        r,
        # the rows the files held: the stored history's filled rows were never read
        rows_in=r.rows_in - len(kept) + trimmed,
        values_filled=r.values_filled + len(kept),
        outliers_flagged=len(outliers),
        gaps_filled=r.gaps_filled + len(kept),
        gaps_as_zero=r.gaps_as_zero + zeros,
        gaps_as_missing=r.gaps_as_missing + len(kept) - zeros,
        leading_zeros_trimmed=r.leading_zeros_trimmed + trimmed,
        gap_rule=f"{r.gap_rule} With the stored history: {len(kept):,} "
        f"{'period' if len(kept) == 1 else 'periods'} filled when "
        f"data set version {previous.id} was stored ({len(kept) - zeros:,} lost records "
        f"interpolated, {zeros:,} zeros), kept.",
    )
    cleaned = replace(cleaned, filled=filled, report=report, outliers=outliers)
    return replace(data, cleaned=cleaned)


def _same_columns(previous: Previous, loaded: LoadedData) -> None:
    """The new file must name the series the way the stored version does."""
    mapping, was = loaded.mapping, previous.reading
    if not previous.wide and sorted(mapping.ids) != sorted(was.ids):
        raise DataError(
            f"The file's series id columns are {', '.join(mapping.ids) or 'none'}, but data set "
            f"version {previous.id} has {', '.join(was.ids) or 'none (one series)'}: "
            "new actuals need the same columns as the stored data."
        )
    # the first file's columns, those it used and those it said it would not use (its
    # descriptions, outcomes not known ahead): next month's export is the same export
    stored = {was.date, was.target, *was.ids, *previous.attributes, *was.exog,
              *previous.columns}  # fmt: skip
    given = mapping.columns or list(loaded.frame.columns)
    extra = [c for c in given if c not in stored and c not in DERIVED]
    if not previous.wide and extra:
        raise DataError(
            f"The file has columns data set version {previous.id} does not have: "
            f"{', '.join(extra)}. New actuals need the stored columns and no others (a new "
            "id, attribute or driver changes what the series are): drop them, or replace "
            "the data instead."
        )
    missing = [c for c in was.exog if c not in mapping.drivers]
    if missing:
        raise DataError(
            f"The file has no {', '.join(missing)} column, a driver of data set version "
            f"{previous.id}: add it (the actual values of the new periods), or replace the "
            "data instead."
        )


def _same_period(previous: Previous, incoming: pd.DataFrame) -> None:
    """A file of another period, said as such (the whole history's own check would only
    find dates that fit no period)."""
    try:
        freq = infer_frequency(incoming.loc[incoming["y"].notna()])
    except DataError:
        return  # one date per series: the history with it is checked as a whole
    stored = frequency_from_alias(previous.freq_alias)
    if freq.name != stored.name:
        raise DataError(
            f"The new file is {freq.name} ({freq.alias}), but data set version {previous.id} "
            f"is {stored.name} ({stored.alias}): new actuals must come in the stored periods. "
            f"Aggregate them to {stored.name} periods, or replace the data instead."
        )


def _plan_still_ahead(
    previous: Previous, incoming: pd.DataFrame, new_last: pd.Timestamp | None
) -> pd.DataFrame | None:
    """The stored plan's rows still ahead of the newest actual and not restated by the
    new file (its own plan rows say more)."""
    plan = previous.plan
    if plan is None or not len(plan):
        return None
    if new_last is not None:
        plan = plan.loc[plan["ds"] > new_last]
    said = incoming.set_index(["unique_id", "ds"]).index
    plan = plan.loc[~plan.set_index(["unique_id", "ds"]).index.isin(said)]
    return plan.assign(y=np.nan) if len(plan) else None
