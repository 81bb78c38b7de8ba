"""The read side's typed errors: what was asked and what is known, for the caller to phrase.

The kinds a forecast request can hit are the forecasting library's
(``forecasting.serving.requests``); these add what only the stored product knows.
"""

from __future__ import annotations

from forecasting.errors import DataError
from forecasting.serving.requests import (
    BadRequest,
    RequestError,
    UnknownDriver,
    UnknownModel,
    UnknownSeries,
)
from forecasting.serving.scopes import UnknownGroup

__all__ = [
    "BadRequest",
    "MissingReport",
    "NoDataSet",
    "NoForecast",
    "NothingServes",
    "OtherSales",
    "ReadError",
    "RequestError",
    "UnknownDriver",
    "UnknownGroup",
    "UnknownModel",
    "UnknownSeries",
    "with_hint",
]


def with_hint(exc: DataError, hints: dict[type, str]) -> str:
    """The error's text with the caller's way forward for its kind (the first that fits)."""
    hint = next((h for kind, h in hints.items() if isinstance(exc, kind)), None)
    return f"{str(exc).rstrip('.')} ({hint})." if hint else str(exc)


class ReadError(DataError):
    """Something the read side has not got yet: the caller says how to make it."""


class NothingServes(ReadError):
    """No run has succeeded yet."""


class NoDataSet(ReadError):
    """No data set is stored yet."""


class NoForecast(ReadError):
    """A run without a stored forecast to score: it trained nothing, failed, or was pruned."""


class OtherSales(NoForecast):
    """A run that forecast another column than the newest version reads as the sales."""


class MissingReport(ReadError):
    """A data set version without the report asked for."""
