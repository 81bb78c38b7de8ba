"""Where a row sits in its series, counted from the series' own end.

Its own module because both the backtest splits and models that look at the
whole data set (``imapa_total``) count this way, and models may not import the
backtest (which imports the models).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def periods_from_end(df: pd.DataFrame) -> np.ndarray:
    """0 for each series' last row, 1 for the one before, and so on."""
    return df.groupby("unique_id", sort=False).cumcount(ascending=False).to_numpy()
