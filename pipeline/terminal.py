"""What the command line shows and writes: a progress bar and forecast CSVs."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from pipeline.exports import protect_formulas
from pipeline.formatting import time_left


@contextmanager
def terminal_progress(quiet: bool) -> Iterator[Callable[[float, str], None]]:
    """A tqdm bar on stderr fed with ``(fraction, message)``; silent with ``quiet``.

    The bar advances with the work's expected cost, so the time left is the time so
    far times the share left over the share done (as ``pipeline.context`` estimates it).
    """
    bar = None
    started = time.monotonic()
    if not quiet:
        bar = tqdm(
            total=100, unit="%", file=sys.stderr, bar_format="{l_bar}{bar}| {elapsed} {postfix}"
        )

    def update(value: float, message: str) -> None:
        if bar is not None:
            bar.n = round(value * 100)
            elapsed = time.monotonic() - started
            left = elapsed * (1 - value) / value if 0.03 <= value < 1 and elapsed > 3 else None
            text = ", ".join(t for t in (time_left(left), message[:60]) if t)
            bar.set_postfix_str(text, refresh=True)

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
