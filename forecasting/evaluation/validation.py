"""Validation: each candidate on rolling-origin folds, the expensive ones on a sample first.

The cheap candidates are validated on every series. Each expensive model of the
default set is validated on a stratified sample of series (``forecasting.evaluation.screening``)
and goes on to the rest only where it wins there (``validate_models``). Then the selection
(``select_served``, over the folds of one panel or of all its partitions) chooses what
serves each series (``forecasting.evaluation.selection``).
"""

from __future__ import annotations

import logging

import pandas as pd

from forecasting.data.spec import DataSpec
from forecasting.errors import DataError
from forecasting.evaluation.backtest import fold_scales
from forecasting.evaluation.costs import Shape, validation_seconds
from forecasting.evaluation.options import TrainOptions
from forecasting.evaluation.screening import (
    MIN_BUDGET_SECONDS,
    Screen,
    judge,
    sample_size,
    stratified_sample,
    unaffordable,
)
from forecasting.evaluation.selection import Selection, select
from forecasting.evaluation.tuning import TuningResult, tune
from forecasting.models import MODELS, PAST_PLAN
from forecasting.progress import Cancelled, Pacing, Reporter

log = logging.getLogger(__name__)
#: an expensive model whose expected validation costs this many times the cheap models'
#: is left out without fitting its sample (ARIMA on 1,428 M3 series: 983 s against 69 s)
UNAFFORDABLE = 3.0


def validate_models(
    df: pd.DataFrame,
    spec: DataSpec,
    h: int,
    options: TrainOptions,
    pacing: Pacing | None = None,
    profile: pd.DataFrame | None = None,
    failed: dict[str, str] | None = None,
) -> tuple[dict[str, TuningResult], list[Screen], pd.DataFrame]:
    """Tune each model on rolling-origin folds of ``df``: the results, the screens of
    the expensive models and the folds' scales, for a selection to pool.

    The cheap candidates are validated on every series; each expensive model of the
    default set first on a sample (``forecasting.evaluation.screening``), and on the rest only
    where it wins there. ``pacing`` (``forecasting.evaluation.costs``) paces the progress
    reports.
    A model whose fit, validation or tuning fails is left out, with the reason in
    ``failed`` and the log; the others go on (a run fails only when none is left).
    """
    failed = {} if failed is None else failed
    names = options.model_names()
    if spec.exog:
        names += [name for name in PAST_PLAN if name not in names]
    pacing = pacing or Pacing(Reporter(), {})
    screened = [n for n in names if n in options.screened()]
    scales = fold_scales(df, h, options.n_windows, spec.season_length)
    validated = profile is None or (profile["ladder_step"] == "long").any()
    tuning: dict[str, TuningResult] = {}
    screens: list[Screen] = []

    def run(
        name: str, rows: pd.DataFrame, part: str, windows: int | None = None
    ) -> TuningResult | None:
        reporter = pacing.part(part)
        reporter.check_cancelled()
        reporter.report(0.0, f"validating {name}" + (" on a sample" if "screen" in part else ""))
        try:
            result = _tuned(name, rows, reporter, windows)
        except Cancelled:
            raise
        except Exception as exc:  # one model's failure is the model's, not the run's
            failed[name] = f"{type(exc).__name__}: {exc}"[:300]
            log.warning("%s left out: its validation failed (%s)", name, failed[name])
            reporter.report(1.0)
            return None
        reporter.report(1.0)
        log.info("%s validated in %.1fs (score %.4f)", name, result.seconds, result.score)
        return result

    def _tuned(name: str, rows: pd.DataFrame, reporter, windows: int | None) -> TuningResult:
        return tune(
            MODELS[name],
            rows,
            spec,
            h,
            windows or options.n_windows,
            scales,
            trials=options.trials if validated else 0,
            timeout=options.timeout,
            storage=options.storage,
            study_name=f"{options.study_prefix}-{name}" if options.storage else None,
            tune_series=options.tune_series,
            reporter=reporter,
        )

    cheap = [n for n in names if n not in screened]
    for name in cheap:
        result = run(name, df, f"validate {name}")
        if result is not None:
            tuning[name] = result
    if not tuning:
        raise DataError(
            "Every model failed to validate: "
            + "; ".join(f"{name}: {why}" for name, why in failed.items())
        )
    validated_ids = (
        profile.index[profile["ladder_step"] == "long"]
        if profile is not None
        else pd.Index(df["unique_id"].unique())
    )
    volume = df["y"].abs().groupby(df["unique_id"], sort=False).mean()
    for name in screened:
        size = sample_size(len(validated_ids))
        if size is None:  # little to spare: validate it whole
            result = run(name, df, f"validate {name}")
            if result is not None:
                tuning[name] = result
            continue
        classes = (
            profile
            if profile is not None
            else pd.DataFrame({"demand_class": "all"}, index=validated_ids)
        )
        sample = stratified_sample(classes, volume, validated_ids, size)
        budget = sum(r.seconds for n, r in tuning.items() if n in cheap)
        expected = validation_seconds(name, Shape.of(df, spec.season_length), options.n_windows, h)
        if expected > UNAFFORDABLE * max(budget, MIN_BUDGET_SECONDS):
            # clearly beyond what the cheap models cost: not even its sample is fitted
            screens.append(unaffordable(name, sample, len(validated_ids), expected, budget))
            log.info("screen: %s", screens[-1].describe())
            continue
        # the newest fold only: a third of the cost, and the fold most like the weeks ahead
        trial = run(name, df.loc[df["unique_id"].isin(sample)], f"screen {name}", 1)
        if trial is None:
            continue
        newest = options.n_windows - 1
        cvs = {n: r.cv.loc[r.cv["cutoff"] == newest] for n, r in tuning.items() if n in cheap}
        cvs[name] = trial.cv.assign(cutoff=newest)
        # validated on every series: a fit, a move to each later fold and to the held-out
        # window, where the sample took one fit on a few series
        whole = (
            len(validated_ids) / len(sample) * (1 + options.n_windows * MODELS[name].forward_share)
        )
        verdict = judge(
            name, cvs, scales, sample, trial.seconds, len(validated_ids), options.max_ensemble,
            trial.seconds * whole, budget,
        )  # fmt: skip
        screens.append(verdict)
        log.info("screen: %s", verdict.describe())
        if verdict.kept:  # the pacing grows by its validation on every series
            shape = Shape.of(df, spec.season_length)
            pacing.add(f"validate {name}", validation_seconds(name, shape, options.n_windows, h))
            result = run(name, df, f"validate {name}")
            if result is not None:
                tuning[name] = result
    return tuning, screens, scales


def select_served(
    tuning: dict[str, TuningResult],
    scales: pd.DataFrame,
    options: TrainOptions,
    profile: pd.DataFrame | None,
    drivers: bool,
) -> Selection:
    """What serves each series, chosen on the validation folds of ``tuning``; where
    ``drivers`` serve, also what serves the periods no plan covers."""
    cvs = {name: result.cv for name, result in tuning.items()}
    selection = _select(cvs, scales, options, profile)
    if drivers:
        free = {name: cv for name, cv in cvs.items() if not MODELS[name].uses_exog}
        if free:
            selection.beyond_plan = _select(free, scales, options, profile)
    for line in selection.describe_departures():
        log.info("choice: %s", line)
    counts = selection.choice.value_counts().to_dict()
    log.info("selected on the history before the held-out window: %s", counts)
    if selection.beyond_plan is not None:
        counts = selection.beyond_plan.choice.value_counts().to_dict()
        log.info("selected for the periods no plan covers (no drivers): %s", counts)
    return selection


def _select(
    cvs: dict[str, pd.DataFrame],
    scales: pd.DataFrame,
    options: TrainOptions,
    profile: pd.DataFrame | None,
) -> Selection:
    """The selection over ``cvs`` with the run's options."""
    return select(
        cvs,
        scales,
        options.selection,
        options.max_ensemble,
        profile,
        {name for name in cvs if MODELS[name].short_ok},
        seasonal={name for name in cvs if MODELS[name].needs_whole_season},
    )
