"""The one builder of a serving model: fitted models, choice, bands, plan and totals.

A run's serving model (``pipeline.steps.train``) and a backtest's (``forecasting.
workflow``) are built here alike; the run's also carries the data set's plan and
how its totals are made (``forecasting.serving.reconciliation``), which reads the
forecast of the model built so far, so the value is completed here before anyone
else sees it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from forecasting.data.spec import DataSpec
from forecasting.evaluation.group_bands import validation_errors
from forecasting.evaluation.intervals import (
    conformal_quantiles,
    horizon_steps,
    random_walk_quantiles,
    zero_quantiles,
)
from forecasting.evaluation.selection import RULES, Selection
from forecasting.models import Forecaster
from forecasting.serving.model import ServingModel
from forecasting.serving.reconciliation import coherent
from forecasting.serving.series_facts import SeriesFacts, ruled_series

#: the band quantiles of the ``level`` rule are those of this validated model
LEVEL_BANDS_FROM = "naive"
ERROR_KEYS = ("unique_id", "cutoff", "ds")


@dataclass(frozen=True)
class Totals:
    """What choosing how the totals are made needs: the backtest's selection (its
    validation folds) and how many periods the stored forecast covers."""

    selection: Selection
    horizon: int


def build_serving(
    fitted: dict[str, Forecaster],
    selection: Selection,
    df: pd.DataFrame,
    spec: DataSpec,
    horizon: int,
    profile: pd.DataFrame | None = None,
    plan: pd.DataFrame | None = None,
    totals: Totals | None = None,
    quantiles: dict[str, pd.DataFrame] | None = None,
    facts: SeriesFacts | None = None,
) -> ServingModel:
    """Bundle refitted models with intervals calibrated on the validation folds only.

    ``df`` holds every series (those served by rules included); ``profile`` their ladder
    steps. Where drivers serve, the selection's ``beyond_plan`` choice serves the periods
    no plan covers, and ``plan`` (the drivers' planned values past the last sale) is what
    every reader forecasts with. With ``totals``, the sums are made bottom-up or
    reconciled, as the validation folds say. ``quantiles`` (``band_quantiles``) are the
    bands of a larger panel that ``df`` is a part of; by default ``df``'s own.

    ``facts``: what the model keeps of each series, made a partition at a time where
    ``df`` is a catalogue's (``forecasting.partitioned_serving``); ``df`` is then only
    what the totals read (``coherent``: the keys, or the rows of the series it
    reconciles).
    """
    if facts is None:
        span = (df["ds"].min(), df["ds"].max())
        on_rule = ruled_series(profile, selection.choice) if profile is not None else None
        facts = SeriesFacts.of(df, spec, span, profile, on_rule)
    span = facts.span()
    if quantiles is None:
        quantiles = band_quantiles(selection, set(fitted), facts.scale, horizon, bool(spec.exog))
    members = {c: m for c, m in selection.members.items() if set(m) <= set(fitted)}
    errors = validation_errors(selection.table, set(selection.choice) | set(fitted))
    beyond = selection.beyond_plan if spec.exog else None
    if beyond is not None:
        extra = set(beyond.choice) - set(selection.choice) - set(fitted) - set(RULES.values())
        members |= {c: m for c, m in beyond.members.items() if set(m) <= set(fitted)}
        errors = _with_errors(errors, validation_errors(beyond.table, extra))
    serving = ServingModel(
        fitted,
        members,
        selection.choice,
        quantiles,
        facts.scale,
        facts.nonnegative,
        spec,
        horizon,
        profile=profile,
        rule_levels=facts.rule_levels,
        driver_tail=facts.driver_tail,
        errors=errors,
        plan=plan,
        unplanned=beyond.choice if beyond is not None else None,
        driver_range=facts.driver_range,
        closures=facts.closures(spec, span),
    )
    if totals is None:
        return serving
    return replace(serving, coherence=coherent(serving, totals.selection, df, spec, totals.horizon))


def band_quantiles(
    selection: Selection, fitted: set[str], scale: pd.Series, horizon: int, drivers: bool
) -> dict[str, pd.DataFrame]:
    """The band quantiles of every candidate a series can be served by (``fitted``: the
    models fitted), pooled over the series of ``scale``; where ``drivers`` serve, also of
    what serves the periods no plan covers."""
    quantiles = _band_quantiles(selection, fitted, scale, horizon)
    beyond = selection.beyond_plan if drivers else None
    if beyond is not None:
        extra = set(beyond.choice) - set(quantiles) - set(RULES.values())
        quantiles |= _band_quantiles(beyond, set(), scale, horizon, extra)
    return quantiles


def _with_errors(errors: pd.DataFrame | None, more: pd.DataFrame | None) -> pd.DataFrame | None:
    """Validation errors of more candidates, joined on the fold's rows."""
    if more is None or errors is None:
        return errors if more is None else more
    more = more[[c for c in more.columns if c not in errors.columns or c in ERROR_KEYS]]
    return errors.merge(more, on=list(ERROR_KEYS), how="outer")


def _band_quantiles(
    selection: Selection,
    fitted: set[str],
    scale: pd.Series,
    horizon: int,
    candidates: set[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Quantiles of every candidate a series can be served by, of every single model and
    of the rules; or of the ``candidates`` named only."""
    validation = selection.table
    named = candidates is not None
    if candidates is None:
        candidates = set(selection.choice) | set(fitted)
    quantiles = {}
    steps = horizon_steps(validation, ["unique_id", "cutoff"]) if validation is not None else None
    for cand in candidates - set(RULES.values()):
        if validation is not None and cand in validation:
            quantiles[cand] = conformal_quantiles(validation, scale, cand, steps=steps)
        else:  # nothing validated it: the bands of a random walk, never a false precision
            quantiles[cand] = random_walk_quantiles(horizon)
    if named:
        return quantiles
    quantiles[RULES["zero"]] = zero_quantiles()
    quantiles[RULES["new"]] = quantiles.get(LEVEL_BANDS_FROM, random_walk_quantiles(horizon))
    return quantiles
