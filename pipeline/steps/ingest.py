"""Step ``ingest``: read, validate and clean a CSV, then store it as a new data set version.

``validate_csv`` and ``store_dataset`` are also what an upload through the web
app or the API calls, so a file is judged the same way everywhere.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from forecasting.dataset import Dataset, prepare
from forecasting.errors import DataError
from forecasting.limits import Limits
from pipeline.context import RunContext
from pipeline.options import RunOptions
from storage import runs
from storage.database import Database
from storage.datasets import save_dataset
from storage.settings import Settings


def limits_from(settings: Settings) -> Limits:
    return Limits(
        max_bytes=settings.max_upload_mb * 1024 * 1024,
        max_rows=settings.max_rows,
        max_columns=settings.max_columns,
        max_series=settings.max_series,
    )


def country_option(value: str | None, settings: Settings) -> str | None:
    country = value or settings.holiday_country
    return None if country.lower() == "none" else country


def validate_csv(raw: bytes, settings: Settings, opts: RunOptions) -> Dataset:
    """Load, clean and validate; raises ``DataError`` saying what is wrong. Stores nothing."""
    return prepare(
        raw,
        horizon=opts.horizon,
        date=opts.date,
        target=opts.target,
        ids=opts.ids,
        exog=opts.exog,
        country=country_option(opts.country, settings),
        gap_policy=opts.gap_policy,
        limits=limits_from(settings),
    )


def store_dataset(db: Database, data: Dataset, raw: bytes, source_name: str) -> int:
    """One transaction: the version row, its series, observations and drivers."""
    report = data.validation_report()
    return save_dataset(
        db,
        frame=data.frame,
        info={
            "source_name": Path(source_name).name[:255],  # a name only, never a path
            "sha256": hashlib.sha256(raw).hexdigest(),
            "mapping": report["detected"],
            "freq": data.spec.freq.alias,
            "country": data.spec.country,
            "cleaning": report["cleaning"],
        },
        key_columns=list(data.spec.attributes),
        exog=list(data.spec.exog),
        outliers=data.cleaned.outliers,
    )


def ingest(ctx: RunContext, opts: RunOptions) -> int:
    path = Path(opts.csv)
    if not path.is_file():
        raise DataError(f"The file {path.name} does not exist or is not a file.")
    raw = path.read_bytes()
    source = opts.source_name or path.name
    ctx.report(0.1, f"read {len(raw):,} bytes from {source}")
    data = validate_csv(raw, ctx.settings, opts)
    r = data.cleaned.report
    ctx.log.info("detected columns: %s", data.loaded.mapping.to_dict())
    for note in data.notes():
        ctx.log.info("%s", note)
    ctx.log.info(
        "%d series, %d rows, %s, %s to %s; %d gaps filled, %d duplicate periods summed, "
        "%d outliers flagged, %d series too short left out",
        r.series,
        r.rows_out,
        r.freq_name,
        r.start,
        r.end,
        r.gaps_filled,
        r.duplicate_periods_summed,
        r.outliers_flagged,
        len(r.dropped_series),
    )
    ctx.check_cancelled()
    ctx.report(0.5, "storing the cleaned data")
    dataset_id = store_dataset(ctx.db, data, raw, source)
    runs.update_run(ctx.db, ctx.run_id, dataset_id=dataset_id)
    ctx.log.info("stored as data set version %d", dataset_id)
    return dataset_id
