"""Shared fixtures: the bundled samples and small generated frames at each frequency."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from forecasting.frequency import frequency_from_alias
from forecasting.spec import DataSpec

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"


@pytest.fixture(scope="session")
def ecommerce_csv() -> Path:
    return SAMPLES / "ecommerce_sales_data.csv"


@pytest.fixture(scope="session")
def store_item_csv() -> Path:
    return SAMPLES / "store_item_daily.csv"


def make_frame(
    n_series: int = 3,
    periods: int = 120,
    alias: str = "D",
    seed: int = 0,
    exog: bool = False,
    start: str = "2022-01-07",
) -> pd.DataFrame:
    """Seasonal series with trend and noise; ``promo`` lifts sales and is known in advance."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, periods=periods, freq=alias)
    m = frequency_from_alias(alias).season_length
    frames = []
    for i in range(n_series):
        season = 10 * np.sin(2 * np.pi * np.arange(periods) / m)
        promo = (rng.random(periods) < 0.15).astype(float)
        y = 100 + 20 * i + 0.2 * np.arange(periods) + season + 15 * promo
        y = y + rng.normal(0, 2, periods)
        frame = pd.DataFrame({"unique_id": f"s{i}", "ds": dates, "y": y})
        if exog:
            frame["promo"] = promo
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def spec_for(alias: str = "D", exog: tuple[str, ...] = (), country: str | None = "US") -> DataSpec:
    return DataSpec(frequency_from_alias(alias), exog=exog, country=country)


@pytest.fixture(autouse=True)
def _serial_joblib():
    """Tests run model fits in-process: faster for tiny data and easier to debug."""
    with joblib.parallel_config(n_jobs=1):
        yield


# --- the system of record: SQLite file and a real PostgreSQL server ---------------------------

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://root@/postgres?host=/var/run/postgresql"
)
BACKENDS = ["sqlite", "postgresql"]


@contextmanager
def fresh_database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A new, empty database: a SQLite file, or a throwaway database on the PostgreSQL server."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'app.sqlite'}"
        return
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"sf_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> Iterator[str]:
    with fresh_database_url(request.param, tmp_path) as url:
        yield url
