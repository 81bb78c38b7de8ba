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
    #: largest magnitude of a target or driver value; beyond it (or infinite) is a typo
    max_abs_value: float = 1e15
