"""What each part of the workflow is expected to cost, so progress advances with the work.

A run's bar used to move by steps: fourteen models, fourteen equal slices, so
it raced through the naive models and sat still through Prophet. Here every
part gets its expected seconds from the data's shape and each model's cost
figures (``Forecaster.series_seconds``, ``period_seconds``, ``row_seconds``,
measured on a 2-core machine by ``bench/cost.py``), and the workflow gives each
part a slice of the bar in proportion. Only the proportions matter: the time
left is the time so far times the share left over the share done
(``pipeline.context``), so a machine twice as slow is still estimated right.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from forecasting.evaluation.screening import sample_size
from forecasting.models import MODELS

#: seconds, whatever the data: profiling, selection, bands and scoring
FIXED_SECONDS = 1.0
#: seconds per series of profiling, scales, selection, bands and scoring
PER_SERIES_SECONDS = 2e-3
#: starting the worker processes of the first per-series model fitted in parallel
WORKER_START_SECONDS = 0.3
#: the driver screen validates the ridge model without drivers and with each candidate,
#: on the long series and the newest folds: each pass costs this share of the ridge
#: model's validation (Walmart: 7.5 s for two passes over 2,660 series)
DRIVER_SCREEN_SHARE = 0.65


@dataclass(frozen=True)
class Shape:
    """What a fit's cost depends on: how many series, how long, how many rows, the season."""

    series: int
    periods: float
    rows: int
    season: int = 1
    #: every value above zero (ETS then also searches the multiplicative forms)
    positive: bool = False

    @classmethod
    def of(cls, df: pd.DataFrame, season: int = 1) -> Shape:
        series = int(df["unique_id"].nunique()) if len(df) else 0
        positive = bool(len(df)) and bool((df["y"] > 0).all())
        return cls(series, len(df) / series if series else 0.0, len(df), season, positive)

    def with_periods(self, periods: float) -> Shape:
        return replace(self, periods=periods, rows=int(periods * self.series))

    def sample(self, size: int) -> Shape:
        """The shape of ``size`` of these series."""
        n = min(size, self.series)
        return replace(self, series=n, rows=int(self.periods * n))


def fit_seconds(name: str, shape: Shape) -> float:
    """Expected seconds of one fit of model ``name`` on data of this shape."""
    seconds = MODELS[name].fit_seconds(shape.series, shape.periods, shape.rows, shape.season)
    return seconds * (MODELS[name].positive_factor if shape.positive else 1.0)


def validation_seconds(name: str, shape: Shape, n_windows: int, h: int = 0) -> float:
    """One fit, then a move forward to each later fold (a refit, for a model whose
    ``refit_growth`` the folds' spacing exceeds)."""
    cls = MODELS[name]
    # the first fit sees the history before the oldest fold (at least a season of it)
    first = max(shape.periods - n_windows * h, shape.season + 1.0)
    refits = cls.refit_growth is not None and h / first > cls.refit_growth
    later = (1.0 if refits else cls.forward_share) * fit_seconds(name, shape)
    forecasts = n_windows * cls.predict_seconds(shape.series, h)
    return fit_seconds(name, shape.with_periods(first)) + later * max(n_windows - 1, 0) + forecasts


def workflow_plan(
    shape: Shape,
    names: list[str],
    screened: set[str],
    n_windows: int,
    h: int = 0,
    drivers: int = 0,
) -> dict[str, float]:
    """Expected seconds of each part of ``train_and_forecast``, in the order they run.

    ``drivers`` candidate drivers are screened first. An expensive model of the default
    set is planned for its sample (on the newest fold only); if the sample keeps it,
    the plan grows by its validation on every series when that starts.
    """
    plan: dict[str, float] = {}
    if drivers:
        ridge = validation_seconds("linear_trend", shape, n_windows, h)
        plan["drivers"] = (1 + drivers) * DRIVER_SCREEN_SHARE * ridge
    started = False
    cheap = [n for n in names if n not in screened]
    for name in [*cheap, *[n for n in names if n in screened]]:
        size = sample_size(shape.series)
        if name in screened and size is not None:
            seconds = validation_seconds(name, shape.sample(size), 1, h)
            key = f"screen {name}"
        else:
            seconds = validation_seconds(name, shape, n_windows, h)
            key = f"validate {name}"
        if not started and getattr(MODELS[name], "parallel", False):
            seconds += WORKER_START_SECONDS
            started = True
        plan[key] = seconds
    plan["forecast"] = served_refit_seconds(shape, cheap) + sum(
        MODELS[n].forward_share * fit_seconds(n, shape) + MODELS[n].predict_seconds(shape.series, h)
        for n in cheap
    )
    plan["bands and scores"] = FIXED_SECONDS + PER_SERIES_SECONDS * shape.series
    return plan


def served_refit_seconds(shape: Shape, names: list[str]) -> float:
    """The served models are fitted afresh, the others moved forward. Which serve is not
    known yet; the strongest candidates are mostly the dearest (the trees), so the
    dearest one's fit is planned."""
    return max((fit_seconds(n, shape) for n in names), default=0.0)
