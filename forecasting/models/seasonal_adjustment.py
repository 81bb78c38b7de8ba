"""A season too long for a smoothing model's state, taken out before the fit and put back after.

ETS and CES carry one state per period of the season: 52 weeks make a state
vector too large to estimate (statsforecast's AutoETS refuses seasons over 24),
so on weekly data they fell back to no season at all and scored a third worse
than Theta on Walmart's 2,660 store departments. Theta has always handled it the
classical way (Assimakopoulos and Nikolopoulos 2000; the M4 benchmarks): divide the
series by its classical seasonal indices (subtract them where a multiplicative index
would be near zero or the series is not positive), smooth what is left, and put the
season back on the forecast. The season is taken out only where it is there
(``forecasting.data.seasonality``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecasting.data.seasonality import stable_season

#: a multiplicative index this close to zero would blow the adjusted series up
MIN_INDEX = 0.01


@dataclass(frozen=True)
class Adjustment:
    """The seasonal indices of the ``m`` periods after a series' end, and how they apply."""

    indices: np.ndarray
    multiplicative: bool

    def adjust(self, y: np.ndarray, decomposed: np.ndarray) -> np.ndarray:
        return y / decomposed if self.multiplicative else y - decomposed

    def restore(self, forecast: np.ndarray) -> np.ndarray:
        season = np.resize(self.indices, len(forecast))
        return forecast * season if self.multiplicative else forecast + season


def seasonally_adjusted(y: np.ndarray, m: int) -> tuple[np.ndarray, Adjustment | None]:
    """``y`` without its season of ``m`` periods and the adjustment to put it back; ``y``
    itself and None when the history is shorter than two seasons or shows no season."""
    if m < 4 or len(y) < 2 * m or np.ptp(y) == 0:
        return y, None
    from statsmodels.tsa.seasonal import seasonal_decompose

    multiplicative = bool(np.min(y) > 0)
    if multiplicative:
        parts = seasonal_decompose(y, model="multiplicative", period=m)
        multiplicative = bool(np.min(parts.seasonal) >= MIN_INDEX)
    if not multiplicative:
        parts = seasonal_decompose(y, model="additive", period=m)
    if not _stable_season(parts, multiplicative, m):
        return y, None
    adjustment = Adjustment(np.asarray(parts.seasonal[-m:], dtype=float), multiplicative)
    return adjustment.adjust(y, parts.seasonal), adjustment


def _stable_season(parts, multiplicative: bool, m: int) -> bool:
    """Whether the detrended values differ by position in the season beyond chance, or
    the series' changes repeat a season later (``repeats_a_season_later``)."""
    season, rest = np.asarray(parts.seasonal), np.asarray(parts.resid)
    if stable_season(season * rest if multiplicative else season + rest, m):
        return True
    return repeats_a_season_later(np.asarray(parts.observed, dtype=float), m)


#: the correlation of a series' changes with its changes a season before, at least: white
#: noise, a random walk and counts reach 0.3 at lag 52 on 148 weeks in 0.6% of series
MIN_REPEAT = 0.3
#: and beyond chance: this many standard errors (one-sided 1%)
REPEAT_Z = 2.33


def repeats_a_season_later(y: np.ndarray, m: int) -> bool:
    """Whether the period-to-period changes of ``y`` repeat ``m`` periods later. On two or
    three cycles of 52 weeks the positions' test has two or three values each and misses
    a tenfold Christmas peak (a stranger's decorations: p 0.01 to 0.1, year-on-year
    changes correlated 0.3 to 0.6); changes, unlike levels, do not correlate through a
    trend or a random walk."""
    changes = np.diff(y)
    now, before = changes[m:], changes[:-m]
    if len(now) < m or np.ptp(now) == 0 or np.ptp(before) == 0:
        return False
    r = float(np.corrcoef(now, before)[0, 1])
    return r >= max(MIN_REPEAT, REPEAT_Z / np.sqrt(len(now)))
