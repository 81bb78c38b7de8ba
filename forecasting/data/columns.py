"""Which columns of a sales table are the date, the target, the series key and the drivers.

Detected from names (hints such as ``date``, ``sales``, ``store``) and from the
values (what parses as dates or numbers, what makes rows unique); anything the
user names explicitly wins. A wide table (one column per series) is recognised
here too (``forecasting.data.wide``).
"""

from __future__ import annotations

import pandas as pd

from forecasting.data.dates import parse_dates
from forecasting.data.mapping import (
    DATE_HINTS,
    ID_HINTS,
    TARGET_HINTS,
    ColumnMapping,
    hint_rank,
    target_rank,
)
from forecasting.data.numbers import BOOL_WORDS as _BOOL_WORDS
from forecasting.data.numbers import parse_numbers
from forecasting.data.wide import detect_wide
from forecasting.errors import DataError


def _numeric_share(values: pd.Series, decimal: str) -> float:
    present = values.dropna()
    if present.empty:
        return 0.0
    sample = present.head(2000)
    return float(parse_numbers(sample, decimal).notna().mean())


def _date_share(values: pd.Series) -> float:
    present = values.dropna().head(500)
    if present.empty or present.astype(str).str.fullmatch(r"-?\d+([.,]\d+)?").mean() > 0.5:
        return 0.0
    return float(parse_dates(present).notna().mean())


def detect_columns(
    table: pd.DataFrame,
    *,
    date: str | None = None,
    target: str | None = None,
    ids: list[str] | None = None,
    decimal: str = ".",
) -> ColumnMapping:
    """Find the date, target and id columns; the remaining numeric columns are drivers.

    With neither a target nor ids given, a wide table is read as one series per column.
    """
    columns = list(table.columns)
    for given in [date, target, *(ids or [])]:
        if given is not None and given not in columns:
            raise DataError(
                f"Column {given!r} is not in the file. Its columns are: {', '.join(columns)}."
            )
    date = date or _detect_date(table)
    numeric = {c: _numeric_share(table[c], decimal) for c in columns if c != date}
    if target is None and ids is None:
        wide = detect_wide(table, date, numeric)
        if wide is not None:
            return wide
    guessed = target is None
    target = target or _detect_target(table, date, numeric, exclude=set(ids or []))
    if numeric.get(target, 0.0) == 0.0:
        raise DataError(
            f"The target column {target!r} holds no numbers (first values: "
            f"{table[target].dropna().head(3).tolist()}). Choose the column with the sales "
            "quantity, e.g. --target sales."
        )
    if ids is None:
        ids = _detect_ids(table, date, target, numeric)
    drivers = [c for c in columns if c not in (date, target, *ids) and numeric.get(c, 0.0) >= 0.95]
    attributes = _detect_attributes(table, [date, target, *ids, *drivers], list(ids))
    used = {date, target, *ids, *drivers, *attributes}
    ignored = {
        c: "text that changes within a series (neither an id nor one series' attribute)"
        if numeric.get(c, 0.0) < 0.95
        else "numbers in too few rows to be a driver"
        for c in columns
        if c not in used
    }
    candidates = _unnamed_numeric(table, date, numeric, [*ids]) if guessed else []
    return ColumnMapping(
        date=date, target=target, ids=list(ids), drivers=drivers, attributes=attributes,
        columns=columns, ignored=ignored,
        target_candidates=[c for c in candidates if c != target] if len(candidates) > 1 else [],
    )  # fmt: skip


def _unnamed_numeric(
    table: pd.DataFrame, date: str, numeric: dict[str, float], ids: list[str]
) -> list[str]:
    """The numeric columns that could be the sales when none is named like sales (the
    target was guessed among them): empty when a column is named like sales."""
    named = [c for c in table.columns if c != date and hint_rank(c, TARGET_HINTS) < 2]
    if any(numeric.get(c, 0.0) >= 0.5 for c in named):
        return []
    return [
        c for c in table.columns
        if c != date and c not in ids and numeric.get(c, 0.0) >= 0.95
        and hint_rank(c, ID_HINTS) == 2
    ]  # fmt: skip


def _detect_attributes(table: pd.DataFrame, taken: list[str], ids: list[str]) -> list[str]:
    """Text columns with one value per series, blanks aside (and more than one overall)."""
    if not ids:
        return []
    out = []
    for col in table.columns:
        if col in taken or table[col].nunique() < 2:
            continue
        # a description left blank on some rows is still one value per series
        per_series = table.groupby(ids, sort=False)[col].nunique(dropna=True)
        if (per_series <= 1).all():
            out.append(col)
    return out


def _detect_date(table: pd.DataFrame) -> str:
    """A date-named column that mostly parses, else any column that almost fully parses."""
    ranked = sorted(table.columns, key=lambda c: hint_rank(c, DATE_HINTS))
    shares = {}
    for col in ranked:
        shares[col] = _date_share(table[col])
        if shares[col] >= 0.9 or (hint_rank(col, DATE_HINTS) < 2 and shares[col] >= 0.5):
            return col
    raise DataError(
        "No usable date column was found: no column parses as dates "
        f"(columns: {', '.join(table.columns)}). Add a column of dates such as 2024-01-31, "
        "or name it with --date."
    )


def _detect_target(
    table: pd.DataFrame, date: str, numeric: dict[str, float], exclude: set[str]
) -> str:
    candidates = [c for c in table.columns if c != date and c not in exclude]
    named = [
        c for c in candidates if hint_rank(c, TARGET_HINTS) < 2 and hint_rank(c, ID_HINTS) == 2
    ]
    named.sort(key=target_rank)
    for col in named:
        if numeric.get(col, 0.0) >= 0.5:
            return col
    if named:
        col = named[0]
        if table[col].isna().all():
            raise DataError(f"The target column {col!r} has no values. Fill in the sales figures.")
        raise DataError(
            f"The target column {col!r} is not numeric: "
            f"{table[col].dropna().head(3).tolist()} are not numbers. Fix those values or "
            "name another column with --target."
        )
    floats = [c for c in candidates if numeric.get(c, 0.0) >= 0.95 and hint_rank(c, ID_HINTS) == 2]
    if floats:
        return max(floats, key=lambda c: table[c].nunique())
    raise DataError(
        "No numeric target column was found "
        f"(columns: {', '.join(table.columns)}). Add a column of sales quantities or name it "
        "with --target."
    )


def _detect_ids(
    table: pd.DataFrame, date: str, target: str, numeric: dict[str, float]
) -> list[str]:
    """The fewest id-like columns that make (ids, date) unique, hinted names first."""
    rows = len(table)
    candidates = []
    for col in table.columns:
        if col in (date, target):
            continue
        values = table[col].dropna().astype(str)
        lower = values.str.lower()
        if values.empty or lower.isin(_BOOL_WORDS).all():
            continue
        distinct = values.nunique()
        hinted = hint_rank(col, ID_HINTS) < 2
        is_text = numeric.get(col, 0.0) < 0.95
        integer = not is_text and values.str.fullmatch(r"-?\d+").all()
        if distinct > max(1, rows // 2) or not (
            hinted or (is_text and distinct <= 1000) or integer
        ):
            continue
        if not hinted and integer:
            continue
        candidates.append((0 if hinted else 1, distinct, col))
    candidates.sort()
    dates = table[date]
    chosen: list[str] = []
    duplicated = dates.duplicated().mean()
    for _, _distinct, col in candidates:
        if duplicated <= 0.001:
            break
        trial = table[[*chosen, col]].assign(_d=dates)
        share = trial.duplicated().mean()
        if share < duplicated:
            chosen.append(col)
            duplicated = share
    for col in list(chosen):
        rest = [c for c in chosen if c != col]
        if rest and table[rest].assign(_d=dates).duplicated().mean() <= duplicated:
            chosen.remove(col)
    chosen.sort(key=list(table.columns).index)
    constant_hinted = [
        col
        for rank, distinct, col in candidates
        if rank == 0 and distinct == 1 and col not in chosen
    ]
    return chosen + constant_hinted
