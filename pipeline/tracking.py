"""MLflow tracking of a run: a parent run, a nested run per model, the registered model.

The tracking store defaults to SQLite under ``DATA_DIR`` with artifacts in
``DATA_DIR/mlartifacts``; an ``http://`` tracking server works the same way.
``init_store`` creates the store once, up front: a fresh SQLite store migrated
by two processes at once races.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import pickle
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import Metric, Param
from mlflow.models import ModelSignature, infer_signature
from mlflow.types import ColSpec, Schema

from pipeline import pyfunc
from pipeline.registry import PRODUCTION_ALIAS, REGISTERED_MODEL
from storage.settings import Settings

EXPERIMENT = "sales-forecasting"
PYFUNC_FILE = str(Path(pyfunc.__file__).resolve())
#: the request columns of the pyfunc (``pipeline.pyfunc``); each driver adds its own
REQUEST_SPECS = [
    ColSpec("long", "horizon"),
    ColSpec("string", "series", required=False),
    ColSpec("string", "unique_id", required=False),
    ColSpec("string", "group", required=False),
    ColSpec("long", "level", required=False),
    ColSpec("string", "model", required=False),
]


def input_schema(drivers) -> Schema:
    """What MLflow's scoring server lets through to the model: every request field and
    every driver by name (a column the signature lacks is dropped before the model)."""
    return Schema([*REQUEST_SPECS, *(ColSpec("double", d, required=False) for d in drivers)])


REQUIREMENTS = ["salesforecast", "pandas", "numpy", "scikit-learn", "xgboost-cpu", "prophet"]

log = logging.getLogger(__name__)
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
# MLflow's advice on input examples and type hints: the signature is given explicitly.
warnings.filterwarnings("ignore", category=UserWarning, module=r"mlflow\.")
for noisy in ("mlflow", "alembic", "mlflow.store.db.utils"):
    logging.getLogger(noisy).setLevel(logging.WARNING)


def init_store(settings: Settings) -> str:
    """Point MLflow at the configured store, create it and the experiment; returns its id."""
    uri = settings.resolved_mlflow_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = MlflowClient(uri, uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    if experiment is not None:
        return experiment.experiment_id
    location = None
    if not uri.startswith(("http://", "https://", "databricks")):
        settings.mlflow_artifacts_dir.mkdir(parents=True, exist_ok=True)
        location = settings.mlflow_artifacts_dir.resolve().as_uri()
    try:
        return client.create_experiment(EXPERIMENT, artifact_location=location)
    except mlflow.exceptions.MlflowException:  # created meanwhile by another process
        return client.get_experiment_by_name(EXPERIMENT).experiment_id


class Tracker:
    """One pipeline run's MLflow parent run; ``model_run`` opens a nested run per model."""

    def __init__(self, settings: Settings, run_id: int):
        self.experiment_id = init_store(settings)
        self.run_id = run_id
        self.parent_id: str | None = None

    @contextmanager
    def parent(self, tags: dict) -> Iterator[str]:
        with mlflow.start_run(
            experiment_id=self.experiment_id,
            run_name=f"run-{self.run_id}",
            tags={"pipeline_run_id": str(self.run_id), **tags},
        ) as run:
            self.parent_id = run.info.run_id
            yield run.info.run_id

    @contextmanager
    def model_run(self, name: str) -> Iterator[str]:
        with mlflow.start_run(
            experiment_id=self.experiment_id,
            run_name=f"run-{self.run_id}-{name}",
            nested=True,
            tags={"model": name, "pipeline_run_id": str(self.run_id)},
        ) as run:
            yield run.info.run_id

    @staticmethod
    def log_params(params: dict) -> None:
        if params:
            mlflow.log_params({k: _short(v) for k, v in params.items()})

    @staticmethod
    def log_metrics(metrics: dict, prefix: str) -> None:
        clean = _metrics(metrics, prefix)
        if clean:
            mlflow.log_metrics(clean)

    @staticmethod
    def log_values(mlflow_id: str, params: dict, metrics: dict[str, dict]) -> None:
        """A run's parameters and its metrics by prefix in one write: four writes a model
        cost a third of a second over a run's fifteen models."""
        now = int(time.time() * 1000)
        values = {}
        for prefix, group in metrics.items():
            values |= _metrics(group, prefix)
        MlflowClient().log_batch(
            mlflow_id,
            metrics=[Metric(k, v, now, 0) for k, v in values.items()],
            params=[Param(k, _short(v)) for k, v in params.items()],
        )

    @staticmethod
    def log_figure(figure, name: str) -> None:
        mlflow.log_figure(figure, name)

    @staticmethod
    def log_dict(data: dict, name: str) -> None:
        mlflow.log_dict(data, name)

    @staticmethod
    def log_model(serving, keys: pd.DataFrame | None = None) -> str:
        """Log a forecasting pyfunc model in the active run; returns its model URI.
        ``keys`` (``unique_id`` and the attribute columns) lets it answer groups."""
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "serving.pkl"
            with open(path, "wb") as handle:
                pickle.dump(serving, handle, protocol=5)
            artifacts = {"serving": str(path)}
            if keys is not None:
                artifacts["keys"] = str(Path(tmp) / "keys.csv")
                keys.to_csv(artifacts["keys"], index=False)
            request = pd.DataFrame({"horizon": [1], "level": [95]})
            example = pyfunc.forecast_frame(serving, keys, request).head(3)
            signature = ModelSignature(
                input_schema(serving.spec.exog), infer_signature(None, example).outputs
            )
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=PYFUNC_FILE,
                artifacts=artifacts,
                pip_requirements=REQUIREMENTS,
                signature=signature,
            )
        return info.model_uri

    @staticmethod
    def register(model_uri: str) -> str:
        """Register a version of ``sales-forecaster``; the alias moves only on promotion."""
        with contextlib.redirect_stderr(io.StringIO()) as said:  # MLflow prints, not logs
            version = mlflow.register_model(model_uri, REGISTERED_MODEL)
        log.info("MLflow: %s", " ".join(said.getvalue().split()))
        return str(version.version)

    @staticmethod
    def set_production(version: str) -> None:
        MlflowClient().set_registered_model_alias(REGISTERED_MODEL, PRODUCTION_ALIAS, version)


def _metrics(metrics: dict, prefix: str) -> dict[str, float]:
    """``prefix_name``: value for the numbers among ``metrics`` (NaN left out)."""
    return {
        f"{prefix}_{k}": float(v)
        for k, v in metrics.items()
        if isinstance(v, int | float) and v == v
    }


def _short(value) -> str:
    text = str(value)
    return text if len(text) <= 500 else text[:497] + "..."
