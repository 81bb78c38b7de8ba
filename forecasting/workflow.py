"""The forecasting workflow: tune and validate every model, select, refit, forecast with intervals.

``train_and_forecast`` is what the product runs on all history; ``backtest``
runs it on everything but the last ``h`` periods of every series and scores
the result on those held-out periods, which nothing before has seen.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import pandas as pd

from forecasting.backtest import fold_scales, split
from forecasting.intervals import LEVELS, coverage
from forecasting.metrics import evaluate, summarize
from forecasting.models import BASELINE, MODELS, Forecaster
from forecasting.progress import Reporter
from forecasting.selection import Selection, select
from forecasting.serving import SERVED as SELECTED
from forecasting.serving import ServingModel, serving_model
from forecasting.spec import DataSpec
from forecasting.tuning import TuningResult, tune

log = logging.getLogger(__name__)


@dataclass
class TrainOptions:
    models: tuple[str, ...] = tuple(MODELS)
    trials: int = 0
    timeout: float | None = None
    n_windows: int = 3
    selection: str = "global"
    max_ensemble: int = 3
    tune_series: int | None = 30
    storage: str | None = None
    study_prefix: str = "sales"

    def model_names(self) -> list[str]:
        unknown = [m for m in self.models if m not in MODELS]
        if unknown:
            raise ValueError(
                f"Unknown model(s) {', '.join(unknown)}; choose from {', '.join(MODELS)}."
            )
        return [BASELINE, *[m for m in dict.fromkeys(self.models) if m != BASELINE]]


@dataclass
class ForecastOutcome:
    """Everything a run produces: the served forecast, each model's, and how it was chosen."""

    forecast: pd.DataFrame
    per_model: pd.DataFrame
    selection: Selection
    tuning: dict[str, TuningResult]
    fitted: dict[str, Forecaster]
    seconds: dict[str, float] = field(default_factory=dict)
    serving: ServingModel | None = None

    def fallbacks(self) -> dict[str, dict[str, str]]:
        return {name: m.fallbacks_ for name, m in self.fitted.items() if m.fallbacks_}


def train_and_forecast(
    df: pd.DataFrame,
    spec: DataSpec,
    h: int,
    options: TrainOptions | None = None,
    future: pd.DataFrame | None = None,
    reporter: Reporter | None = None,
) -> ForecastOutcome:
    """Tune and cross-validate each model, select, refit on all of ``df`` and forecast ``h``."""
    options = options or TrainOptions()
    reporter = reporter or Reporter()
    tuning, selection = validate(df, spec, h, options, reporter.sub(0, 0.8))
    seconds = {name: result.seconds for name, result in tuning.items()}
    started = time.perf_counter()
    fitted = refit(df, spec, tuning, reporter.sub(0.8, 1.0))
    model = serving_model(fitted, selection, df, spec, h)
    served, per_model = model.forecast_with_members(h, future, every_model=True)
    seconds["refit"] = time.perf_counter() - started
    reporter.report(1.0, "forecast ready")
    return ForecastOutcome(served, per_model, selection, tuning, fitted, seconds, model)


def validate(
    df: pd.DataFrame,
    spec: DataSpec,
    h: int,
    options: TrainOptions,
    reporter: Reporter | None = None,
) -> tuple[dict[str, TuningResult], Selection]:
    """Tune each model on rolling-origin folds of ``df`` and choose what to serve."""
    reporter = reporter or Reporter()
    names = options.model_names()
    scales = fold_scales(df, h, options.n_windows, spec.season_length)
    tuning: dict[str, TuningResult] = {}
    for i, name in enumerate(names):
        reporter.check_cancelled()
        reporter.report(i / len(names), f"validating {name}")
        tuning[name] = tune(
            MODELS[name],
            df,
            spec,
            h,
            options.n_windows,
            scales,
            trials=options.trials,
            timeout=options.timeout,
            storage=options.storage,
            study_name=f"{options.study_prefix}-{name}" if options.storage else None,
            tune_series=options.tune_series,
            reporter=reporter.sub(i / len(names), (i + 1) / len(names)),
        )
        log.info(
            "%s validated in %.1fs (score %.4f)", name, tuning[name].seconds, tuning[name].score
        )
    cvs = {name: result.cv for name, result in tuning.items()}
    selection = select(cvs, scales, options.selection, options.max_ensemble)
    log.info("selected: %s", selection.choice.value_counts().to_dict())
    return tuning, selection


def refit(
    df: pd.DataFrame,
    spec: DataSpec,
    tuning: dict[str, TuningResult],
    reporter: Reporter | None = None,
) -> dict[str, Forecaster]:
    """Fit every model with its tuned parameters on all of ``df``."""
    reporter = reporter or Reporter()
    fitted: dict[str, Forecaster] = {}
    for i, (name, result) in enumerate(tuning.items()):
        reporter.check_cancelled()
        reporter.report(i / len(tuning), f"refitting {name}")
        started = time.perf_counter()
        fitted[name] = MODELS[name](**result.params).fit(df, spec)
        log.info("%s refitted on %d rows in %.1fs", name, len(df), time.perf_counter() - started)
    return fitted


@dataclass
class BacktestReport:
    """Held-out accuracy of every model and of the served forecast."""

    outcome: ForecastOutcome
    actuals: pd.DataFrame
    per_series: pd.DataFrame
    summary: pd.DataFrame
    coverage: dict[str, float]
    seconds: float

    def to_json(self, dataset: dict, h: int) -> dict:
        cols = ["mase", "rmsse", "wape", "smape", "mape", "mae", "rmse", "bias"]
        table = self.summary[cols].round(4)
        models = {name: table.loc[name].to_dict() for name in table.index if name != SELECTED}
        choice = self.outcome.selection.choice
        name = choice.iloc[0] if choice.nunique() == 1 else f"per-series ({choice.nunique()} kinds)"
        return {
            "dataset": dataset,
            "horizon": h,
            "models": models,
            "selected": {
                "name": name,
                "metrics": table.loc[SELECTED].to_dict(),
                "by_series": choice.value_counts().to_dict(),
            },
            "coverage": {k: round(v, 4) for k, v in self.coverage.items()},
            "seconds": round(self.seconds, 1),
        }


def backtest(
    df: pd.DataFrame,
    spec: DataSpec,
    h: int,
    options: TrainOptions | None = None,
    reporter: Reporter | None = None,
) -> BacktestReport:
    """Hold out the last ``h`` periods of every series, run the workflow on the rest, score."""
    started = time.perf_counter()
    train, test = split(df, h, h)
    outcome = train_and_forecast(
        train, spec, h, options, future=test if spec.exog else None, reporter=reporter
    )
    actuals = test[["unique_id", "ds", "y"]].merge(outcome.per_model, on=["unique_id", "ds"])
    actuals = actuals.merge(
        outcome.forecast.rename(columns={"yhat": SELECTED}), on=["unique_id", "ds"]
    )
    names = [*outcome.per_model.columns.drop(["unique_id", "ds"]), SELECTED]
    per_series = evaluate(actuals, train, names, spec.season_length)
    summary = summarize(per_series, actuals)
    cov = coverage(actuals, LEVELS)
    return BacktestReport(outcome, actuals, per_series, summary, cov, time.perf_counter() - started)
