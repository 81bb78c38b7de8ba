"""What a model needs to know about a data set besides its rows."""

from __future__ import annotations

from dataclasses import dataclass, field

from forecasting.frequency import Frequency


@dataclass(frozen=True)
class DataSpec:
    """Frequency, known-in-advance drivers, holiday country and series attribute columns."""

    freq: Frequency
    exog: tuple[str, ...] = ()
    country: str | None = "US"
    attributes: tuple[str, ...] = field(default=())

    @property
    def season_length(self) -> int:
        return self.freq.season_length
