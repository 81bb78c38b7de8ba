"""The database schema (SQLAlchemy 2 declarative); Alembic migrations in ``storage/migrations``.

The same tables serve SQLite (the default) and PostgreSQL. Free-form details
(column mapping, cleaning summary, run options, metrics) are JSON columns:
they are shown and returned as a whole, never queried inside.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

RUN_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
ACTIVE_STATUSES = ("queued", "running")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict] = {
        dict: JSON,
        list: JSON,
        datetime: DateTime(timezone=True),
    }


class DatasetVersion(Base):
    """One uploaded file after loading and cleaning; observations hang off it."""

    __tablename__ = "dataset_versions"
    #: an id is never given twice (SQLite reuses the highest once its row is gone)
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    mapping: Mapped[dict]
    freq: Mapped[str] = mapped_column(String(16))
    exog: Mapped[list]
    attributes: Mapped[list]
    country: Mapped[str | None] = mapped_column(String(8))
    series_count: Mapped[int]
    row_count: Mapped[int]
    start: Mapped[datetime]
    end: Mapped[datetime]
    cleaning: Mapped[dict]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: the version new actuals were appended to (None: a whole file)
    parent_id: Mapped[int | None]
    #: what the append changed: new periods, revisions, new series
    appended: Mapped[dict | None]


class Series(Base):
    """A series of a data set version: its input id values and fixed attributes."""

    __tablename__ = "series"
    __table_args__ = (UniqueConstraint("dataset_id", "unique_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="CASCADE"), index=True
    )
    unique_id: Mapped[str] = mapped_column(String(255))
    keys: Mapped[dict]
    total: Mapped[float]


class Observation(Base):
    __tablename__ = "observations"
    __table_args__ = (Index("ix_observations_dataset_series_ds", "dataset_id", "unique_id", "ds"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset_versions.id", ondelete="CASCADE"))
    unique_id: Mapped[str] = mapped_column(String(255))
    ds: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    y: Mapped[float] = mapped_column(Float)
    is_outlier: Mapped[bool] = mapped_column(Boolean, default=False)
    #: a period the file had no value for, filled by the gap rule (interpolated or zero)
    is_filled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class PeriodSum(Base):
    """A data set version's sales summed per period over the total (``scope`` "") and
    over each group (``column=value``), written as it is stored: what the pages draw for
    a group, read without reading its rows (a web worker held every row, issue 30)."""

    __tablename__ = "period_sums"
    __table_args__ = (Index("ix_period_sums_dataset_scope_ds", "dataset_id", "scope", "ds"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset_versions.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(512))
    ds: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    y: Mapped[float] = mapped_column(Float)
    #: members whose value here the gap rule made up, and what it made up
    filled: Mapped[int] = mapped_column(Integer)
    filled_y: Mapped[float] = mapped_column(Float)
    #: members with a row here
    members: Mapped[int] = mapped_column(Integer)


class DriverValue(Base):
    """Known-in-advance drivers (price, promo, ...) in long form, one row per value."""

    __tablename__ = "driver_values"
    __table_args__ = (Index("ix_driver_values_dataset_series_ds", "dataset_id", "unique_id", "ds"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset_versions.id", ondelete="CASCADE"))
    unique_id: Mapped[str] = mapped_column(String(255))
    ds: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    name: Mapped[str] = mapped_column(String(255))
    value: Mapped[float] = mapped_column(Float)


class Run(Base):
    """One pass of the pipeline; the row exists before any work starts.

    ``active`` is True while the run is queued or running and NULL otherwise;
    its unique constraint is how the database refuses a second active run
    (NULLs never collide, in SQLite and PostgreSQL alike).
    """

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    active: Mapped[bool | None] = mapped_column(Boolean, unique=True, default=True)
    step: Mapped[str | None] = mapped_column(String(32))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str | None] = mapped_column(Text)
    options: Mapped[dict]
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("dataset_versions.id"))
    owner: Mapped[str | None] = mapped_column(String(255))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    #: when the run expects to end, from its progress so far (``pipeline.context``)
    expected_end: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    selected_model: Mapped[str | None] = mapped_column(String(255))
    metrics: Mapped[dict | None]
    mlflow_run_id: Mapped[str | None] = mapped_column(String(64))
    artifact_path: Mapped[str | None] = mapped_column(Text)
    step_seconds: Mapped[dict | None]


class ModelResult(Base):
    __tablename__ = "model_results"
    __table_args__ = (UniqueConstraint("run_id", "model"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    model: Mapped[str] = mapped_column(String(255))
    params: Mapped[dict]
    validation_score: Mapped[float | None]
    validation: Mapped[dict]
    test: Mapped[dict]
    trials: Mapped[int] = mapped_column(Integer, default=0)
    pruned: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float | None]
    study_name: Mapped[str | None] = mapped_column(String(255))
    mlflow_run_id: Mapped[str | None] = mapped_column(String(64))
    artifact_uri: Mapped[str | None] = mapped_column(Text)
    selected: Mapped[bool] = mapped_column(Boolean, default=False)
    #: series whose forecast diverged and was replaced: unique_id -> why
    diverged: Mapped[dict | None]
    #: drivers whose true held-out values the test scores used
    true_drivers: Mapped[list | None]


class ForecastPoint(Base):
    __tablename__ = "forecasts"
    __table_args__ = (Index("ix_forecasts_run_series_ds", "run_id", "unique_id", "ds"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    unique_id: Mapped[str] = mapped_column(String(255))
    ds: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    yhat: Mapped[float]
    lo80: Mapped[float | None]
    hi80: Mapped[float | None]
    lo95: Mapped[float | None]
    hi95: Mapped[float | None]
    model: Mapped[str | None] = mapped_column(String(255))


class Production(Base):
    """Which run serves: a single row (id 1), switched in one transaction."""

    __tablename__ = "production"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    promoted_at: Mapped[datetime] = mapped_column(default=utcnow)
    previous_run_id: Mapped[int | None]
