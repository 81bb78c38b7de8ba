"""Step ``forecast``: the served forecast with its bands for the run's horizon, stored.

With drivers, the future needs their planned values; a run has none, so it
assumes each driver repeats its last season and says so in the log (the
what-if panel and ``--future`` replace the assumption with a plan).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.frequency import max_horizon
from forecasting.models.base import forecast_grid
from forecasting.spec import DataSpec
from pipeline.context import RunContext
from pipeline.steps.train import Trained
from storage.results import save_forecasts


def forecast(ctx: RunContext, trained: Trained) -> pd.DataFrame:
    """Store the served forecast a year ahead, so any horizon a user asks is a lookup.

    Bands past the validated horizon reuse the width validated for its last period.
    """
    spec = trained.spec
    h = max(trained.horizon, max_horizon(spec.freq))
    future = None
    if spec.exog:
        future = assumed_future(trained.frame, spec, h)
        ctx.log.warning(
            "drivers %s have no planned values: assumed they repeat their last season",
            ", ".join(spec.exog),
        )
    ctx.check_cancelled()
    served = trained.serving.forecast(h, future)
    count = save_forecasts(ctx.db, ctx.run_id, served)
    ctx.log.info(
        "stored %d forecast rows (%d series x %d periods, %s to %s; validated for %d)",
        count,
        served["unique_id"].nunique(),
        h,
        served["ds"].min().date(),
        served["ds"].max().date(),
        trained.horizon,
    )
    return served


def assumed_future(df: pd.DataFrame, spec: DataSpec, h: int) -> pd.DataFrame:
    """Drivers for the next ``h`` periods: each series' last season, repeated."""
    last = df.groupby("unique_id", sort=False)["ds"].max()
    grid = forecast_grid(last, h, spec)
    m = spec.season_length
    tails = {
        uid: g.to_numpy()
        for uid, g in df.groupby("unique_id")[list(spec.exog)].tail(m).groupby(df["unique_id"])
    }
    parts = []
    for uid, rows in grid.groupby("unique_id", sort=False):
        tail = tails[uid]
        values = np.resize(tail, (len(rows), len(spec.exog)))
        parts.append(pd.DataFrame(values, columns=list(spec.exog), index=rows.index))
    return pd.concat([grid, pd.concat(parts)], axis=1)
