"""Step ``ingest``: read, validate and clean a CSV, then store it as a new data set version.

``validate_csv`` is also how an upload through the web app or the API is
judged (``pipeline/uploads.py``), so a file is judged the same way everywhere;
what that validation produced is kept beside the file, and this step uses it
instead of reading the file a second time.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import joblib

from forecasting.dataset import Dataset, prepare
from forecasting.errors import DataError
from pipeline.context import RunContext
from pipeline.options import RunOptions, country_option, limits_from
from storage import runs
from storage.database import Database
from storage.datasets import save_dataset
from storage.settings import Settings


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


#: the options that change how a file is read and cleaned
READING = ("date", "target", "ids", "exog", "country", "gap_policy", "horizon", "windows")


def validated_path(path: Path, settings: Settings, opts: RunOptions) -> Path:
    """Where the validated data set of this file, read with these options, is kept."""
    reading = {k: getattr(opts, k) for k in READING}
    reading["country"] = country_option(opts.country, settings)
    key = hashlib.sha256(json.dumps(reading, sort_keys=True).encode()).hexdigest()[:16]
    return Path(path).with_name(f"{Path(path).stem}.{key}.validated")


def keep_validated(path: Path, settings: Settings, opts: RunOptions, data: Dataset) -> None:
    target = validated_path(path, settings, opts)
    temp = target.with_name(f".{target.name}.{os.getpid()}")
    joblib.dump(data, temp)
    temp.replace(target)


def load_validated(path: Path, settings: Settings, opts: RunOptions) -> Dataset | None:
    """The data set validated from this file with these options, if one was kept."""
    target = validated_path(path, settings, opts)
    if not target.is_file():
        return None
    try:
        return joblib.load(target)
    except Exception:  # written by another version of the code: read the file again
        return None


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
        plan=data.plan,
    )


def ingest(ctx: RunContext, opts: RunOptions) -> int:
    path = Path(opts.csv)
    if not path.is_file():
        raise DataError(f"The file {path.name} does not exist or is not a file.")
    raw = path.read_bytes()
    source = opts.source_name or path.name
    uploaded = path.resolve().parent == ctx.settings.uploads_dir.resolve()
    data = load_validated(path, ctx.settings, opts) if uploaded else None
    if data is None:
        ctx.report(0.1, f"read {len(raw):,} bytes from {source}")
        data = validate_csv(raw, ctx.settings, opts)
    else:
        ctx.report(0.1, f"{source} ({len(raw):,} bytes) was validated on upload")
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
    if uploaded:
        validated_path(path, ctx.settings, opts).unlink(missing_ok=True)
    ctx.log.info("stored as data set version %d", dataset_id)
    return dataset_id
