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
from forecasting.data.dataset import Dataset
from forecasting.errors import DataError
from pipeline.context import RunContext
from pipeline.formatting import counted
from pipeline.options import RunOptions
from pipeline.uploads import check, checked_path, load_checked
from storage import run_rows
from storage.database import Database
from storage.datasets import save_dataset


def store_dataset(
    db: Database, data: Dataset, raw: bytes, source_name: str, appended: Appended | None = None
) -> int:
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
    raw = path.read_bytes()
    source = opts.source_name or path.name
    uploaded = path.resolve().parent == ctx.settings.uploads_dir.resolve()
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
    r = data.cleaned.report
    ctx.log.info("detected columns: %s", data.loaded.mapping.to_dict())
    for note in data.notes():
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
    ctx.check_cancelled()
    ctx.report(0.5, "storing the cleaned data")
    dataset_id = store_dataset(ctx.db, data, raw, source, appended)
    run_rows.update_run(ctx.db, ctx.run_id, dataset_id=dataset_id)
    if uploaded:
        checked_path(path, ctx.settings, opts).unlink(missing_ok=True)
    ctx.log.info("stored as data set version %d", dataset_id)
    return dataset_id
