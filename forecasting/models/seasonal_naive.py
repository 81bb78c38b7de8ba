"""The baseline every model is judged against: repeat the last season."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.models.base import Forecaster, seasonal_naive_values


class SeasonalNaive(Forecaster):
    """y[t] = y[t - m], m the seasonal length (7 daily, 52 weekly, 12 monthly).

    Its state is the last two seasons of each series, which the base class keeps
    for every model (the fallback of a failed or diverged fit).
    """

    name = "seasonal_naive"
    uses_exog = False
    short_ok = True
    needs_whole_season = True

    def _fit(self, df: pd.DataFrame) -> None:
        pass

    def season(self) -> int:
        return self.spec_.season_length

    def _predict(self, grid: pd.DataFrame, failed: dict[str, str]) -> np.ndarray:
        m = self.season()
        sizes = grid.groupby("unique_id", sort=False).size()
        return np.concatenate(
            [seasonal_naive_values(self.tails_[uid], n, m) for uid, n in sizes.items()]
        )
