"""How a file is read and cleaned, stated once.

The command line, the API's upload form, the Retraining page, stored runs and an
append all read a file with the same eight choices; this value is the one place
they are named, checked and turned into JSON. Stored run options keep them flat
(``date``, ``target``, ... beside ``horizon``), so ``to_dict`` and ``from_dict``
read and write that shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields, replace

from forecasting.data.calendar import check_country
from forecasting.data.gaps import DEFAULT_GAP_POLICY, check_gap_policy

#: the ``country`` that asks for no holiday calendar at all
NO_CALENDAR = "none"


def _names(values: Iterable[str] | str | None) -> tuple[str, ...]:
    """Column names from a list, or from one comma-separated text (a form field)."""
    if values is None:
        return ()
    if isinstance(values, str):
        values = values.split(",")
    return tuple(v.strip() for v in values if v and v.strip())


@dataclass(frozen=True)
class ReadingOptions:
    """The columns named (else detected), the drivers and their roles, the holiday
    calendar and the rule for missing periods."""

    #: the date and sales columns; None: detected from the header and the values
    date: str | None = None
    target: str | None = None
    #: the series' id columns; None: detected, (): one series
    ids: tuple[str, ...] | None = None
    #: drivers named (known ahead); (): every numeric column with a plan is a candidate
    exog: tuple[str, ...] = ()
    #: drivers declared a price or a promotion (the rest get their role by name)
    prices: tuple[str, ...] = ()
    promotions: tuple[str, ...] = ()
    #: a holiday calendar (``US``, ``DE``...); None: the reader's default; ``none``: none
    country: str | None = None
    gap_policy: str = DEFAULT_GAP_POLICY

    def __post_init__(self) -> None:
        if self.ids is not None:
            object.__setattr__(self, "ids", _names(self.ids))
        for name in ("exog", "prices", "promotions"):
            object.__setattr__(self, name, _names(getattr(self, name)))
        check_gap_policy(self.gap_policy)
        if self.country is not None and self.country.lower() != NO_CALENDAR:
            object.__setattr__(self, "country", check_country(self.country))

    @property
    def calendar(self) -> str | None:
        """The holiday calendar to build, or None for none."""
        if self.country is None or self.country.lower() == NO_CALENDAR:
            return None
        return self.country

    def with_default_calendar(self, default: str | None) -> ReadingOptions:
        """The same reading, the deployment's calendar where none was asked for."""
        return self if self.country else replace(self, country=default or NO_CALENDAR)

    def to_dict(self) -> dict:
        """JSON-ready, lists for the column names."""
        data = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}

    @classmethod
    def from_dict(cls, data: Mapping) -> ReadingOptions:
        """From stored or posted options: other keys are ignored, blanks are not given.

        A list field may be one comma-separated text, as a form sends it."""
        return cls(**{k: v for k, v in data.items() if k in _FIELDS and v not in (None, "")})

    @classmethod
    def split(cls, data: Mapping) -> tuple[ReadingOptions, dict]:
        """Flat options: the reading, and every other key as it was."""
        return cls.from_dict(data), {k: v for k, v in data.items() if k not in _FIELDS}


#: the choices' names, as stored runs and forms spell them
_FIELDS = frozenset(f.name for f in fields(ReadingOptions))
