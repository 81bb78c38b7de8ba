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

from dataclasses import dataclass

import pandas as pd

from forecasting.models import MODELS
from forecasting.screening import sample_size

#: seconds, whatever the data: profiling, selection, bands and scoring
FIXED_SECONDS = 1.0
#: seconds per series of profiling, scales, selection, bands and scoring
PER_SERIES_SECONDS = 2e-3


@dataclass(frozen=True)
class Shape:
    """What a fit's cost depends on: how many series, how long, how many rows."""

    series: int
    periods: float
    rows: int

    @classmethod
    def of(cls, df: pd.DataFrame) -> Shape:
        series = int(df["unique_id"].nunique()) if len(df) else 0
        return cls(series, len(df) / series if series else 0.0, len(df))

    def sample(self, size: int) -> Shape:
        """The shape of ``size`` of these series."""
        n = min(size, self.series)
        return Shape(n, self.periods, int(self.periods * n))


def fit_seconds(name: str, shape: Shape) -> float:
    """Expected seconds of one fit of model ``name`` on data of this shape."""
    return MODELS[name].fit_seconds(shape.series, shape.periods, shape.rows)


def validation_seconds(name: str, shape: Shape, n_windows: int) -> float:
    """One fit, then a move forward to each later fold (or a refit, for models that refit)."""
    cls = MODELS[name]
    later = cls.forward_share if cls.refit_growth is None else 1.0
    return fit_seconds(name, shape) * (1 + later * max(n_windows - 1, 0))


def workflow_plan(
    shape: Shape, names: list[str], screened: set[str], n_windows: int
) -> dict[str, float]:
    """Expected seconds of each part of ``train_and_forecast``, in the order they run.

    An expensive model of the default set is planned for its sample (on the newest
    fold only); if the sample keeps it, the plan grows by its validation on every
    series when that starts.
    """
    plan: dict[str, float] = {}
    for name in names:
        size = sample_size(shape.series)
        if name in screened and size is not None:
            plan[f"screen {name}"] = validation_seconds(name, shape.sample(size), 1)
        else:
            plan[f"validate {name}"] = validation_seconds(name, shape, n_windows)
    plan["forecast"] = sum(
        MODELS[n].forward_share * fit_seconds(n, shape) for n in names if n not in screened
    )
    plan["bands and scores"] = FIXED_SECONDS + PER_SERIES_SECONDS * shape.series
    return plan


def refit_seconds(shape: Shape, names: list[str], served: set[str]) -> float:
    """Production: the served models fitted on all history, the others moved forward."""
    return sum(
        fit_seconds(n, shape) * (1.0 if n in served else MODELS[n].forward_share) for n in names
    )
