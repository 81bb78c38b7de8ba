from __future__ import annotations

import pytest

from storage.settings import load_settings


def test_defaults_work_on_a_bare_machine(monkeypatch, tmp_path):
    for name in (
        "DATA_DIR",
        "DATABASE_URL",
        "MLFLOW_TRACKING_URI",
        "OPTUNA_STORAGE",
        "CACHE_DIR",
        "MAX_ROWS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.resolved_database_url() == f"sqlite:///{tmp_path / 'var' / 'app.sqlite'}"
    assert settings.resolved_optuna_storage().endswith("var/optuna.sqlite")
    assert settings.max_rows == 5_000_000


def test_environment_overrides_and_bad_numbers_are_explained(monkeypatch, tmp_path):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@localhost/sales")
    monkeypatch.setenv("MAX_ROWS", "1000")
    settings = load_settings()
    assert settings.data_dir == tmp_path and settings.max_rows == 1000
    assert settings.resolved_database_url().startswith("postgresql+psycopg://")
    monkeypatch.setenv("MAX_ROWS", "lots")
    with pytest.raises(ValueError, match="MAX_ROWS must be a whole number"):
        load_settings()
