"""Missing periods: a missing record is not a sale of zero.

A period inside a series' span with no row (or a blank target) is either a
period that sold nothing or a record the export lost. Writing zeros for lost
records teaches every model a collapse that never happened (and the outlier
check then flags the invented zeros). The default policy, ``auto``, tells the
two apart per data set:

- **missing records**, interpolated from the neighbouring periods, along the
  series' season where it has one (``_seasonal_fill``):
  the gaps of a series that never records a zero and whose values sit far
  from zero (its 2nd percentile is more than 3 noise units above zero). A
  noise unit is the square root of its median, as for counts; for a series
  with fewer than ``LONG_RECORD`` recorded periods it is at least the robust
  spread of its period-to-period changes too (a long record without a single
  zero is evidence enough, however much a price or a season moves the
  sales from one period to the next); a run of missing periods in a series
  that never records a zero, when selling nothing that long would happen
  less than once in a hundred spans of its length (a period without a sale
  as likely as the larger of a Poisson zero at the series' 10th percentile
  and the share of its span with no row: ``n * p0 ** k < 1%`` for a run of
  ``k`` periods in a span of ``n``; the share of no rows only in a file that
  lists sales: fewer zeros written than periods without a row), e.g. three
  missing weeks of an item that always sells 3 to 20, never the gaps of a part
  listed only in the 10 weeks of 106 it sold; and any period missing from every
  series that spans it at once, when chance would explain that less than once
  in a hundred (the product of the series' missing shares below 1%), e.g. a
  week the export skipped or a day every store was closed;
- **zero sales**, for every other gap: series that record zeros themselves, or
  sell so little that a period without a sale is ordinary (a file that lists
  only the days with sales).

A missing record at the very start or end of a series (a blank target) cannot
be interpolated and is left out. ``zero``, ``ffill`` and ``interpolate``
apply one rule to every gap, as chosen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting.data.frequency import Frequency, period_unit
from forecasting.data.seasonality import stable_season
from forecasting.errors import DataError

GAP_POLICIES = ("auto", "zero", "ffill", "interpolate")
DEFAULT_GAP_POLICY = "auto"


def check_gap_policy(name: str) -> str:
    """``name`` if it is a gap rule; ``DataError`` naming the rules otherwise."""
    if name not in GAP_POLICIES:
        raise DataError(f"Unknown gap policy {name!r}; use one of {', '.join(GAP_POLICIES)}.")
    return name


#: a zero this many noise units below a series' low values is not a plausible sale
FAR_FROM_ZERO = 3.0
#: recorded periods without a zero after which swings between periods no longer count as noise
LONG_RECORD = 26
#: periods every series misses are records lost when chance explains them less often than this
CHANCE = 0.01


@dataclass
class GapFill:
    """The filled target and what was done, counted for the cleaning report."""

    y: pd.Series
    #: rows to keep (False: a missing record at a series' edge, left out)
    keep: np.ndarray
    #: gaps filled with zero; gaps interpolated (or carried forward) as lost records
    as_zero: int
    as_missing: int
    #: lost records at a series' start or end that nothing could fill, left out (``auto``)
    left_out: int
    series_missing: int
    periods_missing_everywhere: int
    #: rows with no value in the file that now hold one (interpolated, carried or zero)
    filled: np.ndarray | None = None
    #: series with a gap filled with zero, and the ones with the most such gaps (id: count)
    zero_series: int = 0
    zero_examples: dict[str, int] = field(default_factory=dict)
    #: the same for the gaps read as lost records (interpolated or carried forward)
    lost_series: int = 0
    lost_examples: dict[str, int] = field(default_factory=dict)
    #: holidays every series misses at once, read as closed (zero sales): rows, and dates
    closed_rows: int = 0
    closed_days: list[str] = field(default_factory=list)
    #: id columns one of whose values' series all missed a period the others had
    lost_in: list[str] = field(default_factory=list)
    #: the id columns asked whether their values' series missed periods together
    groups: list[str] = field(default_factory=list)

    def invented(self) -> int:
        """Values made up rather than implied: interpolated or carried forward."""
        return self.as_missing


def fill_target(
    full: pd.DataFrame,
    policy: str,
    beyond: np.ndarray | None = None,
    season_length: int = 1,
    holidays: np.ndarray | None = None,
    groups: tuple[str, ...] | list[str] = (),
) -> GapFill:
    """Fill the NaN targets of ``full`` (every period of each series' span, sorted).

    ``beyond`` marks periods after a series' own last record: filled as zero sales when
    the series' file leaves out its periods without a sale (``_omits_zeros``), otherwise
    left out (the series ended) and not counted. ``holidays`` marks the rows on a
    holiday of the data set's calendar: one every series misses at once is a closure,
    zero sales (``forecasting.data.closures`` then forecasts the next one zero).
    ``groups``: id columns of ``full`` whose values' series, missing a period together,
    lost its records (a store's lost week).
    """
    y = full["y"]
    beyond = np.zeros(len(full), bool) if beyond is None else beyond
    hole = y.isna().to_numpy()
    series_rule = np.zeros(len(full), bool)
    period_rule = np.zeros(len(full), bool)
    closed = np.zeros(len(full), bool)
    lost_in: list[str] = []
    if policy == "auto":
        series_rule = _far_from_zero_series(full)
        spanned = full.loc[~beyond]
        log_share = _log_missing_share(spanned)  # once, for the file and each store
        period_rule[~beyond] = _missing_everywhere(spanned, log_share=log_share)
        for col in groups:  # and within each store (region, ...) of the file
            together = _missing_everywhere(spanned, col, log_share)
            if (together & ~period_rule[~beyond]).any():
                lost_in.append(col)
            period_rule[~beyond] |= together
        run_rule = np.zeros(len(full), bool)
        run_rule[~beyond] = _implausible_zero_runs(full.loc[~beyond])
        series_rule |= run_rule
        if holidays is not None:
            closed = hole & holidays & (period_rule | _mostly_missing(full))
            period_rule &= ~closed
        missing = hole & (series_rule | period_rule) & ~closed
    elif policy == "zero":
        missing = np.zeros(len(full), bool)
    else:
        missing = hole
    if policy == "auto":  # past its last record a series sold nothing only if its file
        missing |= beyond & ~_omits_zeros(full, hole & ~beyond & ~missing & ~closed)
    ended = beyond & missing  # lost records after the last one: the series ended there
    filled = y.mask(hole & ~missing, 0.0)
    if policy == "ffill":
        filled = filled.groupby(full["unique_id"], sort=False).ffill()
    else:
        filled = _interpolate_inside(filled, full["unique_id"], season_length)
    edge = filled.isna().to_numpy() & ~ended
    keep = (~edge if policy == "auto" else np.ones(len(full), bool)) & ~ended
    filled = filled.fillna(0.0).astype(float)
    inside = hole & ~beyond
    zero = hole & ~missing
    if policy != "auto":
        zero |= edge
    zeros = full.loc[zero & ~closed, "unique_id"].value_counts()
    lost = full.loc[missing & ~edge & ~ended, "unique_id"].value_counts()
    return GapFill(
        y=filled,
        keep=keep,
        as_zero=int((hole & ~missing).sum() + (edge.sum() if policy != "auto" else 0)),
        as_missing=int(missing.sum() - edge.sum() - ended.sum()),
        left_out=int(edge.sum()) if policy == "auto" else 0,
        series_missing=int(full.loc[inside & series_rule, "unique_id"].nunique()),
        periods_missing_everywhere=int(full.loc[inside & period_rule, "ds"].nunique()),
        closed_rows=int(closed.sum()),
        lost_in=lost_in,
        groups=list(groups),
        closed_days=sorted(str(d.date()) for d in full.loc[closed, "ds"].unique()),
        filled=hole & keep,
        zero_series=len(zeros),
        zero_examples=top_examples(zeros),
        lost_series=len(lost),
        lost_examples=top_examples(lost),
    )


#: series named where gaps were filled with zero
EXAMPLES = 3


def top_examples(counts: pd.Series | dict) -> dict[str, int]:
    """The ``EXAMPLES`` series with the most gaps filled with zero (ties by name)."""
    counts = pd.Series(counts, dtype="int64")
    if counts.empty:
        return {}
    order = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
    return {str(k): int(v) for k, v in order[:EXAMPLES]}


def _where(series: int, examples: dict[str, int]) -> str:
    """' in 12 series (most in A: 5, B: 3, C: 2)', or '' when not counted."""
    if not series:
        return ""
    named = ", ".join(f"{k}: {v}" for k, v in examples.items())
    if series == 1:
        return f" in 1 series ({named})"
    return f" in {series} series (most in {named})"


def _omits_zeros(full: pd.DataFrame, zero_holes: np.ndarray) -> np.ndarray:
    """Rows of series whose file leaves out the periods they sold nothing: holes inside
    their span read as zero sales, and not one zero written down. Only for those do the
    periods after the last record mean zero sales; a series that writes its zeros, or
    has no hole at all, and stops before the file's end has ended (a discontinued line,
    or a panel whose series end on different dates, as the Tourism competition's)."""
    uid = full["unique_id"]
    holes = pd.Series(zero_holes, index=full.index).groupby(uid, sort=False).any()
    writes_zero = full["y"].eq(0).groupby(uid, sort=False).any()
    return uid.map(holes & ~writes_zero).fillna(False).to_numpy(bool)


def _interpolate_inside(y: pd.Series, series: pd.Series, season_length: int = 1) -> pd.Series:
    """Each gap inside a series filled from its neighbours (ends stay NaN): with the
    series' season where it has one (``_seasonal_fill``), else on a straight line."""
    linear = _linear_inside(y, series)
    if season_length < 2:
        return linear
    holes = (y.isna() & linear.notna()).to_numpy()
    if not holes.any():
        return linear
    out = linear.to_numpy(copy=True)
    positions = series.groupby(series.to_numpy(), sort=False).indices
    for uid in pd.unique(series.to_numpy()[holes]):
        rows = positions[uid]
        seasonal = _seasonal_fill(y.to_numpy(float)[rows], season_length)
        if seasonal is not None:
            gap = holes[rows]
            # a series that never sells below zero is not filled below it (a season's
            # low day drawn below a low neighbour gave a store -22 transactions)
            if np.nanmin(y.to_numpy(float)[rows]) >= 0:
                seasonal = np.maximum(seasonal, 0.0)
            out[rows[gap]] = seasonal[gap]
    return pd.Series(out, index=y.index)


def _seasonal_fill(values: np.ndarray, m: int) -> np.ndarray | None:
    """One series (NaN in its gaps) filled with its season: the values divided by (or, with
    a zero or a negative, less) each position's median ratio to the local level, the gaps
    drawn on a straight line there, the season put back. None when two observations of
    every position are not there, or the positions do not differ beyond chance
    (``forecasting.data.seasonality``): three lost months of a series whose summer is ten
    times its winter are not a straight line between May and September."""
    known = np.isfinite(values)
    position = np.arange(len(values)) % m
    if np.bincount(position[known], minlength=m).min() < 2:
        return None
    level = pd.Series(values).rolling(m, center=True, min_periods=max(2, m // 2)).median()
    level = level.bfill().ffill().to_numpy()
    multiplicative = bool(np.nanmin(values) > 0) and bool(np.all(level > 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        detrended = values / level if multiplicative else values - level
    if not stable_season(detrended, m):
        return None
    profile = np.array([np.nanmedian(detrended[known & (position == k)]) for k in range(m)])
    season = profile[position]
    adjusted = values / season if multiplicative else values - season
    inside = np.arange(len(values))
    drawn = np.interp(inside, inside[known], adjusted[known])
    return drawn * season if multiplicative else drawn + season


def _linear_inside(y: pd.Series, series: pd.Series) -> pd.Series:
    """Linear interpolation between each gap's neighbours within a series (ends stay NaN).

    Periods are equally spaced, so position within the frame stands for time;
    written with grouped ffill/bfill so 50,000 series cost no Python loop.
    """
    position = pd.Series(np.arange(len(y), dtype=float), index=y.index)
    known = position.where(y.notna())
    grouped = series.to_numpy()
    before = y.groupby(grouped, sort=False).ffill()
    after = y.groupby(grouped, sort=False).bfill()
    at_before = known.groupby(grouped, sort=False).ffill()
    at_after = known.groupby(grouped, sort=False).bfill()
    share = (position - at_before) / (at_after - at_before)
    return y.fillna(before + (after - before) * share)


def _far_from_zero_series(full: pd.DataFrame) -> np.ndarray:
    """Rows of series that never record a zero and whose values sit far from it."""
    recorded = full.loc[full["y"].notna(), ["unique_id", "y"]]
    by_series = recorded.groupby("unique_id", sort=False)["y"]
    change = by_series.diff().abs()
    spread = change.groupby(recorded["unique_id"], sort=False).median() * 1.4826 / np.sqrt(2)
    counts = np.sqrt(by_series.median().abs())
    noise = np.maximum(spread.fillna(0.0).where(by_series.size() < LONG_RECORD, 0.0), counts)
    low = by_series.quantile(0.02)
    no_zero = recorded["y"].eq(0).groupby(recorded["unique_id"], sort=False).sum() == 0
    far = no_zero & (low > FAR_FROM_ZERO * noise) & (noise > 0)
    return full["unique_id"].map(far).fillna(False).to_numpy(bool)


def _implausible_zero_runs(full: pd.DataFrame) -> np.ndarray:
    """Holes in runs too long to be zero sales of a series that never records a zero.

    A period without a sale is taken to be at least as likely as the larger of a
    Poisson zero at the series' 10th percentile (a low level of the series that
    promotions and seasons do not lift) and the share of its span it has no row
    for: a run of ``k`` zeros somewhere in ``n`` periods then has about
    ``n * p0 ** k`` chances. An item selling 3 to 20 a week that lost three weeks
    is a lost record; a file that lists only the weeks with a sale keeps its
    zeros, however large the few sales it lists (a spare part sold in 10 of 106
    weeks has a period without a sale 90% of the time).

    The share of periods without a row counts only in a file that lists sales
    rather than writing its zeros: one with fewer zeros written than periods
    without a row (dunnhumby's scanner data writes 5 zeros and leaves out every
    week a product did not sell). A file that writes its zeros writes them where
    nothing sold, so a hole there is a lost record unless the series' own level
    makes a zero plausible (a stranger's item selling 7 to 44 a week had its one
    lost week filled with zero: one hole in 130 periods made its own share, and so
    its own chance, 1 in 130).
    """
    uid = full["unique_id"]
    hole = full["y"].isna()
    recorded = full.loc[~hole].groupby("unique_id", sort=False)["y"]
    no_zero = recorded.min() > 0
    low = recorded.quantile(0.10).where(no_zero)
    writes_zeros = int((full["y"] == 0).sum()) > int(hole.sum())
    empty_share = hole.groupby(uid, sort=False).mean() * (0.0 if writes_zeros else 1.0)
    with np.errstate(divide="ignore"):  # a series with no hole and no low value: p0 = 0
        log_p0 = np.log(np.maximum(np.exp(-low), empty_share.reindex(low.index)))
    span = uid.map(uid.value_counts())
    starts = (hole != hole.groupby(uid, sort=False).shift()).cumsum()
    run = hole.groupby([uid, starts], sort=False).transform("size")
    log_chances = np.log(span) + run * uid.map(log_p0)
    return (hole & (log_chances < np.log(CHANCE))).fillna(False).to_numpy(bool)


def _log_missing_share(full: pd.DataFrame) -> pd.Series:
    """Per row, the log of the share of its series' periods that have no value."""
    share = full["y"].isna().groupby(full["unique_id"], sort=False).mean().clip(1e-12, 1.0)
    return full["unique_id"].map(np.log(share))


#: a holiday this share of the series miss at once (a chain whose stores close on New
#: Year's Day, a few open) is a closure for the ones that miss it
MOSTLY_CLOSED = 0.8


def _mostly_missing(full: pd.DataFrame) -> np.ndarray:
    """Rows of periods that at least ``MOSTLY_CLOSED`` of two or more spanning series miss."""
    by_period = full["y"].isna().groupby(full["ds"], sort=False).agg(["mean", "size"])
    mostly = (by_period["mean"] >= MOSTLY_CLOSED) & (by_period["size"] >= 2)
    return full["ds"].map(mostly).fillna(False).to_numpy(bool)


def _missing_everywhere(
    full: pd.DataFrame, by: str | None = None, log_share: pd.Series | None = None
) -> np.ndarray:
    """Rows of periods that every spanning series misses, too often together for chance:
    of the whole file, or with ``by`` (an id column) of each of its values: a store's
    lost week, every item of the store missing it (two strangers' stores' lost weeks were
    read as zero sales, the rule asked of the whole file only)."""
    hole = full["y"].isna()
    if log_share is None:
        log_share = _log_missing_share(full)
    keys = ["ds"] if by is None else [by, "ds"]
    by_period = pd.DataFrame({"hole": hole, "log_share": log_share})
    for key in keys:
        by_period[key] = full[key].to_numpy()
    per_period = by_period.groupby(keys, sort=False, dropna=False).agg(
        all_missing=("hole", "all"), spanning=("hole", "size"), log_chance=("log_share", "sum")
    )
    lost = (
        per_period["all_missing"]
        & (per_period["spanning"] >= 2)
        & (per_period["log_chance"] < np.log(CHANCE))
    )
    index = pd.MultiIndex.from_frame(by_period[keys]) if by else by_period["ds"]
    return lost.reindex(index).fillna(False).to_numpy(bool)


def describe(fill: GapFill, policy: str, freq: Frequency) -> str:
    """One sentence for the cleaning report: which gaps were treated how, and why."""
    unit = period_unit(freq)
    total = fill.as_zero + fill.as_missing + fill.left_out
    if total == 0:
        return f"{policy}: no missing {unit}."
    if policy != "auto":
        how = {"zero": "filled with zero", "ffill": "carried forward"}.get(policy, "interpolated")
        where = (
            _where(fill.zero_series, fill.zero_examples)
            if policy == "zero"
            else _where(fill.lost_series, fill.lost_examples)
        )
        periods = unit if total != 1 else unit[:-1]
        return f"{policy} (chosen): {total} missing {periods} {how}{where}."
    reasons = []
    if fill.series_missing:
        reasons.append(
            f"{fill.series_missing} series never record a zero and sit far from it, "
            "or miss too many periods in a row to have sold nothing"
        )
    if fill.periods_missing_everywhere:
        of_one = "".join(f" or of one {col}" for col in fill.lost_in)
        reasons.append(
            (
                f"{fill.periods_missing_everywhere} {unit[:-1]} is missing"
                if fill.periods_missing_everywhere == 1
                else f"{fill.periods_missing_everywhere} {unit} are missing"
            )
            + f" from every series{' of the file' if of_one else ''}{of_one} at once"
        )
    parts = []
    if fill.as_missing:
        parts.append(
            (
                f"1 missing {unit[:-1]} is a lost record"
                if fill.as_missing == 1
                else f"{fill.as_missing} missing {unit} are lost records"
            )
            + f"{_where(fill.lost_series, fill.lost_examples)}, interpolated along each "
            "series' season where it has one "
            f"({'; '.join(reasons)})"
        )
    if fill.left_out:
        parts.append(f"{fill.left_out} blank targets at a series' start or end left out")
    if fill.closed_days:
        days = fill.closed_days
        parts.append(
            f"{len(days)} {'holiday' if len(days) == 1 else 'holidays'} missing from "
            f"{MOSTLY_CLOSED:.0%} or more of the series"
            + "".join(f", or from every series of one {col}," for col in fill.groups)
            + " at once "
            f"({', '.join(days[:3])}{', ...' if len(days) > 3 else ''}) read as closed: "
            "zero sales"
        )
    if fill.as_zero > fill.closed_rows:
        zero = fill.as_zero - fill.closed_rows
        parts.append(
            f"{zero} filled with zero{_where(fill.zero_series, fill.zero_examples)}: "
            "series that record zeros, "
            "or sell so little that a period without a sale is ordinary"
        )
    return (
        "auto: " + "; ".join(parts) + ". A gap policy (zero, ffill or interpolate: the "
        "upload page's Missing periods, --gap-policy, or gap_policy with an upload) overrides."
    )
