"""Settings from environment variables, with defaults that work on a bare machine.

The one place the app, the command line and (later) the deployment read
configuration from. Paths default to ``./var`` under the working directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ValueError(
            f"Environment variable {name} must be a whole number, got {value!r}."
        ) from exc


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=lambda: Path(os.environ.get("DATA_DIR", "var")))
    database_url: str | None = field(default_factory=lambda: os.environ.get("DATABASE_URL"))
    mlflow_tracking_uri: str | None = field(
        default_factory=lambda: os.environ.get("MLFLOW_TRACKING_URI")
    )
    optuna_storage: str | None = field(default_factory=lambda: os.environ.get("OPTUNA_STORAGE"))
    cache_dir: Path | None = field(
        default_factory=lambda: (
            Path(os.environ["CACHE_DIR"]) if os.environ.get("CACHE_DIR") else None
        )
    )
    holiday_country: str = field(default_factory=lambda: os.environ.get("HOLIDAY_COUNTRY", "US"))
    #: public addresses of the MLflow UI and the Optuna dashboard, for links in the app
    mlflow_ui_url: str | None = field(default_factory=lambda: os.environ.get("MLFLOW_UI_URL"))
    optuna_dashboard_url: str | None = field(
        default_factory=lambda: os.environ.get("OPTUNA_DASHBOARD_URL")
    )
    max_upload_mb: int = field(default_factory=lambda: _int("MAX_UPLOAD_MB", 200))
    max_rows: int = field(default_factory=lambda: _int("MAX_ROWS", 5_000_000))
    max_columns: int = field(default_factory=lambda: _int("MAX_COLUMNS", 200))
    max_series: int = field(default_factory=lambda: _int("MAX_SERIES", 50_000))

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
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def mlflow_artifacts_dir(self) -> Path:
        return self.data_dir / "mlartifacts"


def load_settings() -> Settings:
    return Settings()
