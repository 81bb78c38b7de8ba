"""Step ``ingest``: read, validate and clean a CSV, then store it as a new data set version."""

from __future__ import annotations

import hashlib
from pathlib import Path

from forecasting.dataset import prepare
from forecasting.errors import DataError
from forecasting.limits import Limits
from pipeline.context import RunContext
from pipeline.options import RunOptions
from storage import runs
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


def ingest(ctx: RunContext, opts: RunOptions) -> int:
    path = Path(opts.csv)
    if not path.is_file():
        raise DataError(f"The file {path} does not exist or is not a file.")
    raw = path.read_bytes()
    ctx.report(0.1, f"read {len(raw):,} bytes from {opts.source_name or path.name}")
    data = prepare(
        raw,
        horizon=opts.horizon,
        n_windows=opts.windows,
        holdout=True,
        date=opts.date,
        target=opts.target,
        ids=opts.ids,
        exog=opts.exog,
        country=country_option(opts.country, ctx.settings),
        gap_policy=opts.gap_policy,
        limits=limits_from(ctx.settings),
    )
    report = data.validation_report()
    r = data.cleaned.report
    ctx.log.info("detected columns: %s", report["detected"]["mapping"])
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
    mapping = data.loaded.mapping
    dataset_id = save_dataset(
        ctx.db,
        frame=data.frame,
        info={
            "source_name": (opts.source_name or path.name)[:255],
            "sha256": hashlib.sha256(raw).hexdigest(),
            "mapping": {**report["detected"], "mapping": mapping.to_dict()},
            "freq": data.spec.freq.alias,
            "country": data.spec.country,
            "cleaning": report["cleaning"],
        },
        key_columns=list(data.spec.attributes),
        exog=list(data.spec.exog),
        outliers=data.cleaned.outliers,
    )
    runs.update_run(ctx.db, ctx.run_id, dataset_id=dataset_id)
    ctx.log.info("stored as data set version %d", dataset_id)
    return dataset_id
