"""From a CSV to a clean, validated long frame plus the report the UI and CLI show."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from forecasting.data.cleaning import CleanData, clean
from forecasting.data.driver_kinds import outcome_of_sales, why_not_a_driver
from forecasting.data.frequency import (
    Frequency,
    check_horizon,
    default_horizon,
    infer_frequency,
    period_unit,
)
from forecasting.data.ladder import NEW_PERIODS, QUIET_STOP, profile_series, quiet_stops
from forecasting.data.limits import Limits
from forecasting.data.loading import LoadedData, load_csv
from forecasting.data.reading_options import ReadingOptions
from forecasting.data.schema import without_rows
from forecasting.data.spec import DataSpec, driver_roles
from forecasting.data.wide import describe_wide
from forecasting.errors import DataError

#: the step ``ladder_steps`` gives a series whose zeros at its end look like a stop
QUIET = "quiet"


@dataclass(frozen=True)
class PanelFacts:
    """What only the whole file knows, given to the cleaning of one partition of it
    (``forecasting.data.catalogue``): its frequency, last date and last sale."""

    freq: Frequency | None = None
    end: pd.Timestamp | None = None
    last_sale: pd.Timestamp | None = None


@dataclass
class Dataset:
    """A cleaned data set, its spec and what was read from the file besides sales.

    ``spec.exog`` are the candidate drivers: the columns named with ``exog``, or
    without a name every numeric column with a value on every row (``drivers_named``
    says which; training keeps a candidate only when validation says it helps).
    ``plan`` holds the drivers' planned values from rows past the last sale in the
    file (blank target), the future the forecast is made for. ``loaded`` keeps what
    the loader detected, without its rows.
    """

    loaded: LoadedData
    cleaned: CleanData
    spec: DataSpec
    drivers_named: bool = False
    plan: pd.DataFrame | None = None
    #: candidate columns left out, and why (blank cells)
    drivers_left_out: dict[str, str] = field(default_factory=dict)
    #: numeric columns that look like an outcome of the sales, and why (never tried;
    #: named anyway, they are used and the run says so)
    outcomes: dict[str, str] = field(default_factory=dict)

    @property
    def frame(self) -> pd.DataFrame:
        return self.cleaned.frame

    def summary(self) -> dict:
        report = self.cleaned.report
        return {"series": report.series, "rows": report.rows_out, "freq": report.freq}

    def validation_report(self) -> dict:
        """What was detected, cleaned and dropped, and why; shown before anything is stored."""
        return {
            "detected": {
                **self.loaded.describe(),
                "prices": list(self.spec.prices),
                "promotions": list(self.spec.promotions),
                # an append reads its drivers as this version did: named stay named
                "drivers_named": self.drivers_named,
            },
            "cleaning": self.cleaned.report.to_dict(),
            "exog": list(self.spec.exog),
            "drivers_left_out": dict(self.drivers_left_out),
            "outcomes": dict(self.outcomes),
            "country": self.spec.country,
        }

    def notes(self, steps: pd.Series | None = None, ended: pd.Series | None = None) -> list[str]:
        """What was read how, in sentences for the command line, the log and the upload page.

        ``steps`` and ``ended`` (``ladder_steps``, ``ended_early``) where the rows are not
        here: a catalogue's, gathered from its partitions."""
        mapping = self.loaded.mapping
        notes = [
            f"columns: date {mapping.date!r}, target {mapping.target!r}, series ids "
            f"{', '.join(mapping.ids) or 'none (one series)'}, possible drivers "
            f"{', '.join(mapping.drivers) or 'none'}"
            + (f", series attributes {', '.join(mapping.attributes)}" if mapping.attributes else "")
            + "".join(
                f"; the file's {old!r} is read as {new!r} ({old} is the product's own key "
                "of a series)"
                for old, new in mapping.renamed.items()
            ),
            f"dates: {self.loaded.dates.reason}",
        ]
        others = getattr(mapping, "target_candidates", [])
        if others:
            notes.append(
                f"target guessed: no column is named like sales, and {', '.join(others)} could "
                f"be the sales too; {mapping.target!r} has the most distinct values. Name the "
                "one to forecast (--target, or the sales column on the upload page)"
            )
        for column, why in getattr(mapping, "ignored", {}).items():
            notes.append(f"column {column!r} not used: {why}")
        if mapping.wide:
            notes.append(describe_wide(mapping))
        if self.loaded.unreadable:
            notes.append(self.loaded.unreadable)
        notes.append(f"missing periods: {self.cleaned.report.gap_rule}")
        notes.append(self.describe_rows())
        history = self.describe_history(steps)
        if history:
            notes.append(history)
        ended = self.ended_early() if ended is None else ended
        if len(ended):
            notes.append(
                f"{len(ended)} series end before the file's last date "
                f"({self.cleaned.report.end}), e.g. {ended.index[0]} on "
                f"{ended.iloc[0].date()}: a backtest scores each on its own last periods; "
                "what serves forecasts them zero from the file's end (ended)"
            )
        notes.append(self.describe_drivers())
        return notes

    def describe_rows(self) -> str:
        """Why the row count differs from the file's: gaps filled, zeros trimmed, rows merged."""
        r = self.cleaned.report
        filled = getattr(r, "values_filled", r.gaps_filled)
        blank = filled - r.gaps_filled
        changes = [
            (
                filled,
                ("periods" if filled != 1 else "period")
                + " without a value in the file filled"
                + (f" ({blank} of them blank cells)" if blank > 0 else ""),
            ),
            (-r.leading_zeros_trimmed, "zeros before a series' first sale trimmed"),
            (-r.exact_duplicates_dropped, "exact duplicates dropped"),
            (-r.duplicate_periods_summed, "rows of one period summed into one"),
            (-r.missing_records_left_out, "blank targets at a series' edge left out"),
        ]
        said = [f"{abs(n):,} {what}" for n, what in changes if n]
        how = f" ({'; '.join(said)})" if said else ""
        planned = (
            f" (and {len(self.plan):,} rows of plan past the last sale)"
            if (self.plan is not None)
            else ""
        )
        return f"rows: {r.rows_in:,} read{planned}, {r.rows_out:,} after cleaning{how}"

    def ladder_steps(self) -> pd.Series:
        """The ladder's step of each series on its lowest steps (never sold, new), and
        ``quiet`` for a series whose zeros at its end look like a stop (``quiet_stops``)."""
        spec = self.spec
        profile = profile_series(self.frame, default_horizon(spec.freq), spec.season_length)
        steps = profile["ladder_step"].copy()
        steps[quiet_stops(profile).index] = QUIET
        return steps[steps.isin(["zero", "new", QUIET])]

    def describe_history(self, steps: pd.Series | None = None) -> str | None:
        """The series that stand on the ladder's lowest steps, and those that look
        delisted, named before training (a stranger's delisted SKU with planned prices
        was forecast to sell 210-306 a week; the upload said nothing)."""
        steps = self.ladder_steps() if steps is None else steps
        unit = period_unit(self.spec.freq)
        parts = []
        for step, what in (
            ("zero", "never sold: zero forecast"),
            ("new", f"new, under {NEW_PERIODS} {unit} of history: level forecast"),
        ):
            ids = steps.index[steps == step]
            if len(ids):
                parts.append(f"{len(ids)} {what} (e.g. {ids[0]})")
        quiet = steps.index[steps == QUIET]
        if len(quiet):
            one = len(quiet) == 1
            its = "its" if one else "their"
            parts.append(
                f"{len(quiet)} series sold nothing in {its} last {unit}, which {its} history "
                f"makes unlikely ({'' if one else 'e.g. '}{quiet[0]}): {QUIET_STOP} The "
                "forecast may show sales again, above all where a plan of drivers is given "
                "(a stockout's item does sell again); drop the rows after the last sale of "
                "a series that stopped"
            )
        return f"history: {'; '.join(parts)}" if parts else None

    def ended_early(self, end: pd.Timestamp | None = None) -> pd.Series:
        """Last date of each series that stops before the data set's last date (``end``, or
        the last date of these rows)."""
        last = self.frame.groupby("unique_id", sort=True)["ds"].max()
        return last[last < (last.max() if end is None else end)]

    def describe_drivers(self) -> str:
        """Which driver candidates training will try, and the plan the file holds."""
        if not self.spec.exog:
            text = "drivers: none"
        elif self.drivers_named:
            text = f"drivers: {', '.join(self.spec.exog)} (named, all used)"
        else:
            text = (
                f"drivers: {', '.join(self.spec.exog)} tried, each kept only where validation "
                "says it helps"
            )
        for name, why in self.drivers_left_out.items():
            text += f"; {name} not tried ({why})"
        for name in self.spec.exog if self.drivers_named else ():
            if name in self.outcomes:
                text += (
                    f"; {name} is used as you named it, but it looks like an outcome "
                    f"({self.outcomes[name]}): a model that reads it forecasts the sales "
                    "from their own revenue"
                )
        if self.plan is not None:
            text += (
                f"; planned values for {self.plan['ds'].nunique()} periods past the last sale "
                f"({self.plan['ds'].min().date()} to {self.plan['ds'].max().date()})"
            )
            lengths = self.plan.groupby("unique_id", sort=False)["ds"].nunique()
            shorter = lengths[lengths < lengths.max()]
            if len(shorter):
                text += (
                    f", for {len(lengths) - len(shorter)} of {len(lengths)} series; "
                    f"{len(shorter)} {'ends' if len(shorter) == 1 else 'end'} sooner (the "
                    f"shortest after {shorter.min()} periods)"
                )
        return text

    def id_lookup(self) -> pd.DataFrame:
        """``unique_id`` to the input's own id columns, for output files."""
        ids = self.loaded.mapping.ids
        if not ids:
            return self.frame[["unique_id"]].drop_duplicates()
        return self.frame[["unique_id", *ids]].drop_duplicates("unique_id")


def prepare(
    source: str | Path | bytes,
    reading: ReadingOptions | None = None,
    *,
    horizon: int | None,
    limits: Limits | None = None,
) -> Dataset:
    """Load, clean and validate. Every series is kept, however short (the ladder forecasts it).

    ``horizon`` is only checked here; ``None`` means the usual one for the frequency.
    A reading without a calendar (``country`` None) builds none.
    """
    if horizon is not None:
        check_horizon(horizon)
    reading = reading or ReadingOptions()
    loaded = load_csv(
        source,
        date=reading.date,
        target=reading.target,
        ids=None if reading.ids is None else list(reading.ids),
        limits=limits,
    )
    return from_loaded(loaded, reading, limits=limits)


def from_loaded(
    loaded: LoadedData,
    reading: ReadingOptions | None = None,
    *,
    limits: Limits | None = None,
    named: bool | None = None,
    known_ahead: bool | None = None,
    panel: PanelFacts | None = None,
) -> Dataset:
    """Clean and validate a loaded frame (a file's, or history with new actuals added).

    Of ``reading``, the drivers, their roles, the calendar and the gap rule apply here
    (the columns were named when the file was loaded). ``named``: whether the drivers
    were named by the user (a blank in one is then an error); by default, whether
    ``exog`` was given. ``known_ahead``: whether the drivers
    given are known in advance (by default, whether ``exog`` was given). A candidate
    driver not declared so is one only where the file gives its values past the last
    sale (a plan): a column with no future values is an outcome or a plan not given,
    and a model validated with its true future values would promise what no planner
    can have (issue 28: a cost column, the same counts priced, was kept).

    ``panel``: what the whole file says, where ``loaded`` holds a partition of it."""
    reading = reading or ReadingOptions()
    prices, promotions = reading.prices, reading.promotions
    named = bool(reading.exog) if named is None else named
    known_ahead = bool(reading.exog) if known_ahead is None else known_ahead
    exog = list(reading.exog or loaded.mapping.drivers)
    unknown = [c for c in exog if c not in loaded.mapping.drivers]
    if unknown:
        raise DataError(
            f"Driver column(s) {', '.join(unknown)} are not numeric columns of the file. "
            f"Numeric columns available as drivers: {', '.join(loaded.mapping.drivers) or 'none'}."
        )
    declared = [c for c in [*prices, *promotions] if c not in exog]
    if declared:
        raise DataError(
            f"{', '.join(declared)} declared a price or a promotion but not a driver of the "
            f"file; its drivers: {', '.join(exog) or 'none'}."
        )
    price_cols, promo_cols = driver_roles(exog, prices, promotions)
    keep = ["unique_id", "ds", "y", *loaded.mapping.ids, *loaded.mapping.attributes, *exog]
    panel = panel or PanelFacts()
    # a frame of its own (``reindex``), not a slice pandas warns about filling below
    frame, plan = split_plan(loaded.frame.reindex(columns=keep), exog, panel.last_sale)
    for col in loaded.mapping.attributes:  # a description left blank on a row: its series'
        frame[col] = frame.groupby("unique_id", sort=False)[col].transform("first")
    freq = panel.freq or infer_frequency(frame)
    fill_driver_holes(frame, price_cols, promo_cols)
    outcomes = {col: why for col in exog if (why := outcome_of_sales(frame, col)) is not None}
    # an outcome explains the sales away: the outliers are judged without it (a revenue
    # column flagged 69 points at upload where the stored data, without it, flagged 31)
    cleaned = clean(
        frame, freq=freq, gap_policy=reading.gap_policy, limits=limits,
        drivers=[c for c in exog if c not in outcomes], end=panel.end,
        country=reading.calendar, groups=loaded.mapping.ids,
    )  # fmt: skip
    fill_driver_holes(cleaned.frame, price_cols, promo_cols)
    left_out = {}
    if not known_ahead:
        for col in exog:
            if plan is None or not plan[col].notna().any():
                left_out[col] = (
                    "no values past the last sale, so not known ahead: name it as a driver "
                    "(--exog, or tick it on the upload page) if its future values will be"
                )
    for col in exog:
        if col in left_out:
            continue
        holes = cleaned.frame[col].isna()
        if holes.any():
            uid = cleaned.frame.loc[holes, "unique_id"].iloc[0]
            if named:
                raise DataError(
                    f"Driver {col!r} has no values for series {uid!r} ({int(holes.sum())} "
                    "rows). Fill it in or leave it out of --exog."
                )
            left_out[col] = f"blank in {int(holes.sum())} rows, e.g. series {uid}"
    if not named:  # what can never be a driver is not tried, and the report says why:
        # before "not known ahead", which a plan could mend (a stranger's Fiscal Week and
        # Gross Margin $ were offered as plain ticks, for the want of future values only)
        for col in exog:
            blank = cleaned.frame[col].isna().all()
            why = None if blank else why_not_a_driver(cleaned.frame, col, freq)
            if why or col in outcomes:
                left_out[col] = why or outcomes[col]
    exog = [c for c in exog if c not in left_out]
    if plan is not None:
        plan = plan[["unique_id", "ds", *exog]].dropna(subset=exog, how="all") if exog else None
        plan = plan if plan is not None and len(plan) else None
    spec = DataSpec(
        freq=freq,
        exog=tuple(exog),
        country=reading.calendar,
        attributes=(*loaded.mapping.ids, *loaded.mapping.attributes),
        prices=tuple(c for c in price_cols if c in exog),
        promotions=tuple(c for c in promo_cols if c in exog),
    )
    # what the loader detected stays; its rows are the cleaned frame's now (kept twice
    # they were a second copy of a catalogue, issue 30)
    read = replace(loaded, frame=without_rows(loaded.frame))
    return Dataset(read, cleaned, spec, named, plan, left_out, outcomes)


def fill_driver_holes(frame: pd.DataFrame, prices, promotions) -> None:
    """Blank prices and promotions in the history, filled by their roles' rules (in
    place): a price is the series' last price before (or the first after), a promotion
    that is not marked did not run."""
    for col in prices:
        by = frame.groupby("unique_id", sort=False)[col]
        frame[col] = by.ffill()
        frame[col] = frame.groupby("unique_id", sort=False)[col].bfill()
    for col in promotions:
        frame[col] = frame[col].fillna(0.0)


def split_plan(
    frame: pd.DataFrame, drivers: list[str], last_sale: pd.Timestamp | None = None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Rows past the file's last sale (``last_sale``, or ``frame``'s) with a blank target
    are the drivers' plan, not history: a planner lists next month's prices and
    promotions under the sales."""
    if not drivers:
        return frame, None
    sold = frame["y"].notna()
    if last_sale is None and not sold.any():
        return frame, None
    last_sale = frame.loc[sold, "ds"].max() if last_sale is None else last_sale
    future = ~sold & (frame["ds"] > last_sale)
    if not future.any():
        return frame, None
    plan = frame.loc[future, ["unique_id", "ds", *drivers]].reset_index(drop=True)
    return frame.loc[~future].reset_index(drop=True), plan
