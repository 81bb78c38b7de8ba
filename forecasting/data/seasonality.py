"""Whether a series has a season: one test, shared by the gap fill and the smoothing models.

The detrended values of each position in the season (each month of the year, each
weekday) differ beyond chance: a Kruskal-Wallis test at ``SIGNIFICANCE``, as
X-13's test for stable seasonality. Rank-based, so one promotion or one lost
record does not make a season, and on two or three cycles noise does not either
(a seasonal-strength threshold took noise for a season there: each index is the
mean of two or three values).
"""

from __future__ import annotations

import numpy as np

#: the chance below which the positions' differences are a season, not noise
SIGNIFICANCE = 0.01


def stable_season(detrended: np.ndarray, m: int) -> bool:
    """Whether ``detrended`` (NaN where unknown) differs by position in a season of ``m``."""
    from scipy.stats import kruskal

    detrended = np.asarray(detrended, dtype=float)
    position = np.arange(len(detrended)) % m
    known = np.isfinite(detrended)
    if m < 2 or not known.any() or np.ptp(detrended[known]) == 0:
        return False
    groups = [detrended[known & (position == k)] for k in range(m)]
    groups = [g for g in groups if len(g)]
    if len(groups) < 2:
        return False
    return bool(kruskal(*groups).pvalue < SIGNIFICANCE)
