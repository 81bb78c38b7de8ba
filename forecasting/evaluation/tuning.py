"""Optuna tuning of one model on rolling-origin folds inside the training window.

Each fold's score is reported as an intermediate value, so the median pruner
stops poor trials after their first fold. The model's default parameters are
always the first trial, so tuning can only match or beat them on validation.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import optuna
import pandas as pd

from forecasting.data.spec import DataSpec
from forecasting.evaluation.backtest import cross_validate, validation_score
from forecasting.models.base import Forecaster
from forecasting.models.local import LocalForecaster
from forecasting.progress import Reporter

log = logging.getLogger(__name__)
optuna.logging.set_verbosity(optuna.logging.WARNING)


@dataclass
class TuningResult:
    params: dict
    cv: pd.DataFrame
    score: float
    trials: int = 0
    pruned: int = 0
    seconds: float = 0.0
    study_name: str | None = None
    #: series whose validation forecast diverged and was replaced (see ``Forecaster``)
    diverged: dict[str, str] = field(default_factory=dict)
    #: the model as fitted for the last fold, with the chosen parameters: the held-out
    #: window and production move it forward instead of fitting again
    model: Forecaster | None = None


def tune(
    cls: type[Forecaster],
    df: pd.DataFrame,
    spec: DataSpec,
    h: int,
    n_windows: int,
    scales: pd.DataFrame,
    *,
    trials: int = 0,
    timeout: float | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    tune_series: int | None = 30,
    reporter: Reporter | None = None,
    seed: int = 0,
) -> TuningResult:
    """Best parameters by validation score, with that model's CV forecasts on every series."""
    reporter = reporter or Reporter()
    started = time.perf_counter()
    tuned = _tuned_parameters(cls, spec)
    diverged: dict[str, str] = {}
    last: list[Forecaster] = []
    if trials <= 0 or not tuned:
        cv = cross_validate(
            lambda: cls(),
            df,
            spec,
            h,
            n_windows,
            on_fold=lambda f, _: _fold_done(reporter, f, n_windows),
            diverged=diverged,
            last=last,
        )
        score = float(validation_score(cv, scales).mean())
        return TuningResult(
            {},
            cv,
            score,
            seconds=time.perf_counter() - started,
            diverged=diverged,
            model=last[-1] if last else None,
        )

    subset = _tuning_subset(cls, df, tune_series, seed)
    best_cv: dict = {}

    def objective(trial: optuna.Trial) -> float:
        reporter.check_cancelled()
        params = cls.search_space(trial, spec)
        parts: list[pd.DataFrame] = []

        def on_fold(fold: int, out: pd.DataFrame) -> None:
            reporter.check_cancelled()
            parts.append(out)
            so_far = float(validation_score(pd.concat(parts), scales).mean())
            trial.report(so_far, fold)
            if trial.should_prune():
                raise optuna.TrialPruned()

        seen: dict[str, str] = {}
        fitted: list[Forecaster] = []
        cv = cross_validate(
            lambda: cls(**params),
            subset,
            spec,
            h,
            n_windows,
            on_fold=on_fold,
            diverged=seen,
            last=fitted,
        )
        score = float(validation_score(cv, scales).mean())
        if not np.isfinite(score):
            raise optuna.TrialPruned()
        if "score" not in best_cv or score < best_cv["score"]:
            best_cv.update(
                score=score,
                cv=cv,
                params=params,
                diverged=seen,
                model=fitted[-1] if fitted else None,
            )
        return score

    study = optuna.create_study(
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=0),
        storage=storage,
        study_name=study_name,
        load_if_exists=False,
    )
    defaults = {k: v for k, v in cls().get_params().items() if k in tuned}
    study.enqueue_trial(defaults, skip_if_exists=True)
    done = {"n": 0}

    def callback(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        done["n"] += 1
        reporter.report(done["n"] / trials, f"{cls.name}: trial {done['n']}/{trials}")

    study.optimize(
        objective,
        n_trials=trials,
        timeout=timeout,
        callbacks=[callback],
        catch=(ValueError, np.linalg.LinAlgError),
    )
    states = [t.state for t in study.trials]
    pruned = sum(s == optuna.trial.TrialState.PRUNED for s in states)
    if "cv" not in best_cv:
        raise RuntimeError(f"Every tuning trial of {cls.name} failed or was pruned.")
    params = best_cv["params"]
    cv = best_cv["cv"]
    diverged = best_cv["diverged"]
    model = best_cv["model"]
    if len(subset) != len(df):
        diverged = {}
        cv = cross_validate(
            lambda: cls(**params), df, spec, h, n_windows, diverged=diverged, last=last
        )
        model = last[-1] if last else None
    score = float(validation_score(cv, scales).mean())
    log.info(
        "%s: %d trials (%d pruned), best validation score %.4f with %s",
        cls.name,
        len(states),
        pruned,
        score,
        params,
    )
    return TuningResult(
        params,
        cv,
        score,
        len(states),
        pruned,
        time.perf_counter() - started,
        study.study_name,
        diverged,
        model,
    )


def _fold_done(reporter: Reporter, fold: int, n_windows: int) -> None:
    reporter.check_cancelled()
    reporter.report((fold + 1) / n_windows)


def _tuned_parameters(cls: type[Forecaster], spec: DataSpec) -> set[str]:
    """Parameter names the model tunes (empty when it has nothing to tune)."""
    names: set[str] = set()

    class Recorder:
        def __getattr__(self, attr):
            def suggest(name, *args, **kwargs):
                names.add(name)
                choices = kwargs.get("choices", args[0] if args else None)
                if attr == "suggest_categorical":
                    return choices[0]
                return args[0] if args else kwargs.get("low")

            return suggest

    cls.search_space(Recorder(), spec)
    return names


def _tuning_subset(cls: type[Forecaster], df: pd.DataFrame, limit: int | None, seed: int):
    """Tune on a sample of series: cost grows with each series, good parameters much less.

    Global models see ten times more series than per-series ones, since they
    learn across series and are cheap per series.
    """
    ids = df["unique_id"].unique()
    if limit is not None and not issubclass(cls, LocalForecaster):
        limit *= 10
    if limit is None or len(ids) <= limit:
        return df
    chosen = np.random.default_rng(seed).choice(ids, size=limit, replace=False)
    return df.loc[df["unique_id"].isin(chosen)]
