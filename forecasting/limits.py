"""Size limits for uploaded data, configurable by whoever hosts the app."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Upper bounds on what one upload may hold; exceeding one is a ``DataError``."""

    max_bytes: int = 200 * 1024 * 1024
    max_rows: int = 5_000_000
    max_columns: int = 200
    max_series: int = 50_000
