"""Step ``forecast``: the served forecast with its bands for the run's horizon, stored.

With drivers, the forecast needs their planned values: the rows past the last
sale in the uploaded file, series by series. Where a series' plan ends (or
when there is none) the candidates chosen for periods without drivers serve,
and the log names the series and the holes filled inside a plan; the what-if
panel and ``--future`` give other plans.
"""

from __future__ import annotations

import pandas as pd

from forecasting.data.frequency import stored_horizon
from forecasting.serving.requests import ForecastRequest, answer
from pipeline.context import RunContext
from pipeline.formatting import describe_plan
from pipeline.trained import Trained, log_diverged, mark_diverged
from storage.results import save_forecasts


def forecast(ctx: RunContext, trained: Trained) -> pd.DataFrame:
    """Store the served forecast a year ahead, so any horizon a user asks is a lookup."""
    h = stored_horizon(trained.spec.freq, trained.horizon)
    ctx.check_cancelled()
    result = answer(trained.serving, ForecastRequest(h))
    served = result.rows
    drivers = trained.serving.spec.exog
    if drivers:
        ctx.log.info("%s", describe_plan(drivers, result.plan, h))
    if result.diverged:
        _record_diverged(ctx, trained, result.diverged)
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


def _record_diverged(
    ctx: RunContext, trained: Trained, diverged: dict[str, dict[str, str]]
) -> None:
    """Name in the run's series table the models the stored forecast replaced: a year
    ahead can leave a range that the validated horizon kept to."""
    log_diverged(ctx.log, trained.serving, diverged, " in the stored forecast")
    table = ctx.artifacts.load(ctx.run_id, "series")
    ctx.artifacts.replace(ctx.run_id, "series", mark_diverged(table, diverged))
