"""The rows a run trains on: a stored version's frame, or a catalogue's partitions.

A version of more rows than a partition is never read whole (issue 30): it goes from
the database to a scratch folder a partition of whole series at a time
(``Partitions.written``), and what the run reads of it later (its shape, the records'
total and scales) is read back the same way. A smaller version is one frame, as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forecasting.data.partitions import Partitions
from forecasting.data.spec import DataSpec
from forecasting.evaluation.backtest import fold_scales, split
from forecasting.evaluation.costs import Shape
from forecasting.memory import release_memory
from pipeline.stored import training_frame
from storage.database import Database
from storage.datasets import dataset_parts_with_plan, load_dataset


@dataclass
class TrainingData:
    """One frame, or partitions of whole series (then ``frame`` is None)."""

    frame: pd.DataFrame | None
    parts: Partitions | None
    plan: pd.DataFrame | None

    @classmethod
    def read(cls, db: Database, dataset_id: int, info: dict, rows: int, scratch: Path):
        """Version ``dataset_id`` (its row ``info``): whole up to ``rows`` rows, else a
        partition of at most ``rows`` at a time into ``scratch``."""
        if info["rows"] <= rows:
            stored = load_dataset(db, dataset_id)
            # without the stored frame's outlier and filled marks: 0.7 GB at 16 M rows
            return cls(training_frame(stored.frame), None, stored.plan)
        plans: list[pd.DataFrame] = []

        def frames() -> Iterator[pd.DataFrame]:
            for frame, plan in dataset_parts_with_plan(db, dataset_id, rows):
                if plan is not None:
                    plans.append(plan)
                yield training_frame(frame)
                del frame
                release_memory()

        parts = Partitions.written(frames(), scratch / "partitions")
        return cls(None, parts, pd.concat(plans, ignore_index=True) if plans else None)

    def frames(self, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
        """The frame, or each partition in turn."""
        if self.parts is None:
            yield self.frame if columns is None else self.frame[columns]
            return
        for i in range(len(self.parts)):
            yield self.parts.read(i, columns)

    def series(self) -> int:
        if self.parts is not None:
            return self.parts.series()
        return int(self.frame["unique_id"].nunique())

    def rows(self) -> int:
        return int(self.parts.lengths.sum()) if self.parts is not None else len(self.frame)

    def shape(self, season_length: int) -> Shape:
        """``Shape.of`` the whole panel."""
        if self.parts is None:
            return Shape.of(self.frame, season_length)
        series, rows = self.series(), self.rows()
        positive = rows > 0 and all((f["y"] > 0).all() for f in self.frames(["y"]))
        return Shape(series, rows / series if series else 0.0, rows, season_length, positive)


@dataclass(frozen=True)
class TrainedOn:
    """What a run's records read of the rows it trained on, a partition at a time."""

    #: ``unique_id`` and the attributes
    keys: pd.DataFrame
    #: ``ds, y``: the rows before the held-out window, summed per period
    total: pd.DataFrame
    #: the validation folds' MASE and RMSSE denominators (``fold_scales``)
    scales: pd.DataFrame

    @classmethod
    def of(cls, data: TrainingData, spec: DataSpec, h: int, h_val: int, windows: int) -> TrainedOn:
        keys, totals, scales = [], [], []
        for df in data.frames():
            attributes = [c for c in spec.attributes if c in df.columns]
            keys.append(df[["unique_id", *attributes]].drop_duplicates("unique_id"))
            train = split(df, h, h)[0]
            totals.append(train.groupby("ds", as_index=False)["y"].sum())
            scales.append(fold_scales(train, h_val, windows, spec.season_length))
            del df, train
        total = pd.concat(totals).groupby("ds", as_index=False)["y"].sum()
        return cls(pd.concat(keys, ignore_index=True), total, pd.concat(scales))
