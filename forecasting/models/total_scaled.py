"""IMAPA scaled to the total: slow movers borrow the trend and season of their sum.

A method for intermittent demand forecasts one flat rate per series: a single
item's sales are too sparse to show a trend or a season. Their sum over the
whole data set is not, and spare parts and fading ranges decline together
(Carparts' parts sold 17% less in their held-out year than IMAPA expected). So
this model forecasts the total with AutoTheta, on its log so that a trend is a
rate of growth or decline, and scales every series' IMAPA rate, period by
period, by the ratio of that total forecast to the sum of the IMAPA rates: the
top-down method with forecast proportions (Athanasopoulos, Ahmed and Hyndman
2009, "Hierarchical forecasts for Australian domestic tourism"). It is one
more candidate: validation decides where it serves.

The total is counted in periods from each series' own end (as the backtest
splits are), over the series at least as long as the median series, so that
launches and lost records do not read as growth or decline.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.data.positions import periods_from_end
from forecasting.models.intermittent import IMAPA
from forecasting.models.local import SMOOTHING_HISTORY

#: the scale factor of a period stays within this range, whatever the total forecast says
MIN_RATIO, MAX_RATIO = 0.0, 10.0
#: the total needs this many periods before it is trusted to say more than "flat"
MIN_TOTAL_PERIODS = 6


class IMAPAScaledToTotal(IMAPA):
    """IMAPA per series, scaled each period to an AutoTheta forecast of the total."""

    name = "imapa_total"
    fit_overhead_seconds = 0.01  # AutoTheta of the total

    def _fit(self, df: pd.DataFrame) -> None:
        super()._fit(df)
        self.members_, self.total_ = common_total(df)

    def _forward(self, df: pd.DataFrame, fitted) -> None:
        self._fit(df)  # nothing is estimated: the rates and the total are the data's

    def _predict(self, grid: pd.DataFrame, failed: dict[str, str]) -> np.ndarray:
        rates = super()._predict(grid, failed)
        step = grid.groupby("unique_id", sort=False).cumcount().to_numpy()
        h = int(step.max()) + 1 if len(step) else 0
        members = grid["unique_id"].isin(self.members_).to_numpy()
        base = np.bincount(step[members], weights=rates[members], minlength=h)
        ratio = total_ratio(self.total_, base, self.spec_.season_length)
        return rates * ratio[step]


def common_total(df: pd.DataFrame) -> tuple[set, np.ndarray]:
    """The series that make the total, and their sum per period, oldest first.

    Members are the series with sales that are at least as long as the median
    one; the total covers only the periods every member has.
    """
    grouped = df["y"].ne(0).groupby(df["unique_id"], sort=False)
    sizes = grouped.size()[grouped.any()]
    if sizes.empty:
        return set(), np.zeros(0)
    window = int(sizes.median())
    members = set(sizes.index[sizes >= window])
    rows = df[df["unique_id"].isin(members)]
    back = periods_from_end(rows)
    keep = back < window
    total = np.bincount(back[keep], weights=rows["y"].to_numpy(float)[keep], minlength=window)
    return members, total[::-1]


def total_ratio(total: np.ndarray, base: np.ndarray, season_length: int) -> np.ndarray:
    """Per forecast period: the total's forecast over the sum of the members' rates.

    The ratio is 1 (plain IMAPA) where the total is too short to model or fails
    to fit, or where the members' rates sum to nothing.
    """
    h = len(base)
    ratio = np.ones(h)
    if len(total) < MIN_TOTAL_PERIODS or h == 0:
        return ratio
    forecast = total_forecast(total, h, season_length)
    if forecast is None:
        return ratio
    usable = base > 0
    ratio[usable] = np.clip(forecast[usable] / base[usable], MIN_RATIO, MAX_RATIO)
    return ratio


def total_forecast(total: np.ndarray, h: int, season_length: int) -> np.ndarray | None:
    """AutoTheta on the log of the total (seasonal when it holds two seasons), so its
    trend is a rate: a declining range approaches zero and never reaches it (on the raw
    total, Theta's straight line took a range falling 3% a month to zero within a year).
    None if it cannot fit. It sees the last ``SMOOTHING_HISTORY`` periods (a year of
    days), as the per-series smoothing models do."""
    from statsforecast.models import AutoTheta

    total = total[-SMOOTHING_HISTORY:]
    m = season_length if len(total) >= 2 * season_length else 1
    try:
        model = AutoTheta(season_length=m, decomposition_type="additive")
        forecast = np.expm1(model.forecast(y=np.log1p(total.astype(float)), h=h)["mean"])
    except Exception:  # a degenerate total (e.g. all but one period zero): stay with IMAPA
        return None
    forecast = np.asarray(forecast, dtype=float)
    return np.maximum(forecast, 0.0) if np.isfinite(forecast).all() else None
