"""The backtest over partitions of whole series: map, reduce, map.

A catalogue of tens of thousands of series does not fit in memory as one frame with
every candidate's fits (about 1.5 KB a row). Here the panel is a folder of partitions
(``forecasting.data.partitions``) and the work is, in the spirit of statsforecast's
and mlforecast's distributed paths:

- **map**: per partition, every candidate on the validation folds
  (``validate_models``), the series' profiles and scales; the last fold's fits go to
  disk beside the partitions, so nothing but the folds' forecasts stays in memory;
- **reduce**: on those small summaries, what serves each series, pooled over every
  series (``select_served``: per demand class, combinations, departures), and the
  bands' quantiles (``band_quantiles``);
- **map**: per partition, the fits moved forward to the held-out window, the
  forecasts with bands, and the held-out scores.

Peak memory is set by the partition size, not by the catalogue. Two choices are made
on the first partition, as a sample of the panel, and hold for the others: which
expensive models earn validation (``forecasting.evaluation.screening``) and which
drivers are kept. The global tree models learn across the series of one partition.
Every series-by-series model gives the same forecasts as the whole-panel backtest.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

from forecasting.data.ladder import profile_series
from forecasting.data.partitions import Partitions
from forecasting.data.spec import DataSpec
from forecasting.evaluation.backtest import holdout_split
from forecasting.evaluation.costs import Shape, workflow_plan
from forecasting.evaluation.drivers import DriverChoice
from forecasting.evaluation.options import TrainOptions
from forecasting.evaluation.screening import Screen
from forecasting.evaluation.selection import KEYS, Selection, fold_table, folds_of, select
from forecasting.evaluation.tuning import TuningResult
from forecasting.evaluation.validation import select_served, validate_models
from forecasting.memory import release_memory
from forecasting.progress import Pacing, Reporter
from forecasting.serving.build import band_quantiles, build_serving
from forecasting.serving.series_facts import SeriesFacts, ruled_series, series_scales
from forecasting.workflow import (
    BacktestReport,
    ForecastOutcome,
    HeldOut,
    choose_drivers,
    fit_models,
    fitted_rows,
    horizon_for,
    known_future,
    plan_moves,
)

log = logging.getLogger(__name__)

#: the share of the progress bar the validation of every partition takes
VALIDATION_SHARE = 0.7


@dataclass
class _Validated:
    """What the validation map leaves in memory: the folds' forecasts side by side (a
    ``fold_table`` per partition) and the small per-series tables, with the fits on disk."""

    tuning: dict[str, TuningResult] = field(default_factory=dict)
    #: per partition, the folds' table and the models it has
    folds: list[tuple[pd.DataFrame, frozenset[str]]] = field(default_factory=list)
    scales: list[pd.DataFrame] = field(default_factory=list)
    profiles: list[pd.DataFrame] = field(default_factory=list)
    series_scales: list[pd.Series] = field(default_factory=list)
    #: per partition, ``ds, y``: its training rows summed per period (the panel's total,
    #: which the closures every series shares are judged on)
    totals: list[pd.DataFrame] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    screens: list[Screen] = field(default_factory=list)
    #: per model, the series validated so far (what its mean score is over)
    scored: dict[str, int] = field(default_factory=dict)

    def add(self, tuning: dict[str, TuningResult]) -> None:
        """One partition's results: the folds kept, the seconds summed, the scores
        weighed by the series scored."""
        cvs = {name: result.cv for name, result in tuning.items() if len(result.cv)}
        self.folds.append((fold_table(cvs) if cvs else pd.DataFrame(), frozenset(cvs)))
        for name, result in tuning.items():
            series = result.cv["unique_id"].nunique()
            self.scored[name] = self.scored.get(name, 0) + series
            before = self.tuning.get(name)
            if before is None:
                self.tuning[name] = replace(
                    result, cv=pd.DataFrame(), model=None, score=result.score * series
                )
                continue
            before.seconds += result.seconds
            before.score += result.score * series
            before.diverged.update(result.diverged)

    def drop(self, name: str, why: str) -> None:
        """A model that failed on a later partition is left out everywhere."""
        self.failed[name] = why
        self.tuning.pop(name, None)
        self.folds = [(t.drop(columns=name, errors="ignore"), m - {name}) for t, m in self.folds]

    def pooled(self) -> dict[str, TuningResult]:
        """Every model's results over all partitions, its folds on the rows every model
        forecast (as ``candidate_table`` joins them): a partition where one lacks folds
        has none in the choice."""
        validated = [name for name in self.tuning if any(name in m for _, m in self.folds)]
        tables = [t for t, m in self.folds if set(validated) <= m]
        self.folds = []  # each partition's table is freed once its rows are stacked
        wide = stacked(tables, [*KEYS, "y", *validated]) if validated and tables else None
        out = {}
        for name, result in self.tuning.items():
            cv = folds_of(wide, name) if wide is not None and name in validated else pd.DataFrame()
            out[name] = replace(result, cv=cv, score=result.score / max(self.scored[name], 1))
        return out


def stacked(tables: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    """``columns`` of ``tables``' rows in one table, emptying ``tables`` as it goes: each
    table is freed once its rows are copied (where no one else holds it), so the peak is
    the result and one table, where ``pd.concat`` holds all of them and the result."""
    try:
        dtypes = {c: np.result_type(*(t[c].dtype for t in tables)) for c in columns}
    except TypeError:  # a pandas extension type (a category): pandas stacks it
        out = pd.concat([t[columns] for t in tables], ignore_index=True)
        tables.clear()
        return out
    out = {c: np.empty(sum(map(len, tables)), dtype) for c, dtype in dtypes.items()}
    start = 0
    while tables:
        table = tables.pop(0)
        for c in columns:
            out[c][start : start + len(table)] = table[c].to_numpy()
        start += len(table)
        del table
    return pd.DataFrame(out, copy=False)


def partitioned_backtest(
    parts: Partitions,
    spec: DataSpec,
    h: int,
    options: TrainOptions | None = None,
    reporter: Reporter | None = None,
    work: Path | None = None,
    keep: Path | None = None,
) -> BacktestReport:
    """The backtest of ``forecasting.workflow.backtest`` over ``parts``, one partition in
    memory at a time; the last fold's fits wait in ``work`` (a temporary folder by
    default) between the two maps.

    With ``keep`` (a folder the caller owns and removes), the fits happen there and each
    partition's held-out fits stay as ``heldout-<i>.pkl`` for a run's final fits
    (``forecasting.partitioned_serving.Catalogue``); the choice keeps its validation
    table and each model its folds, which a run's serving model (the bands of sums, the
    totals) and records read."""
    started = time.perf_counter()
    options = options or TrainOptions()
    reporter = reporter or Reporter()
    if not options.constraints:
        spec = replace(spec, constrained=False)
    owned = contextlib.nullcontext(keep) if keep else tempfile.TemporaryDirectory(dir=work)
    with owned as folder:
        fits = Path(folder)
        trained = (parts.lengths - (parts.lengths - 1).clip(upper=h)).astype(int)
        h_val = horizon_for(int(trained.max()), h, spec.season_length)
        options, sat_out = options.for_panel(parts.series(), bool(spec.exog))
        validation = reporter.sub(0.0, VALIDATION_SHARE)
        spec, drivers, validated, options = _validate_all(
            parts, spec, h, h_val, options, validation, fits
        )
        tuning = validated.pooled()
        profile = pd.concat(validated.profiles)
        scales = pd.concat(validated.scales) if validated.scales else pd.DataFrame()
        if tuning:
            selection = select_served(tuning, scales, options, profile, bool(spec.exog))
        else:  # nothing has sold yet, or only new products: the rules serve
            selection = select({}, pd.DataFrame(), options.selection, profile=profile)
        counts = selection.choice.value_counts().to_dict()  # select_served logged the choice
        log.info("selected over %d partitions: %s", len(parts), counts)
        quantiles = band_quantiles(
            selection, set(tuning), pd.concat(validated.series_scales), h_val, bool(spec.exog)
        )
        kept = _set_aside(selection, [p.index for p in validated.profiles], fits)
        if keep is None:
            selection = kept
            tuning = {name: replace(result, cv=pd.DataFrame()) for name, result in tuning.items()}
        forecasting = reporter.sub(VALIDATION_SHARE, 1.0)
        total = pd.concat(validated.totals).groupby("ds", as_index=False)["y"].sum()
        held, outcome = _forecast_all(
            parts, spec, h, h_val, tuning, selection, quantiles, profile, total, forecasting,
            fits, keep is not None,
        )  # fmt: skip
    screens = [Screen.sat_out(m, why, 1) for m, why in sat_out.items()] + validated.screens
    outcome = replace(
        outcome,
        drivers=drivers,
        screens=screens,
        failed=validated.failed,
        profile=profile,
        fitted_spec=spec,
    )
    reporter.report(1.0, "forecast ready")
    return held.report(outcome, time.perf_counter() - started)


def _set_aside(selection: Selection, partitions: list[pd.Index], fits: Path) -> Selection:
    """Each partition's share of the choice to disk, with its rows of the validation
    table (the forecasting map reads its series' errors there); the choice kept in
    memory without the table, 25 KB a series with the ensembles' columns (0.8 GB at
    M5's 30,490 series) that nothing reads once the bands are made."""
    for i, ids in enumerate(partitions):
        joblib.dump(selection.subset(ids), fits / f"selection-{i}.pkl")
    return selection.without_table()


def _validate_all(
    parts: Partitions,
    spec: DataSpec,
    h: int,
    h_val: int,
    options: TrainOptions,
    reporter: Reporter,
    fits: Path,
) -> tuple[DataSpec, DriverChoice | None, _Validated, TrainOptions]:
    """The validation map; the first partition chooses the drivers and screens the
    expensive models, the others validate what it kept."""
    validated = _Validated()
    drivers = None
    for i in range(len(parts)):
        part_reporter = reporter.sub(i / len(parts), (i + 1) / len(parts))
        part_reporter.check_cancelled()
        train, _test = holdout_split(parts.read(i), h)
        profile = profile_series(train, h_val, spec.season_length)
        modelled = fitted_rows(train, profile)
        validated.profiles.append(profile)
        validated.series_scales.append(series_scales(train, spec))
        validated.totals.append(train.groupby("ds", as_index=False)["y"].sum())
        if modelled.empty:
            joblib.dump({}, fits / f"fits-{i}.pkl")
            continue
        log.info(
            "partition %d of %d: validating %d series (%d rows)",
            i + 1, len(parts), modelled["unique_id"].nunique(), len(modelled),
        )  # fmt: skip
        names = options.model_names()
        screening = len(spec.exog) if options.drivers == "auto" and drivers is None else 0
        shape = Shape.of(modelled, spec.season_length)
        plan = workflow_plan(shape, names, options.screened(), options.n_windows, h_val, screening)
        pacing = Pacing(part_reporter, plan)
        if drivers is None:
            spec, drivers = choose_drivers(modelled, profile, spec, h_val, options)
            pacing.finish("drivers")
        failed: dict[str, str] = {}
        tuning, screens, scales = validate_models(
            modelled, spec, h_val, options, pacing, profile, failed
        )
        first = not validated.tuning
        if first:  # the first partition with series to validate decides the candidates
            validated.failed |= failed
            validated.screens = screens
            # the same candidates, each on every series, and the drivers it kept
            options = replace(options, models=tuple(tuning), always=(), drivers="all")
        for name in set(validated.tuning) - set(tuning):
            validated.drop(name, failed.get(name, "its validation failed on a later partition"))
        validated.add({n: r for n, r in tuning.items() if first or n in validated.tuning})
        validated.scales.append(scales)
        joblib.dump({name: r.model for name, r in tuning.items()}, fits / f"fits-{i}.pkl")
        del tuning, modelled, train
        release_memory()
    return spec, drivers, validated, options


def _forecast_all(
    parts: Partitions,
    spec: DataSpec,
    h: int,
    h_val: int,
    tuning: dict[str, TuningResult],
    selection: Selection,
    quantiles: dict[str, pd.DataFrame],
    profile: pd.DataFrame,
    total: pd.DataFrame,
    reporter: Reporter,
    fits: Path,
    keep: bool = False,
) -> tuple[HeldOut, ForecastOutcome]:
    """The forecasting map: each partition's fits moved forward (the served models
    refitted), its forecasts with the pooled bands and the closures of the panel's
    ``total`` (``ds, y`` before the held-out window), and its held-out scores; with
    ``keep``, each partition's held-out fits stay in ``fits``."""
    span = (total["ds"].min(), total["ds"].max())
    held: list[HeldOut] = []
    forecasts, per_model, unplanned = [], [], []
    moves = 0
    replaced: dict[str, dict[str, str]] = {}
    served = selection.served_models()
    for i in range(len(parts)):
        part_reporter = reporter.sub(i / len(parts), (i + 1) / len(parts))
        df = parts.read(i)
        train, test = holdout_split(df, h)
        ids = pd.Index(train["unique_id"].unique())
        log.info("partition %d of %d: forecasting %d series", i + 1, len(parts), len(ids))
        own = profile.loc[ids]
        modelled = fitted_rows(train, own)
        previous = joblib.load(fits / f"fits-{i}.pkl")
        fitted = {}
        if len(modelled):
            last = {name: previous.get(name) for name in tuning}
            fitted = fit_models(modelled, spec, tuning, part_reporter, last, served)
        if keep:
            joblib.dump(fitted, fits / f"heldout-{i}.pkl")
        own_selection = joblib.load(fits / f"selection-{i}.pkl")
        on_rule = ruled_series(own, own_selection.choice)
        facts = SeriesFacts.of(train, spec, span, own, on_rule).in_panel(total)
        model = build_serving(
            fitted, own_selection, train, spec, h_val, own, quantiles=quantiles, facts=facts
        )
        future = known_future(train, test, h, spec) if spec.exog else None
        served_rows, members = model.forecast_with_members(h, future, every_model=True)
        without = model.forecast(h) if spec.exog and future is not None else None
        part = ForecastOutcome(served_rows, members, selection, tuning, {}, unplanned=without)
        held.append(HeldOut.of(part, train, test, spec.season_length))
        forecasts.append(served_rows)
        per_model.append(members)
        if without is not None:
            unplanned.append(without)
            moves += plan_moves(model)
        for name, series in members.attrs.get("diverged", {}).items():
            replaced.setdefault(name, {}).update(series)
        del df, train, test, modelled, previous, fitted, model, own_selection
        release_memory()
    outcome = ForecastOutcome(
        pd.concat(forecasts, ignore_index=True),
        pd.concat(per_model, ignore_index=True),
        selection,
        tuning,
        {},
        {name: result.seconds for name, result in tuning.items()},
        replaced=replaced,
        unplanned=pd.concat(unplanned, ignore_index=True) if unplanned else None,
        plan_moves=moves,
    )
    return HeldOut.joined(held), outcome
