"""Settings from environment variables, with defaults that work on a bare machine.

The one place the app, the command line and (later) the deployment read
configuration from. Paths default to ``./var`` under the working directory.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path


def _text(name: str, default: str | None = None) -> str | None:
    """A variable's value; unset and blank (``NAME=`` in an env file) both mean the default."""
    value = os.environ.get(name, "").strip()
    return value or default


def _int(name: str, default: int) -> int:
    value = _text(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ValueError(
            f"Environment variable {name} must be a whole number, got {value!r}."
        ) from exc


def _ids(name: str) -> tuple[int, ...]:
    """A comma-separated list of run ids."""
    value = _text(name)
    if value is None:
        return ()
    try:
        return tuple(int(part) for part in value.replace(" ", "").split(",") if part)
    except ValueError as exc:
        raise ValueError(
            f"Environment variable {name} must list run ids separated by commas, got {value!r}."
        ) from exc


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=lambda: Path(_text("DATA_DIR", "var")))
    database_url: str | None = field(default_factory=lambda: _text("DATABASE_URL"))
    mlflow_tracking_uri: str | None = field(default_factory=lambda: _text("MLFLOW_TRACKING_URI"))
    optuna_storage: str | None = field(default_factory=lambda: _text("OPTUNA_STORAGE"))
    cache_dir: Path | None = field(
        default_factory=lambda: Path(value) if (value := _text("CACHE_DIR")) else None
    )
    #: Flask's session key; the app falls back to a development key when unset
    secret_key: str | None = field(default_factory=lambda: _text("SECRET_KEY"))
    #: "production" makes a missing SECRET_KEY an error at start
    app_env: str = field(default_factory=lambda: _text("APP_ENV", "development"))
    #: when set, uploads, runs and cancels need it (bearer token or a signed-in session)
    admin_token: str | None = field(default_factory=lambda: _text("ADMIN_TOKEN"))
    holiday_country: str = field(default_factory=lambda: _text("HOLIDAY_COUNTRY", "US"))
    #: public addresses of the MLflow UI and the Optuna dashboard, for links in the app
    mlflow_ui_url: str | None = field(default_factory=lambda: _text("MLFLOW_UI_URL"))
    optuna_dashboard_url: str | None = field(default_factory=lambda: _text("OPTUNA_DASHBOARD_URL"))
    max_upload_mb: int = field(default_factory=lambda: _int("MAX_UPLOAD_MB", 200))
    max_rows: int = field(default_factory=lambda: _int("MAX_ROWS", 5_000_000))
    max_columns: int = field(default_factory=lambda: _int("MAX_COLUMNS", 200))
    max_series: int = field(default_factory=lambda: _int("MAX_SERIES", 50_000))
    #: a run whose heartbeat is older than this many seconds is shown as stalled
    run_stall_seconds: int = field(default_factory=lambda: _int("RUN_STALL_SECONDS", 120))
    #: set (``redis://host:6379/0``): runs are queued to Celery workers (``python -m
    #: pipeline worker``) and the pages' background jobs run on ``python -m dashapp worker``
    redis_url: str | None = field(default_factory=lambda: _text("REDIS_URL"))
    #: set (``tcp://host:8786``): runs fit their series on that Dask cluster
    dask_scheduler_address: str | None = field(
        default_factory=lambda: _text("DASK_SCHEDULER_ADDRESS")
    )

    #: retention: the model files, MLflow runs and stored forecasts of this many latest
    #: training runs are kept (``python -m pipeline prune``)
    keep_runs: int = field(default_factory=lambda: _int("KEEP_RUNS", 10))
    #: runs kept whatever their age, e.g. ``KEEP_RUN_IDS=3,17`` (a reference forecast)
    keep_run_ids: tuple[int, ...] = field(default_factory=lambda: _ids("KEEP_RUN_IDS"))
    #: "1": an append of new actuals also retrains (the append run trains and serves)
    retrain_after_append: bool = field(
        default_factory=lambda: _text("RETRAIN_AFTER_APPEND", "0").lower() in ("1", "true", "yes")
    )

    @property
    def stall_window(self) -> timedelta:
        """How long a run's heartbeat may be silent before it counts as abandoned."""
        return timedelta(seconds=self.run_stall_seconds)

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "app.sqlite"

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sqlite_path.resolve()}"

    def resolved_mlflow_uri(self) -> str:
        return (
            self.mlflow_tracking_uri or f"sqlite:///{(self.data_dir / 'mlflow.sqlite').resolve()}"
        )

    def resolved_optuna_storage(self) -> str:
        return self.optuna_storage or f"sqlite:///{(self.data_dir / 'optuna.sqlite').resolve()}"

    def resolved_cache_dir(self) -> Path:
        return self.cache_dir or self.data_dir / "cache"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def uploads_dir(self) -> Path:
        """Uploaded files waiting for (or read by) the run that ingests them."""
        return self.data_dir / "uploads"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def mlflow_artifacts_dir(self) -> Path:
        return self.data_dir / "mlartifacts"


def load_settings() -> Settings:
    return Settings()


def shell_assignments(settings: Settings) -> str:
    """The resolved locations as shell assignments, for deploy/run-local.sh."""
    values = {
        "DATA_DIR": settings.data_dir.resolve(),
        "DATABASE_URL": settings.resolved_database_url(),
        "MLFLOW_TRACKING_URI": settings.resolved_mlflow_uri(),
        "OPTUNA_STORAGE": settings.resolved_optuna_storage(),
        "MAX_UPLOAD_MB": settings.max_upload_mb,
    }
    return "\n".join(f"{name}={shlex.quote(str(value))}" for name, value in values.items())


if __name__ == "__main__":
    print(shell_assignments(load_settings()))
