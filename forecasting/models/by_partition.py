"""One model fitted partition by partition, answering as one fitted model.

A catalogue's run fits its final models a partition of whole series at a time
(``forecasting.partitioned``), so that no process holds every series' fitting at
once. What serves is still one ``ServingModel`` with one fitted model per name: this
is that model, the partitions' fits side by side. Each series is in exactly one
part, so a forecast is each part's forecast of its own series, stacked; nothing is
refitted or pooled. A global tree model fitted this way has learnt across the series
of its own partition only.
"""

from __future__ import annotations

from collections.abc import Collection

import pandas as pd

from forecasting.models.base import Forecaster


class ByPartition(Forecaster):
    """The fits of one model on disjoint partitions of series."""

    def __init__(self, parts: list[Forecaster] | None = None) -> None:
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
        outs = [part.predict(h, future) for part in self.parts]
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
        held = [p for p in self.parts if p.last_ds_.index.isin(keep).any()]
        return ByPartition.of(held or self.parts[-1:])

    def forward(self, df: pd.DataFrame) -> ByPartition:
        """Each part moved to its own series' rows of ``df`` (a series no part has seen
        goes to the last part, which fits it)."""
        owner = pd.concat([pd.Series(i, index=p.last_ds_.index) for i, p in enumerate(self.parts)])
        which = df["unique_id"].map(owner).fillna(len(self.parts) - 1).astype(int)
        moved = [part.forward(df.loc[which == i]) for i, part in enumerate(self.parts)]
        return ByPartition.of(moved)

    def _fit(self, df: pd.DataFrame) -> None:
        raise NotImplementedError("A model fitted by partition is fitted one partition at a time.")

    def feature_importance(self) -> pd.Series | None:
        """The parts' importances averaged, each weighed by its series."""
        weighed = [(part.feature_importance(), len(part.last_ds_)) for part in self.parts]
        weighed = [(imp, n) for imp, n in weighed if imp is not None]
        if not weighed:
            return None
        total = sum(n for _, n in weighed)
        table = pd.concat([imp * n for imp, n in weighed], axis=1).fillna(0.0)
        return (table.sum(axis=1) / total).sort_values(ascending=False)
