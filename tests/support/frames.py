"""Small frames and specs the tests build, and where the bundled samples are."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.data.frequency import frequency_from_alias
from forecasting.data.spec import DataSpec

ROOT = Path(__file__).resolve().parents[2]


SAMPLES = ROOT / "dashapp" / "samples"


def make_frame(
    n_series: int = 3,
    periods: int = 120,
    alias: str = "D",
    seed: int = 0,
    exog: bool = False,
    start: str = "2022-01-07",
) -> pd.DataFrame:
    """Seasonal series with trend and noise; ``promo`` lifts sales and is known in advance."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, periods=periods, freq=alias)
    m = frequency_from_alias(alias).season_length
    frames = []
    for i in range(n_series):
        season = 10 * np.sin(2 * np.pi * np.arange(periods) / m)
        promo = (rng.random(periods) < 0.15).astype(float)
        y = 100 + 20 * i + 0.2 * np.arange(periods) + season + 15 * promo
        y = y + rng.normal(0, 2, periods)
        frame = pd.DataFrame({"unique_id": f"s{i}", "ds": dates, "y": y})
        if exog:
            frame["promo"] = promo
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def spec_for(alias: str = "D", exog: tuple[str, ...] = (), country: str | None = "US") -> DataSpec:
    return DataSpec(frequency_from_alias(alias), exog=exog, country=country)
