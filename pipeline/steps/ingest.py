"""Step ``ingest``: read, check and clean a CSV, then store it as a new data set version.

With ``append`` the file is new actuals on top of a stored version
(``forecasting.data.appending``): the new version holds that history with the new
periods, and records which version it grew from and what it revised.

A file is judged the way an upload is (``pipeline.uploads.check_csv``); for
an upload, what that validation produced was kept beside the file, and this
step uses it instead of reading the file a second time.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from forecasting.data.appending import Appended
from forecasting.data.catalogue import estimated_rows, read_catalogue
from forecasting.data.dataset import Dataset
from forecasting.data.frequency import check_horizon
from forecasting.data.partitions import Partitions
from forecasting.errors import DataError
from pipeline.context import RunContext
from pipeline.formatting import counted
from pipeline.options import RunOptions, limits_from
from pipeline.scratch import INGEST, scratch_folder
from pipeline.uploads import check, checked_path, load_checked
from storage import run_rows
from storage.database import Database
from storage.datasets import save_dataset


def store_dataset(
    db: Database,
    data: Dataset,
    raw: bytes | str,
    source_name: str,
    appended: Appended | None = None,
    parts: Partitions | None = None,
) -> int:
    """One transaction: the version row, its series, observations and drivers. ``raw``:
    the file's bytes, or their SHA-256; ``parts``: a catalogue's rows, stored a
    partition at a time (``data`` then has none)."""
    report = data.validation_report()
    digest = raw if isinstance(raw, str) else hashlib.sha256(raw).hexdigest()
    frames = (parts.read(i) for i in range(len(parts))) if parts is not None else data.frame
    return save_dataset(
        db,
        frame=frames,
        info={
            "source_name": Path(source_name).name[:255],  # a name only, never a path
            "sha256": digest,
            "mapping": report["detected"],
            "freq": data.spec.freq.alias,
            "country": data.spec.country,
            "cleaning": report["cleaning"],
            "parent_id": appended.base_id if appended else None,
            "appended": appended.report() if appended else None,
        },
        key_columns=list(data.spec.attributes),
        exog=list(data.spec.exog),
        outliers=data.cleaned.outliers,
        plan=data.plan,
        filled=getattr(data.cleaned, "filled", None),
    )


def ingest(ctx: RunContext, opts: RunOptions) -> int:
    path = Path(opts.csv)
    if not path.is_file():
        raise DataError(f"The file {path.name} does not exist or is not a file.")
    source = opts.source_name or path.name
    uploaded = path.resolve().parent == ctx.settings.uploads_dir.resolve()
    if not uploaded and not opts.append and estimated_rows(path) > opts.reading_rows:
        return _ingest_catalogue(ctx, opts, path, source, opts.reading_rows)
    raw = path.read_bytes()
    checked = load_checked(path, ctx.settings, opts) if uploaded else None
    if checked is None:
        ctx.report(0.1, f"read {len(raw):,} bytes from {source}")
        checked = check(raw, ctx.settings, opts, ctx.db)
    else:
        ctx.report(0.1, f"{source} ({len(raw):,} bytes) was checked on upload")
    appended = checked if isinstance(checked, Appended) else None
    data = appended.dataset if appended else checked
    if appended:
        ctx.log.info("%s", appended.describe())
    _log_reading(ctx, data, data.notes())
    ctx.check_cancelled()
    ctx.report(0.5, "storing the cleaned data")
    dataset_id = store_dataset(ctx.db, data, raw, source, appended)
    run_rows.update_run(ctx.db, ctx.run_id, dataset_id=dataset_id)
    if uploaded:
        checked_path(path, ctx.settings, opts).unlink(missing_ok=True)
    ctx.log.info("stored as data set version %d", dataset_id)
    return dataset_id


def _ingest_catalogue(ctx: RunContext, opts: RunOptions, path: Path, source: str, rows: int) -> int:
    """A file of more than ``rows`` rows: read into cleaned partitions of whole series of
    at most ``rows`` rows without ever holding it whole (``forecasting.data.catalogue``),
    and stored a partition at a time in one transaction. The limits that guard a whole
    reading in memory (bytes, rows) do not apply, the number of series does.

    The gap rules that compare series (a holiday most series miss is a closure; a
    period every series of a store misses is a lost record) are judged within each
    partition, so ``rows`` (``--reading-rows``) is its own setting, not the training
    partitions': a stranger's partitions of one to twenty series read Christmas as lost
    sales, and a store's outage as zeros."""
    reading = opts.reading.with_default_calendar(ctx.settings.holiday_country)
    with scratch_folder(INGEST) as folder:
        catalogue = read_catalogue(
            path, reading, folder / "partitions", rows=rows,
            limits=limits_from(ctx.settings), reporter=ctx.reporter().sub(0.0, 0.5),
        )  # fmt: skip
        data = catalogue.data
        if opts.horizon is not None:
            check_horizon(opts.horizon, data.spec.freq)
        ctx.log.info(
            "a catalogue of %s rows, read a partition of whole series at a time: %s",
            f"{data.cleaned.report.rows_out:,}", catalogue.partitions.describe(rows),
        )  # fmt: skip
        _log_reading(ctx, data, catalogue.notes())
        ctx.check_cancelled()
        ctx.report(0.5, "storing the cleaned data, a partition at a time")
        with open(path, "rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
        dataset_id = store_dataset(ctx.db, data, digest, source, parts=catalogue.partitions)
    run_rows.update_run(ctx.db, ctx.run_id, dataset_id=dataset_id)
    ctx.log.info("stored as data set version %d", dataset_id)
    return dataset_id


def _log_reading(ctx: RunContext, data: Dataset, notes: list[str]) -> None:
    """What was read how, and what cleaning did, in the run's log."""
    r = data.cleaned.report
    ctx.log.info("detected columns: %s", data.loaded.mapping.to_dict())
    for note in notes:
        ctx.log.info("%s", note)
    ctx.log.info(
        "%d series, %d rows, %s, %s to %s; %s without a value filled, %s summed, "
        "%s flagged, %s too short left out",
        r.series,
        r.rows_out,
        r.freq_name,
        r.start,
        r.end,
        counted(r.values_filled, "period"),
        counted(r.duplicate_periods_summed, "duplicate period"),
        counted(r.outliers_flagged, "outlier"),
        counted(len(r.dropped_series), "series", "series"),
    )
