"""What a reader asks to see: one series, a group of series sharing a value, or the total.

The JSON API, the pages and the MLflow pyfunc name series and groups the same way
(``column=value``, the case of neither mattering), so they match them here.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import pandas as pd

from forecasting.serving.requests import RequestError, UnknownSeries

TOTAL = "total"


@dataclass(frozen=True)
class Scope:
    """What to read: one series, a group of series sharing an attribute value, or the total."""

    series: str | None = None
    group: str | None = None  # "column=value", e.g. "store=north"

    @property
    def label(self) -> str:
        return self.series or self.group or "all series (total)"


class UnknownGroup(RequestError):
    field = "group"

    def __init__(self, asked: str, columns: list[str], suggestions: list[str] | None = None):
        self.asked, self.columns, self.suggestions = asked, columns, suggestions or []
        if suggestions is None:
            known = ", ".join(columns) or "none: the data set has one id column"
            text = f"Unknown group {asked!r}; use column=value with a column of: {known}."
        else:
            hint = f" did you mean {', '.join(map(repr, suggestions))}?" if suggestions else ""
            text = f"No series has {asked!r};{hint}".rstrip(";")
        super().__init__(text)


def members(scope: Scope, keys: pd.DataFrame) -> list[str]:
    """The series a scope names (all of them for the total)."""
    if scope.series and scope.series != TOTAL:
        if scope.series not in set(keys["unique_id"]):
            known = keys["unique_id"].tolist()
            raise UnknownSeries([scope.series], did_you_mean(scope.series, known))
        return [scope.series]
    if scope.group:
        return group_members(scope.group, keys)
    return keys["unique_id"].tolist()


def group_members(group: str, keys: pd.DataFrame) -> list[str]:
    """The series of ``column=value``; the column's and the value's case do not matter
    (a planner types ``store=berlin`` for the file's ``Store``/``Berlin``)."""
    col = group_column(group, keys)
    value = group.partition("=")[2]
    values = keys[col].astype(str)
    exact = values == value
    chosen = keys.loc[exact if exact.any() else values.str.lower() == value.lower(), "unique_id"]
    if chosen.empty:
        suggestions = did_you_mean(value, sorted(values.unique()))
        raise UnknownGroup(group, _group_columns(keys), suggestions)
    return chosen.tolist()


def group_column(group: str, keys: pd.DataFrame) -> str:
    """The column ``column=value`` names, as the file spells it."""
    asked_col, sep, _ = group.partition("=")
    columns = {c.lower(): c for c in _group_columns(keys)}
    col = columns.get(asked_col.strip().lower())
    if not sep or col is None:
        raise UnknownGroup(group, list(columns.values()))
    return col


def _group_columns(keys: pd.DataFrame) -> list[str]:
    return list(keys.columns.drop(["unique_id", "total"], errors="ignore"))


def did_you_mean(asked: str, known: list[str]) -> list[str]:
    """Up to three ids that contain what was asked, or look like it (``0001`` -> ``part=0001``)."""
    containing = [k for k in known if asked.lower() in k.lower()]
    return containing[:3] or difflib.get_close_matches(asked, known, n=3, cutoff=0.6)
