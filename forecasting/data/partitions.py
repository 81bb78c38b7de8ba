"""A panel cut into partitions of whole series, each a parquet file in a folder.

What lets a catalogue of tens of thousands of series be trained in bounded memory
(``forecasting.partitioned``): only one partition's rows are read at a time. A series
is never split between partitions (mlforecast #627 is what a split series does to lag
features), and the series keep the order they had in the panel.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

#: rows a partition holds at most (a series longer than this is a partition of its own):
#: a backtest of an M5-shaped daily catalogue in partitions this size peaked at 3.2 GB at
#: 3,000 series and 4.4 GB at 10,000 (``bench/catalogue.py``); no panel in
#: ``bench/panels.py`` comes near
PARTITION_ROWS = 2_000_000


#: a partition of fewer series than this decides the screening on a small sample
FEW_SERIES = 100


@dataclass(frozen=True)
class Partitions:
    """The partition files, in order, and every series' number of rows."""

    files: tuple[Path, ...]
    lengths: pd.Series

    @classmethod
    def cut(cls, df: pd.DataFrame, folder: Path, rows: int = PARTITION_ROWS) -> Partitions:
        """Write ``df`` (long format, ``unique_id`` first) as partitions of whole series
        of at most ``rows`` rows each (more only where one series is longer)."""
        if rows < 1:
            raise ValueError(f"A partition holds at least one row, not {rows}.")
        folder.mkdir(parents=True, exist_ok=True)
        lengths = df.groupby("unique_id", sort=False).size()
        number = pd.Series(partition_numbers(lengths.to_numpy(), rows), index=lengths.index)
        files = []
        for k, part in df.groupby(df["unique_id"].map(number).to_numpy(), sort=True):
            path = folder / f"part-{k:05d}.parquet"
            part.reset_index(drop=True).to_parquet(path, index=False)
            files.append(path)
        return cls(tuple(files), lengths)

    @classmethod
    def written(cls, parts: Iterable[pd.DataFrame], folder: Path) -> Partitions:
        """Write ``parts`` (each of whole series, cut by the same rule: a catalogue read
        from the database a partition at a time) as they come, without holding them."""
        folder.mkdir(parents=True, exist_ok=True)
        files, lengths = [], []
        for k, part in enumerate(parts):
            path = folder / f"part-{k:05d}.parquet"
            part.reset_index(drop=True).to_parquet(path, index=False)
            files.append(path)
            lengths.append(part.groupby("unique_id", sort=False).size())
        every = pd.concat(lengths) if lengths else pd.Series(dtype=int)
        return cls(tuple(files), every)

    def __len__(self) -> int:
        return len(self.files)

    def read(self, i: int, columns: list[str] | None = None) -> pd.DataFrame:
        return pd.read_parquet(self.files[i], columns=columns)

    def series(self) -> int:
        return len(self.lengths)

    def describe(self, rows: int) -> str:
        """How the panel was cut, and what small partitions cost."""
        longer = int((self.lengths > rows).sum())
        text = f"{len(self)} partitions of whole series, each of at most {rows:,} rows"
        if longer:
            text += f" ({longer} series longer than that: a partition each)"
        per = self.series() / len(self)
        if per < FEW_SERIES:
            text += (
                f"; about {per:.0f} series a partition, under {FEW_SERIES}: the first one "
                "decides which expensive models and drivers are tried on a few series, the "
                "trees learn on a few, and every partition pays each model's fixed cost "
                "(a larger --partition-rows keeps the whole-panel choices)"
            )
        return text


def partition_numbers(lengths: np.ndarray, rows: int) -> np.ndarray:
    """Each series' partition: consecutive series, a new partition when the next series
    would take the current one past ``rows``."""
    out = np.empty(len(lengths), dtype=np.int64)
    k, held = 0, 0
    for i, n in enumerate(lengths):
        if held and held + n > rows:
            k, held = k + 1, 0
        out[i] = k
        held += n
    return out
