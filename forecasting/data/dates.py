"""Read a date column as the whole column says, not value by value.

``01.02.2021`` is the 1st of February in most of the world and the 2nd of
January in the United States. Read one value at a time, such a file can turn
36 months into scattered days. So the order is decided once for the column:
a number above 12 in the first place makes it the day (day-first), in the
second place the month (month-first). When every value is ambiguous, each
reading is tried and the one that gives a regular frequency with the fewest
gaps wins (a tie goes to day-first, the order of most of the world). The
reading and its reason are kept for the validation report.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.errors import DataError

#: day and month as one or two digits, then a two- or four-digit year; a time part is ignored
_NUMERIC_DATE = r"^(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})(?:[ T].*)?$"
_YEAR_FIRST = r"^\d{4}([./-])\d{1,2}\1\d{1,2}(?:[ T].*)?$"

DAY_FIRST = "day-first"
MONTH_FIRST = "month-first"


@dataclass(frozen=True)
class DateReading:
    """How a date column was read and why, in words for the validation report."""

    order: str
    reason: str

    def to_dict(self) -> dict:
        return {"order": self.order, "reason": self.reason}


def parse_dates(values: pd.Series) -> pd.Series:
    """Parse dates value by value, trying ISO first, then pandas' own guess, then day-first.

    Used to *detect* the date column; ``read_dates`` reads the chosen column.
    """
    text = values.astype("string").str.strip()
    best = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    for fmt in ("ISO8601", None, "dayfirst"):
        try:
            if fmt == "dayfirst":
                parsed = pd.to_datetime(text, errors="coerce", dayfirst=True, format="mixed")
            elif fmt is None:
                parsed = pd.to_datetime(text, errors="coerce", format="mixed")
            else:
                parsed = pd.to_datetime(text, errors="coerce", format=fmt)
        except (ValueError, TypeError):
            continue
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_localize(None)
        parsed = parsed.astype("datetime64[ns]")
        if parsed.notna().sum() > best.notna().sum():
            best = parsed
        if best.notna().all():
            break
    return best.dt.normalize()


def read_dates(
    values: pd.Series, keys: pd.Series | None = None, column: str = "date"
) -> tuple[pd.Series, DateReading]:
    """Dates of a whole column with one day/month order; ``keys`` are the series of each row.

    Values in another form (``2024-01-31``, ``Jan 2024``) are parsed as they are;
    the order of the ``dd.mm.yyyy``-shaped ones is decided once, from all of them.
    Raises ``DataError`` when the column mixes the two orders.
    """
    text = values.astype("string").str.strip()
    distinct = pd.Series(text.dropna().unique(), dtype="string")
    if distinct.empty:
        return parse_dates(values), DateReading("as written", "the column is empty")
    if distinct.str.fullmatch(_YEAR_FIRST).all():
        parsed = _map(text, distinct, parse_dates(distinct))
        return parsed, DateReading("year-first", "dates are written year first (yyyy-mm-dd)")
    parts = distinct.str.extract(_NUMERIC_DATE)
    numeric = parts[0].notna()
    if not numeric.any():
        return parse_dates(values), DateReading("as written", "dates carry their own format")
    parts = parts.loc[numeric]
    first, second = parts[0].astype(int), parts[2].astype(int)
    day_first_ok = bool((second <= 12).all() and (first <= 31).all())
    month_first_ok = bool((first <= 12).all() and (second <= 31).all())
    pattern = _pattern(parts)
    if not (day_first_ok or month_first_ok):
        impossible = (first > 31) | (second > 31) | ((first > 12) & (second > 12))
        if impossible.any():  # a typo, not a second order: no reading makes it a date
            value = distinct[numeric][impossible].iloc[0]
            raise DataError(
                f"Column {column!r}: {value!r} (data row {_first_row(text, value)}) is not a "
                "date whichever of its first two numbers is the day (a day is 1-31, a month "
                "1-12). Correct that value and upload the file again."
            )
        raise DataError(_mixed_orders(column, text, distinct[numeric], first, second))

    def reading(order: str) -> pd.Series:
        parsed = pd.Series(pd.NaT, index=distinct.index, dtype="datetime64[ns]")
        parsed[numeric] = _build(parts, order)
        if (~numeric).any():
            parsed[~numeric] = parse_dates(distinct[~numeric])
        return _map(text, distinct, parsed)

    if day_first_ok != month_first_ok:
        order = DAY_FIRST if day_first_ok else MONTH_FIRST
        place, values_above = (first, "first") if day_first_ok else (second, "second")
        example = distinct[numeric][place > 12].iloc[0]
        reason = (
            f"read {order} ({pattern[order]}): a value above 12 in the {values_above} place "
            f"(e.g. {example!r}) can only be the day"
        )
        return reading(order), DateReading(order, reason)
    candidates = {order: reading(order) for order in (DAY_FIRST, MONTH_FIRST)}
    scores = {order: _gaps(ds, keys) for order, ds in candidates.items()}
    best = min(scores, key=lambda o: scores[o][0])  # day-first comes first: it wins ties
    other = MONTH_FIRST if best == DAY_FIRST else DAY_FIRST
    reason = (
        f"read {best} ({pattern[best]}): every value could be either, and {best} gives "
        f"{_describe(scores[best])}, {other} {_describe(scores[other])}"
    )
    return candidates[best], DateReading(best, reason)


def _gaps(ds: pd.Series, keys: pd.Series | None) -> tuple[float, str]:
    """(missing periods inside the series' spans, frequency name); inf when irregular."""
    from forecasting.data.cleaning import period_grid
    from forecasting.data.frequency import infer_frequency

    ids = keys.to_numpy() if keys is not None else "total"
    frame = pd.DataFrame({"unique_id": ids, "ds": ds.to_numpy()}).dropna()
    frame = frame.drop_duplicates(["unique_id", "ds"])
    try:
        freq = infer_frequency(frame)
        return float(len(period_grid(frame, freq)) - len(frame)), freq.name
    except DataError:
        return float("inf"), "irregular"


def _describe(score: tuple[float, str]) -> str:
    gaps, name = score
    if not np.isfinite(gaps):
        return "dates of no regular frequency"
    if gaps == 0:
        return f"{name} dates with no missing periods"
    return f"{name} dates with {int(gaps):,} missing periods"


def _pattern(parts: pd.DataFrame) -> dict[str, str]:
    sep = parts[1].iloc[0]
    year = "yyyy" if parts[3].str.len().iloc[0] == 4 else "yy"
    return {DAY_FIRST: f"dd{sep}mm{sep}{year}", MONTH_FIRST: f"mm{sep}dd{sep}{year}"}


def _build(parts: pd.DataFrame, order: str) -> pd.Series:
    first, second = parts[0].astype(int), parts[2].astype(int)
    year = parts[3].astype(int)
    year = year.where(parts[3].str.len() == 4, np.where(year < 69, 2000 + year, 1900 + year))
    day, month = (first, second) if order == DAY_FIRST else (second, first)
    return pd.to_datetime(
        pd.DataFrame({"year": year, "month": month, "day": day}), errors="coerce"
    ).astype("datetime64[ns]")


def _map(text: pd.Series, distinct: pd.Series, parsed: pd.Series) -> pd.Series:
    """Spread the parsed distinct values back over every row."""
    lookup = pd.Series(parsed.to_numpy(), index=distinct.to_numpy())
    out = text.map(lookup)
    return pd.to_datetime(out).astype("datetime64[ns]").dt.normalize()


def _first_row(text: pd.Series, value: str) -> int:
    """The 1-based data row where ``value`` first appears (rows are ``text``'s labels: a
    whole column's positions, or the file rows of a chunk or of a column's distinct values)."""
    return int(text.index[np.flatnonzero((text == value).fillna(False).to_numpy())[0]]) + 1


def _mixed_orders(
    column: str, text: pd.Series, distinct: pd.Series, first: pd.Series, second: pd.Series
) -> str:
    day_first = distinct[first > 12].iloc[0]
    month_first = distinct[second > 12].iloc[0]
    rows = {v: _first_row(text, v) for v in (day_first, month_first)}
    return (
        f"Column {column!r} mixes day-first and month-first dates: {day_first!r} (data row "
        f"{rows[day_first]}) has the day first, {month_first!r} (data row {rows[month_first]}) "
        "the month first. Write every date the same way, best as yyyy-mm-dd."
    )
