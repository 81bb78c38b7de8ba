"""A trained run's record: a row per validated model for the database, and the same in
MLflow (nested runs, the held-out forecasts, the registered serving model)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from forecasting.evaluation.backtest import validation_metrics
from forecasting.evaluation.metrics import METRIC_NAMES
from forecasting.serving.model import SERVED
from pipeline import plots
from pipeline.tracking import Tracker
from pipeline.trained import Trained
from storage.datasets import plain


def metrics_of(row: pd.Series) -> dict:
    """The scores of a summary row, rounded, without the ones that could not be computed."""
    return {m: round(float(row[m]), 4) for m in METRIC_NAMES if m in row and pd.notna(row[m])}


def model_rows(trained: Trained) -> list[dict]:
    outcome = trained.report.outcome
    # the folds' scales at the horizon validation used (``TrainedOn``): shorter where no
    # series was long enough for the asked one (at the asked horizon none, the run failed)
    scales = trained.trained_on.scales
    served = set(trained.serving.served_models())
    diverged = outcome.diverged()
    rows = []
    for name, result in outcome.tuning.items():
        rows.append(
            {
                "model": name,
                "params": {k: plain(v) for k, v in result.params.items()},
                "validation_score": round(result.score, 6),
                "validation": {
                    k: round(v, 6) for k, v in validation_metrics(result.cv, scales).items()
                },
                "test": metrics_of(trained.report.summary.loc[name]),
                "trials": result.trials,
                "pruned": result.pruned,
                "seconds": round(outcome.seconds.get(name, result.seconds), 2),
                "study_name": result.study_name,
                "selected": name in served,
                "diverged": diverged.get(name, {}),
                "true_drivers": _scored_with(trained.serving.fitted.get(name)),
            }
        )
    return rows


def _scored_with(model) -> list[str]:
    """The drivers whose true held-out values a model's test score used: a forecast has
    them only where a plan gives them (a stranger's Models page ranked linear_trend's
    0.665 with the true prices beside driver-free scores, while 1.028 served)."""
    spec = getattr(model, "spec_", None)
    return list(spec.exog) if spec is not None and model.uses_exog else []


def track(
    tracker: Tracker,
    trained: Trained,
    rows: list[dict],
    served: dict,
    coverage: dict,
    say: Callable[[float, str], None],
) -> str:
    """A nested MLflow run per model (parameters, metrics, the held-out forecast as data,
    a figure of it where the model serves); one pyfunc on the parent, registered, that
    answers for every fitted model (``model=`` in the request): a copy per model cost
    0.3 s each, a third of a one-series run, and answered nothing more. A figure for every
    candidate cost 0.25-0.4 s each, a quarter of a one-series run."""
    report = trained.report
    # the figures draw the total: the rows before the held-out window summed per period
    # (a copy of the rows held +2 GB at 16 million rows while the models were logged)
    train, keys = trained.trained_on.total, trained.trained_on.keys
    # the held-out fits; a catalogue's are not kept past each partition: its final ones
    fitted = report.outcome.fitted or trained.serving.fitted
    # the nested runs are about half the seconds, the model and its registration the rest
    for k, row in enumerate(rows):
        name = row["model"]
        say(0.5 * k / len(rows), f"logging {name} to MLflow ({k + 1} of {len(rows)})")
        with tracker.model_run(name) as mlflow_id:
            tracker.log_values(
                mlflow_id,
                row["params"],
                {
                    "validation": row["validation"],
                    "test": row["test"],
                    "tuning": {"trials": row["trials"], "pruned": row["pruned"]},
                },
            )
            tracker.log_dict(plots.heldout_totals(report.actuals, name), "heldout.json")
            if row["selected"]:
                title = f"{name}: held-out forecast"
                fig = plots.forecast_plot(train, report.actuals, name, title)
                tracker.log_figure(fig, "forecast.png")
                plots.close(fig)
            importance = fitted[name].feature_importance()
            if importance is not None:
                tracker.log_dict(importance.round(6).to_dict(), "feature_importance.json")
                fig = plots.importance_plot(importance, f"{name}: feature importance")
                tracker.log_figure(fig, "feature_importance.png")
                plots.close(fig)
            row["mlflow_run_id"] = mlflow_id
    tracker.log_metrics(served, "test")
    tracker.log_metrics(coverage, "test")
    fig = plots.forecast_plot(train, report.actuals, SERVED, "served forecast, held out")
    tracker.log_figure(fig, "forecast.png")
    plots.close(fig)
    say(0.5, "saving the serving model in MLflow")
    uri = tracker.log_model(trained.serving, keys)
    say(0.9, "registering the model in MLflow")
    for row in rows:
        row["artifact_uri"] = uri  # the run's model; ask it with model=<name>
    return tracker.register(uri)
