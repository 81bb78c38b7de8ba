"""Repeat the last value: the forecast every other model must beat on slow movers."""

from __future__ import annotations

from forecasting.models.seasonal_naive import SeasonalNaive


class Naive(SeasonalNaive):
    """y[t + k] = y[t]: seasonal naive with a season of one period."""

    name = "naive"
    needs_whole_season = False

    def season(self) -> int:
        return 1
