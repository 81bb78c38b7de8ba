"""What the command line shows and writes: a progress bar and forecast CSVs."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from pipeline.exports import protect_formulas


@contextmanager
def terminal_progress(quiet: bool) -> Iterator[Callable[[float, str], None]]:
    """A tqdm bar on stderr fed with ``(fraction, message)``; silent with ``quiet``."""
    bar = None
    if not quiet:
        bar = tqdm(
            total=100, unit="%", file=sys.stderr, bar_format="{l_bar}{bar}| {elapsed} {postfix}"
        )

    def update(value: float, message: str) -> None:
        if bar is not None:
            bar.n = round(value * 100)
            bar.set_postfix_str(message[:60], refresh=True)

    try:
        yield update
    finally:
        if bar is not None:
            bar.close()


def write_forecast_csv(frame: pd.DataFrame, keys: pd.DataFrame | None, path: Path | None) -> None:
    """The forecast with the input's own id columns instead of ``unique_id`` when known.

    ``path=None`` writes to standard output.
    """
    out = frame
    if keys is not None and len(keys.columns) > 1:
        out = keys.merge(frame, on="unique_id", how="right").drop(columns="unique_id")
    out = protect_formulas(out.assign(ds=pd.to_datetime(out["ds"]).dt.date))
    out.to_csv(path if path is not None else sys.stdout, index=False, float_format="%.4f")
