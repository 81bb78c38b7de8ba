"""Repeat the last value: the forecast every other model must beat on slow movers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.models.base import Forecaster


class Naive(Forecaster):
    """y[t + k] = y[t]. Its state is the tail of each series the base class keeps."""

    name = "naive"
    uses_exog = False
    short_ok = True

    def _fit(self, df: pd.DataFrame) -> None:
        pass

    def _predict(self, grid: pd.DataFrame) -> np.ndarray:
        sizes = grid.groupby("unique_id", sort=False).size()
        return np.concatenate([np.full(n, self.tails_[uid][-1]) for uid, n in sizes.items()])
