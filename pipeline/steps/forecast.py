"""Step ``forecast``: the served forecast with its bands for the run's horizon, stored.

With drivers, the forecast needs their planned values: the rows past the last
sale in the uploaded file, series by series. Where a series' plan ends (or
when there is none) the candidates chosen for periods without drivers serve,
and the log names the series and the holes filled inside a plan; the what-if
panel and ``--future`` give other plans.
"""

from __future__ import annotations

from forecasting.data.frequency import stored_horizon
from forecasting.serving.plans import PlanUse
from forecasting.serving.requests import ForecastRequest, answer
from pipeline.context import RunContext
from pipeline.formatting import describe_plan
from pipeline.trained import Trained, log_diverged, mark_diverged
from storage.results import delete_forecasts, save_forecasts


def forecast(ctx: RunContext, trained: Trained) -> int:
    """Store the served forecast a year ahead, so any horizon a user asks is a lookup.

    A catalogue's is made and stored a partition at a time: every model's year ahead for
    every series at once rose 1.6 GB above the loaded model at 10,000 daily series, and
    was the run's peak (issue 30). Each series' rows are the same either way. A step
    that fails stores nothing."""
    serving = trained.serving
    h = stored_horizon(trained.spec.freq, trained.horizon)
    parts = serving.series_parts()
    count, uses, diverged, dates = 0, [], {}, []
    try:
        for part in parts:
            ctx.check_cancelled()
            asked = tuple(part) if len(parts) > 1 else None
            result = answer(serving, ForecastRequest(h, series=asked))
            if result.plan is not None:
                uses.append(result.plan.summary())
            for model, replaced in result.diverged.items():
                diverged.setdefault(model, {}).update(replaced)
            count += save_forecasts(ctx.db, ctx.run_id, result.rows)
            dates += [result.rows["ds"].min(), result.rows["ds"].max()]
    except BaseException:
        delete_forecasts(ctx.db, ctx.run_id)
        raise
    if serving.spec.exog:
        ctx.log.info("%s", describe_plan(serving.spec.exog, PlanUse.joined(uses), h))
    if diverged:
        _record_diverged(ctx, trained, diverged)
    ctx.log.info(
        "stored %d forecast rows (%d series x %d periods, %s to %s; validated for %d)",
        count,
        len(serving.series),
        h,
        min(dates).date(),
        max(dates).date(),
        trained.horizon,
    )
    return count


def _record_diverged(
    ctx: RunContext, trained: Trained, diverged: dict[str, dict[str, str]]
) -> None:
    """Name in the run's series table the models the stored forecast replaced: a year
    ahead can leave a range that the validated horizon kept to."""
    log_diverged(ctx.log, trained.serving, diverged, " in the stored forecast")
    table = ctx.artifacts.load(ctx.run_id, "series")
    ctx.artifacts.replace(ctx.run_id, "series", mark_diverged(table, diverged))
