"""One model fitted partition by partition, answering as one fitted model.

A catalogue's run fits its final models a partition of whole series at a time
(``forecasting.partitioned``), so that no process holds every series' fitting at
once. What serves is still one ``ServingModel`` with one fitted model per name: this
is that model, the partitions' fits side by side. Each series is in exactly one
part, so a forecast is each part's forecast of its own series, stacked; nothing is
refitted or pooled. A global tree model fitted this way has learnt across the series
of its own partition only.

A stored model keeps its parts apart (``ByPartition.apart``): each is read only while
it forecasts, so a web worker holds the model's per-series facts, not every fit of a
catalogue (issue 30).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.models.base import Forecaster

#: reads a part stored apart, by its name
PartReader = Callable[[str], Forecaster]


@dataclass(eq=False)
class StoredPart:
    """A part kept in a file of its own: its series, and how to read it. The reader is
    given when the model is loaded (``ByPartition.reading_with``), never stored."""

    name: str
    series: pd.Index
    read: PartReader | None = None

    def __getstate__(self) -> dict:
        return {"name": self.name, "series": self.series, "read": None}

    def load(self) -> Forecaster:
        if self.read is None:
            raise RuntimeError(
                f"The fitted part {self.name!r} is stored apart and no reader was given: "
                "load the model through its run's artifacts."
            )
        return self.read(self.name)


#: what every fit keeps of each series, the same for every model fitted on the same rows
SERIES_FACTS = ("last_ds_", "nonnegative_", "bounds_", "tails_")


def share_series_facts(models: list[Forecaster]) -> None:
    """One copy of each series' facts for every model that holds equal ones: 14 models
    held 14 copies of each series' last two seasons and range. Pickled together, shared
    objects are stored and loaded once."""
    seen: dict[str, list] = {name: [] for name in SERIES_FACTS}
    for model in models:
        for name in SERIES_FACTS:
            value = getattr(model, name)
            same = next((v for v in seen[name] if _equal(v, value)), None)
            if same is None:
                seen[name].append(value)
            else:
                setattr(model, name, same)


def _equal(a, b) -> bool:
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and a.keys() == b.keys()
            and all(np.array_equal(a[k], b[k]) for k in a)
        )
    return type(a) is type(b) and a.equals(b)


def _opened(part: Forecaster | StoredPart) -> Forecaster:
    return part.load() if isinstance(part, StoredPart) else part


def _series(part: Forecaster | StoredPart) -> pd.Index:
    return part.series if isinstance(part, StoredPart) else part.last_ds_.index


class ByPartition(Forecaster):
    """The fits of one model on disjoint partitions of series."""

    def __init__(self, parts: list[Forecaster | StoredPart] | None = None) -> None:
        self.parts = list(parts or [])

    @classmethod
    def of(cls, parts: list[Forecaster]) -> Forecaster:
        """The parts as one model; a single part is that part itself."""
        if not parts:
            raise ValueError("A model fitted by partition needs at least one fitted part.")
        if len(parts) == 1:
            return parts[0]
        names = {type(p).name for p in parts}
        if len(names) > 1:
            raise ValueError(f"The parts are fits of different models: {sorted(names)}.")
        joined = cls(parts)
        first = parts[0]
        joined.name = first.name
        joined.uses_exog = first.uses_exog
        joined.spec_ = first.spec_
        joined.periods_ = max(p.periods_ for p in parts)
        joined.last_ds_ = pd.concat([p.last_ds_ for p in parts])
        if joined.last_ds_.index.has_duplicates:
            raise ValueError("A series is in more than one part; partitions hold whole series.")
        joined.nonnegative_ = pd.concat([p.nonnegative_ for p in parts])
        joined.bounds_ = pd.concat([p.bounds_ for p in parts])
        joined.tails_ = {uid: tail for p in parts for uid, tail in p.tails_.items()}
        joined.fallbacks_ = {uid: why for p in parts for uid, why in p.fallbacks_.items()}
        return joined

    def predict(self, h: int, future: pd.DataFrame | None = None) -> pd.DataFrame:
        """Each part's forecast of its own series (its own guard applied), in the parts'
        order; what each replaced, together."""
        outs = [_opened(part).predict(h, future) for part in self.parts]
        out = pd.concat(outs, ignore_index=True)
        out.attrs = {
            key: {uid: why for o in outs for uid, why in o.attrs.get(key, {}).items()}
            for key in ("diverged", "fallbacks")
        }
        return out

    def for_series(self, series: Collection[str]) -> Forecaster:
        """The parts that hold any of ``series``: a few series of a catalogue are forecast
        by their own partitions' fits, not by every part."""
        keep = set(series)
        held = [p for p in self.parts if _series(p).isin(keep).any()] or self.parts[-1:]
        if len(held) == 1 and not isinstance(held[0], StoredPart):
            return held[0]
        # the joined facts of the parts held, which stay unread until they forecast
        ids = _series(held[0]).append([_series(p) for p in held[1:]])
        narrowed = copy.copy(self)
        narrowed.parts = held
        narrowed.last_ds_ = self.last_ds_.loc[ids]
        narrowed.nonnegative_ = self.nonnegative_.loc[ids]
        narrowed.bounds_ = self.bounds_.loc[ids]
        narrowed.tails_ = {uid: self.tails_[uid] for uid in ids}
        narrowed.fallbacks_ = {uid: why for uid, why in self.fallbacks_.items() if uid in ids}
        return narrowed

    def part_series(self) -> list[pd.Index]:
        """The series of each part, in order (no part is read)."""
        return [_series(p) for p in self.parts]

    def apart(self, prefix: str) -> tuple[ByPartition, dict[str, Forecaster]]:
        """This model with its parts stored apart, and the parts by name (``prefix-i``)
        to store beside it; ``reading_with`` gives it back its parts when loaded."""
        named = {f"{prefix}-{i}": _opened(p) for i, p in enumerate(self.parts)}
        light = copy.copy(self)
        light.parts = [StoredPart(n, _series(p)) for n, p in zip(named, self.parts, strict=True)]
        return light, named

    def reading_with(self, read: PartReader) -> None:
        """Read the parts stored apart with ``read`` (set once, as the model is loaded)."""
        for part in self.parts:
            if isinstance(part, StoredPart):
                part.read = read

    def forward(self, df: pd.DataFrame) -> ByPartition:
        """Each part moved to its own series' rows of ``df`` (a series no part has seen
        goes to the last part, which fits it)."""
        owner = pd.concat([pd.Series(i, index=s) for i, s in enumerate(self.part_series())])
        which = df["unique_id"].map(owner).fillna(len(self.parts) - 1).astype(int)
        moved = [_opened(part).forward(df.loc[which == i]) for i, part in enumerate(self.parts)]
        return ByPartition.of(moved)

    def _fit(self, df: pd.DataFrame) -> None:
        raise NotImplementedError("A model fitted by partition is fitted one partition at a time.")

    def feature_importance(self) -> pd.Series | None:
        """The parts' importances averaged, each weighed by its series."""
        weighed = [(_opened(p).feature_importance(), len(_series(p))) for p in self.parts]
        weighed = [(imp, n) for imp, n in weighed if imp is not None]
        if not weighed:
            return None
        total = sum(n for _, n in weighed)
        table = pd.concat([imp * n for imp, n in weighed], axis=1).fillna(0.0)
        return (table.sum(axis=1) / total).sort_values(ascending=False)
