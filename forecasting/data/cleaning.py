"""Explicit, reported cleaning of a loaded long frame.

Nothing is dropped silently: duplicates, filled gaps, trimmed leading zeros,
negative values (returns, kept) and flagged outliers are all counted in a
``CleaningReport`` the UI and the command line show. How a missing period is
filled (a missing record or a sale of zero) is decided in ``forecasting.data.gaps``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from forecasting.data.calendar import holiday_days
from forecasting.data.frequency import Frequency, infer_frequency
from forecasting.data.gaps import (
    DEFAULT_GAP_POLICY,
    GAP_POLICIES,
    GapFill,
    check_gap_policy,
    describe,
    fill_target,
)
from forecasting.data.limits import Limits
from forecasting.data.schema import validate_long_frame
from forecasting.errors import DataError

__all__ = ["GAP_POLICIES", "CleanData", "CleaningReport", "clean", "period_grid"]


@dataclass
class CleaningReport:
    """What cleaning changed, in numbers an analyst can check."""

    freq: str
    freq_name: str
    season_length: int
    series: int
    rows_in: int
    rows_out: int
    start: str
    end: str
    exact_duplicates_dropped: int = 0
    duplicate_periods_summed: int = 0
    missing_targets_filled: int = 0
    #: periods the file had no row for, added (and filled)
    gaps_filled: int = 0
    #: values the file did not have that cleaning filled: the rows added and the blank
    #: cells inside a series (every count of filled periods said anywhere is this one)
    values_filled: int = 0
    gap_policy: str = DEFAULT_GAP_POLICY
    #: gaps filled as sales of zero, and gaps read as missing records (interpolated)
    gaps_as_zero: int = 0
    gaps_as_missing: int = 0
    #: blank targets at a series' start or end, left out (``auto``)
    missing_records_left_out: int = 0
    #: how the gaps of this data set were read, in one sentence
    gap_rule: str = ""
    #: series whose gaps are lost records; periods missing from every series at once
    series_missing: int = 0
    periods_missing_everywhere: int = 0
    #: series with a gap filled with zero, and those with the most (id: gaps)
    series_zero_filled: int = 0
    zero_filled_examples: dict[str, int] = field(default_factory=dict)
    #: series with gaps read as lost records (interpolated), and those with the most
    series_interpolated: int = 0
    interpolated_examples: dict[str, int] = field(default_factory=dict)
    leading_zeros_trimmed: int = 0
    negative_values: int = 0
    zero_share: float = 0.0
    outliers_flagged: int = 0
    dropped_series: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class CleanData:
    frame: pd.DataFrame
    freq: Frequency
    report: CleaningReport
    outliers: pd.DataFrame
    #: ``unique_id, ds`` of the periods the file had no value for, filled by the gap rule
    filled: pd.DataFrame | None = None


def clean(
    frame: pd.DataFrame,
    *,
    freq: Frequency | None = None,
    gap_policy: str = DEFAULT_GAP_POLICY,
    min_length: int = 1,
    limits: Limits | None = None,
    outlier_threshold: float = 6.0,
    drivers: tuple[str, ...] | list[str] = (),
    end: pd.Timestamp | None = None,
    country: str | None = None,
    groups: tuple[str, ...] | list[str] = (),
) -> CleanData:
    """Deduplicate, regularise, trim and flag; then validate the contract.

    ``end``: the data set's last date, where ``frame`` is a part of it (a partition of a
    catalogue); by default ``frame``'s own last date. ``country``: the holiday calendar,
    whose days every series misses at once are closures. ``groups``: id columns whose
    values (a store) can lose a period's records together."""
    check_gap_policy(gap_policy)
    limits = limits or Limits()
    rows_in = len(frame)
    n_series = frame["unique_id"].nunique()
    if n_series > limits.max_series:
        raise DataError(
            f"The data has {n_series:,} series, over the limit of {limits.max_series:,}. "
            "Upload fewer items or forecast at a higher level (e.g. category instead of item)."
        )
    freq = freq or infer_frequency(frame)
    frame, exact, summed = _deduplicate(frame)
    frame = frame.sort_values(["unique_id", "ds"], kind="stable")
    frame, missing, gaps, fill = _fill_gaps(frame, freq, gap_policy, end, country, groups)
    frame, trimmed = _trim_leading_zeros(frame)
    frame, dropped = _drop_short(frame, min_length)
    filled = frame.loc[frame.pop("_filled").astype(bool), ["unique_id", "ds"]]
    validate_long_frame(frame, min_length=min_length)
    outliers = _recorded_only(
        flag_outliers(frame, freq.season_length, outlier_threshold, drivers), filled
    )
    report = CleaningReport(
        freq=freq.alias,
        freq_name=freq.name,
        season_length=freq.season_length,
        series=frame["unique_id"].nunique(),
        rows_in=rows_in,
        rows_out=len(frame),
        start=str(frame["ds"].min().date()),
        end=str(frame["ds"].max().date()),
        exact_duplicates_dropped=exact,
        duplicate_periods_summed=summed,
        missing_targets_filled=missing,
        gaps_filled=gaps,
        values_filled=len(filled),
        gap_policy=gap_policy,
        gaps_as_zero=fill.as_zero,
        gaps_as_missing=fill.as_missing,
        missing_records_left_out=fill.left_out,
        gap_rule=describe(fill, gap_policy, freq),
        series_missing=fill.series_missing,
        periods_missing_everywhere=fill.periods_missing_everywhere,
        series_zero_filled=fill.zero_series,
        zero_filled_examples=fill.zero_examples,
        series_interpolated=fill.lost_series,
        interpolated_examples=fill.lost_examples,
        leading_zeros_trimmed=trimmed,
        negative_values=int((frame["y"] < 0).sum()),
        zero_share=round(float((frame["y"] == 0).mean()), 4),
        outliers_flagged=len(outliers),
        dropped_series=dropped,
    )
    return CleanData(
        frame.reset_index(drop=True), freq, report, outliers, filled.reset_index(drop=True)
    )


def _deduplicate(frame: pd.DataFrame) -> tuple[pd.DataFrame, int, int]:
    """Drop rows repeated exactly; sum the target of different rows for one period."""
    before = len(frame)
    frame = frame.drop_duplicates()
    exact = before - len(frame)
    keys = ["unique_id", "ds"]
    dup = frame.duplicated(keys, keep=False)
    summed = 0
    if dup.any():
        summed = int(dup.sum() - frame.loc[dup, keys].drop_duplicates().shape[0])
        extra = [c for c in frame.columns if c not in (*keys, "y")]
        numeric = [c for c in extra if pd.api.types.is_numeric_dtype(frame[c])]
        agg = {"y": lambda s: s.sum(min_count=1)} | {c: "mean" for c in numeric}
        agg |= {c: "first" for c in extra if c not in numeric}
        frame = frame.groupby(keys, as_index=False, sort=False).agg(agg)
    return frame, exact, summed


def _fill_gaps(
    frame: pd.DataFrame,
    freq: Frequency,
    policy: str,
    end: pd.Timestamp | None = None,
    country: str | None = None,
    groups: tuple[str, ...] | list[str] = (),
) -> tuple[pd.DataFrame, int, int, GapFill]:
    """Reindex each series to every period from its first date to the data set's last,
    then fill. Periods after a series' own last record are filled only when its file
    leaves out its periods without a sale (a slow mover's export lists only the weeks it
    sold); a series that writes its zeros down, or has no gap at all, ends there."""
    missing = int(frame["y"].isna().sum())
    grid = period_grid(frame, freq, to_end=True, end=end)
    full = grid.merge(frame, on=["unique_id", "ds"], how="left", validate="one_to_one")
    own_last = full["unique_id"].map(frame.groupby("unique_id", sort=False)["ds"].max())
    beyond = (full["ds"] > own_last).to_numpy()
    within = int(np.count_nonzero(~beyond))
    if within < len(frame):
        raise DataError(
            f"Some dates do not fall on the inferred {freq.name} grid ({freq.alias}); "
            "re-date every row to the same weekday (weekly) or day of month (monthly)."
        )
    off_grid = len(frame) - frame.merge(grid, on=["unique_id", "ds"]).shape[0]
    if off_grid:
        raise DataError(
            f"{off_grid} row(s) have dates off the {freq.name} grid ({freq.alias}), e.g. a weekly "
            "series with a date on another weekday. Re-date them to one weekday per week."
        )
    holidays = None
    if country and freq.alias == "D" and len(full):  # a day closed, not a week
        days = holiday_days(country, full["ds"].min(), full["ds"].max())
        holidays = full["ds"].isin(days).to_numpy()
    # an id column that groups series (a store's items); the only id is one series each
    groups = [c for c in groups if c in full and full[c].nunique() < full["unique_id"].nunique()]
    fill = fill_target(full, policy, beyond, freq.season_length, holidays, groups)
    gaps = within - len(frame) + int(np.count_nonzero(fill.keep & beyond))
    if fill.invented() > len(frame):
        raise DataError(_too_many_gaps(full, fill, len(frame), freq))
    full["y"] = fill.y
    full["_filled"] = fill.filled
    full = full.loc[fill.keep]
    others = [c for c in full.columns if c not in ("unique_id", "ds", "y", "_filled")]
    if others:
        grouped = full.groupby("unique_id", sort=False)
        full[others] = grouped[others].ffill()
        full[others] = full.groupby("unique_id", sort=False)[others].bfill()
    return full, missing, gaps, fill


def _too_many_gaps(full: pd.DataFrame, fill: GapFill, rows: int, freq: Frequency) -> str:
    """A fill that would make up more values than the file holds: most likely misread dates."""
    return (
        f"Filling the gaps would make up {fill.invented():,} {freq.name} values for the "
        f"{rows:,} rows the file holds: the dates were read as {freq.name} "
        f"({full['ds'].min().date()} to {full['ds'].max().date()}) with most periods missing. "
        f"If they are months or weeks written dd.mm.yyyy or mm/dd/yyyy, write them as "
        "yyyy-mm-dd; if the file lists only the periods with sales (a missing period sold "
        "nothing), use --gap-policy zero."
    )


def period_grid(
    frame: pd.DataFrame, freq: Frequency, to_end: bool = False, end: pd.Timestamp | None = None
) -> pd.DataFrame:
    """Every (series, period) from each series' first to last date (or, ``to_end``, to the
    data set's last date: ``end``, or ``frame``'s), built without loops."""
    bounds = frame.groupby("unique_id", sort=False)["ds"].agg(["min", "max"])
    last_date = bounds["max"].max() if end is None else max(end, bounds["max"].max())
    calendar = pd.date_range(bounds["min"].min(), last_date, freq=freq.alias)
    first = calendar.searchsorted(bounds["min"].to_numpy())
    last = calendar.searchsorted(bounds["max"].to_numpy())
    if to_end:
        last = np.full_like(last, len(calendar) - 1)
    lengths = last - first + 1
    starts = np.repeat(first, lengths)
    steps = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return pd.DataFrame(
        {"unique_id": np.repeat(bounds.index.to_numpy(), lengths), "ds": calendar[starts + steps]}
    )


def _trim_leading_zeros(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Drop the periods before a series' first non-zero sale (not yet listed).

    A series that never sold is kept whole: it is forecast as zero (the ladder's
    first step), not silently dropped.
    """
    sold = frame["y"].ne(0)
    started = sold.groupby(frame["unique_id"], sort=False).cummax()
    never = ~sold.groupby(frame["unique_id"], sort=False).transform("any")
    keep = started | never
    return frame.loc[keep], int((~keep).sum())


def _drop_short(frame: pd.DataFrame, min_length: int) -> tuple[pd.DataFrame, dict[str, str]]:
    """Drop series shorter than ``min_length``, unless none would remain (with the default
    of 1 nothing is dropped: the ladder forecasts a series of any length)."""
    sizes = frame.groupby("unique_id", sort=False).size()
    short = sizes[sizes < min_length]
    if short.empty or len(short) == len(sizes):
        return frame, {}
    dropped = {
        uid: f"only {n} periods; at least {min_length} are needed" for uid, n in short.items()
    }
    return frame.loc[~frame["unique_id"].isin(short.index)], dropped


def _recorded_only(outliers: pd.DataFrame, filled: pd.DataFrame) -> pd.DataFrame:
    """Outliers among the values the file gave: a value this cleaning filled in is its
    own estimate, never a point to look into (a stranger found an interpolated week
    flagged)."""
    if outliers.empty or filled.empty:
        return outliers
    made = pd.MultiIndex.from_frame(filled[["unique_id", "ds"]])
    kept = ~pd.MultiIndex.from_frame(outliers[["unique_id", "ds"]]).isin(made)
    return outliers.loc[kept].reset_index(drop=True)


def flag_outliers(
    frame: pd.DataFrame,
    season_length: int,
    threshold: float = 6.0,
    drivers: tuple[str, ...] | list[str] = (),
) -> pd.DataFrame:
    """Points far from what the series' level, season and drivers explain, in robust
    (MAD) units; flagged, never removed.

    The level is a centred rolling median. With two seasons of history the usual gap to
    it at each point of the season is taken out too, and with drivers (price,
    promotion) the part of the gap they explain, by least squares per series: a week
    a promotion lifted is what the promotion does, not an anomaly. Sales and prices
    are compared on a log scale (``log1p`` of a series that never goes below zero, the
    log of a positive price), where a promotion's lift is a factor, as in the constant
    elasticity demand model: on the linear scale a lift that grows with the level left
    a tenth of a synthetic panel's promotion weeks flagged (0.2% on the log scale), and
    2.7% of dunnhumby's promoted weeks (0.9%)."""
    y_given = frame["y"].to_numpy(float)
    frame = _on_log_scale(frame, drivers)
    window = max(5, min(2 * season_length + 1, 29))
    median = (
        frame.groupby("unique_id", sort=False)["y"]
        .rolling(window, center=True, min_periods=3)
        .median()
        .reset_index(level=0, drop=True)
    )
    resid = frame["y"] - median
    drivers = [d for d in drivers if d in frame.columns]
    if season_length > 1 or drivers:
        resid = _explained_away(frame, resid, season_length, drivers)
    by = resid.abs().groupby(frame["unique_id"], sort=False)
    mad = by.transform("median") * 1.4826
    # a series whose pattern explains nearly every point: the mean deviation, not none
    mad = mad.where(mad > 0, by.transform("mean") * 1.2533)
    score = resid.abs() / mad.replace(0, np.nan)
    mask = (score > threshold).to_numpy()
    out = frame.loc[mask, ["unique_id", "ds"]].assign(y=y_given[mask])
    out["score"] = score[mask].round(2)
    return out.reset_index(drop=True)


def _on_log_scale(frame: pd.DataFrame, drivers) -> pd.DataFrame:
    """``unique_id, ds, y`` and the drivers, with ``y`` as ``log1p`` in each series that
    never goes below zero (one with returns stays as it is) and every driver that is
    positive and takes more than two values (a price, not a promotion flag) as its log."""
    y = frame["y"].to_numpy(float)
    keep = ["unique_id", "ds", *[d for d in drivers if d in frame.columns]]
    out = frame[keep].copy()
    never_negative = (frame["y"] >= 0).groupby(frame["unique_id"], sort=False).transform("all")
    out["y"] = np.where(never_negative.to_numpy(), np.log1p(np.clip(y, 0, None)), y)
    for name in keep[2:]:
        x = out[name].to_numpy(float)
        seen = x[np.isfinite(x)]
        if len(seen) and (seen > 0).all() and len(np.unique(seen)) > 2:
            out[name] = np.log(x)
    return out


def _explained_away(
    frame: pd.DataFrame, resid: pd.Series, season_length: int, drivers: list[str]
) -> pd.Series:
    """The gaps to the level less each series' seasonal pattern (two seasons or more) and
    the drivers' least-squares part."""
    out = resid.copy()
    position = frame.groupby("unique_id", sort=False).cumcount() % max(season_length, 1)
    periods = frame.groupby("unique_id", sort=False)["y"].transform("size")
    if season_length > 1:
        seasonal = out.groupby([frame["unique_id"], position], sort=False).transform("median")
        out = out - seasonal.where(periods >= 2 * season_length, 0.0).fillna(0.0)
    if not drivers:
        return out
    X_all = frame[drivers].to_numpy(float)
    for index in frame.groupby("unique_id", sort=False).indices.values():
        r = out.to_numpy()[index]
        X = X_all[index]
        ok = np.isfinite(r) & np.isfinite(X).all(axis=1)
        varying = np.ptp(X[ok], axis=0) > 0 if ok.sum() > len(drivers) + 2 else None
        if varying is None or not varying.any():
            continue
        Z = np.column_stack([np.ones(ok.sum()), X[ok][:, varying]])
        coef, *_ = np.linalg.lstsq(Z, r[ok], rcond=None)
        fit = np.full(len(index), 0.0)
        fit[ok] = Z @ coef
        out.iloc[index] = r - fit
    return out
