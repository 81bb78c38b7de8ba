"""The MLflow side of promotion and retention: which model version a run registered,
moving the ``production`` alias, and forgetting the runs retention removes.

MLflow is imported inside the functions: the web workers and the command line's quick
commands load it only when a promotion or a prune asks for it.
"""

from __future__ import annotations

import logging

from storage.settings import Settings

REGISTERED_MODEL = "sales-forecaster"
PRODUCTION_ALIAS = "production"

log = logging.getLogger(__name__)


def _client(settings: Settings):
    from mlflow import MlflowClient

    uri = settings.resolved_mlflow_uri()
    return MlflowClient(uri, uri)


def version_of(settings: Settings, mlflow_run_id: str | None) -> str | None:
    """The ``sales-forecaster`` version a pipeline run registered (None: none)."""
    if not mlflow_run_id:
        return None
    found = _client(settings).search_model_versions(
        f"name='{REGISTERED_MODEL}' and run_id='{mlflow_run_id}'"
    )
    return str(max(int(v.version) for v in found)) if found else None


def production_version(settings: Settings) -> str | None:
    from mlflow.exceptions import MlflowException

    try:
        found = _client(settings).get_model_version_by_alias(REGISTERED_MODEL, PRODUCTION_ALIAS)
    except MlflowException:  # no registered model or no alias yet
        return None
    return str(found.version)


def move_alias(settings: Settings, version: str) -> None:
    _client(settings).set_registered_model_alias(REGISTERED_MODEL, PRODUCTION_ALIAS, version)


def forget(settings: Settings, mlflow_run_ids: list[str]) -> int:
    """Delete the registered versions and the runs (with their nested model runs, and so
    their artifacts once MLflow's garbage collection runs) of these pipeline runs."""
    from mlflow.exceptions import MlflowException

    client = _client(settings)
    removed = 0
    for parent in mlflow_run_ids:
        try:
            for version in client.search_model_versions(
                f"name='{REGISTERED_MODEL}' and run_id='{parent}'"
            ):
                client.delete_model_version(REGISTERED_MODEL, version.version)
            run = client.get_run(parent)
            children = client.search_runs(
                [run.info.experiment_id], f"tags.mlflow.parentRunId = '{parent}'"
            )
            for child in children:
                client.delete_run(child.info.run_id)
            client.delete_run(parent)
            removed += 1
        except MlflowException as exc:  # already gone, or a store that refuses
            log.warning("MLflow run %s: %s", parent, exc)
    return removed
