"""Forecasts from the production model, for the command line and (next) the web app."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from forecasting.errors import DataError
from forecasting.serving import ServingModel
from pipeline.system import System
from storage import runs


def production_model(system: System) -> tuple[int, ServingModel, dict]:
    run_id = runs.production_run_id(system.db)
    if run_id is None:
        raise DataError("No model serves yet: train one first (python -m pipeline run --csv FILE).")
    run = runs.get_run(system.db, run_id)
    return run_id, system.artifacts.load(run_id, "serving"), run


def production_forecast(
    system: System,
    horizon: int,
    series: list[str] | None = None,
    model: str | None = None,
    future_csv: Path | None = None,
) -> tuple[pd.DataFrame, int]:
    if horizon < 1:
        raise DataError(f"--horizon must be at least 1, got {horizon}.")
    _, serving, run = production_model(system)
    future = None
    if serving.spec.exog:
        future = _future(system, serving, horizon, run["dataset_id"], future_csv)
    return serving.forecast(horizon, future, model=model, series=series), run["dataset_id"]


def _future(
    system: System, serving: ServingModel, h: int, dataset_id: int, path: Path | None
) -> pd.DataFrame:
    from pipeline.steps.forecast import assumed_future
    from pipeline.stored import resolve_dataset, training_frame

    if path is None:
        frame = training_frame(resolve_dataset(system.db, dataset_id))
        return assumed_future(frame, serving.spec, h)
    from forecasting.loading import load_csv

    first = serving.spec.exog[0]
    loaded = load_csv(path, target=first)
    return loaded.frame.rename(columns={"y": first})
