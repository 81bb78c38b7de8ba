"""Wide tables: one column of sales per series under a date column (``date,north,south,east``).

Spreadsheets often hold series side by side. Such a table is recognised by
its shape: every date appears once, and two or more numeric columns are
series rather than drivers. Which numeric columns are series: those named like
a target (``north_sales``, ``south_sales``) when there are two or more of them,
otherwise those not named like a driver (``price``, ``promo``, ``temperature``).
Driver-named columns apply to every series. Naming ``--target`` (or ``--id``)
reads the table as long instead, with one target column.
"""

from __future__ import annotations

import re

import pandas as pd

from forecasting.data.mapping import ID_HINTS, TARGET_HINTS, ColumnMapping, hint_rank

#: the id column and target name a wide table gets: ``unique_id`` is ``series=<column>``
WIDE_ID = "series"
WIDE_TARGET = "sales"
DRIVER_HINTS = (
    "price", "promo", "promotion", "discount", "holiday", "spend", "marketing", "advertising",
    "ads", "temperature", "temp", "weather", "rain", "rainfall", "fuel", "cpi", "unemployment",
    "markdown", "event", "events", "flag", "snap", "is", "open", "closed", "traffic",
    "preis", "prix", "precio", "prezzo", "prijs", "aktion", "rabatt", "remise", "descuento",
    "feiertag", "festivo", "temperatur",
)  # fmt: skip


def is_driver_name(name: str) -> bool:
    """A word of the name is a driver word (``unit_price``, ``is_holiday``, ``MarkDown1``)."""
    parts = [p for p in re.split(r"[^a-z0-9]+|(?<=[a-z])(?=[0-9])", name.lower()) if p]
    return any(
        part in DRIVER_HINTS or any(part.startswith(h) for h in DRIVER_HINTS if len(h) >= 5)
        for part in parts
    )


def _is_target_name(name: str) -> bool:
    return hint_rank(name, TARGET_HINTS) < 2 and hint_rank(name, ID_HINTS) == 2


def detect_wide(table: pd.DataFrame, date: str, numeric: dict[str, float]) -> ColumnMapping | None:
    """The mapping of a wide table, or None when the table is long (or a single series)."""
    if table[date].dropna().duplicated().any():
        return None  # several rows per date: series are told apart by id columns
    numbers = [c for c in table.columns if c != date and numeric.get(c, 0.0) >= 0.95]
    targets = [c for c in numbers if _is_target_name(c)]
    if len(targets) == 1:
        return None  # one named target; the other numbers are its drivers
    series = targets or [c for c in numbers if not is_driver_name(c)]
    if len(series) < 2:
        return None
    drivers = [c for c in numbers if c not in series]
    return ColumnMapping(date=date, target=WIDE_TARGET, ids=[WIDE_ID], drivers=drivers, wide=series)


def describe_wide(mapping: ColumnMapping) -> str:
    """The sentence the validation report gives a wide table."""
    shared = f"; {', '.join(mapping.drivers)} apply to every series" if mapping.drivers else ""
    return (
        f"Read as a wide table: {len(mapping.wide)} series, one per column "
        f"({', '.join(mapping.wide)}){shared}. To forecast one column instead, name it with "
        "--target."
    )
