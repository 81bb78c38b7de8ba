"""Uploaded files: judged once, kept for the ingest run that stores them.

The page and the API hand an upload to ``accept``: its size is checked, it is
read, cleaned and checked (``DataError`` saying what is wrong; nothing kept),
and only then are its bytes written under a server-chosen name in
``DATA_DIR/uploads`` together with the checked data set. The ingest step of
the run that follows takes that checked data set instead of reading the
file again, when it is asked for the same columns and options.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import joblib

from forecasting.data.appending import Appended, Previous, append_actuals
from forecasting.data.dataset import Dataset, prepare
from forecasting.errors import DataError
from pipeline.options import RunOptions, limits_from
from pipeline.stored import resolve_dataset
from storage.database import Database
from storage.settings import Settings


def check_csv(raw: bytes, settings: Settings, opts: RunOptions) -> Dataset:
    """Load, clean and check; raises ``DataError`` saying what is wrong. Stores nothing."""
    reading = opts.reading.with_default_calendar(settings.holiday_country)
    return prepare(raw, reading, horizon=opts.horizon, limits=limits_from(settings))


def previous_version(db: Database, dataset_id: int) -> Previous:
    """The stored version new actuals go on top of (``pipeline.runs.resolve_append``
    names it)."""
    stored = resolve_dataset(db, dataset_id)
    return Previous.of(dataset_id, stored.info, stored.frame, stored.plan)


def check_append(raw: bytes, settings: Settings, opts: RunOptions, previous: Previous) -> Appended:
    """New actuals on top of ``previous``, checked as a whole file; stores nothing."""
    return append_actuals(previous, raw, limits=limits_from(settings), country=opts.reading.country)


def check(
    raw: bytes, settings: Settings, opts: RunOptions, db: Database | None
) -> Dataset | Appended:
    """A whole file, or with ``opts.append`` new actuals on top of ``opts.append_to``."""
    if not opts.append:
        return check_csv(raw, settings, opts)
    if db is None or opts.append_to is None:
        raise ValueError("an append is checked against a stored version: resolve it first")
    return check_append(raw, settings, opts, previous_version(db, opts.append_to))


#: the run options besides the reading that change how a file is checked
CHECKING = ("horizon", "windows", "append", "append_to")


def checked_path(path: Path, settings: Settings, opts: RunOptions) -> Path:
    """Where the checked data set of this file, read with these options, is kept."""
    reading = opts.reading.with_default_calendar(settings.holiday_country).to_dict()
    checking = {**reading, **{k: getattr(opts, k) for k in CHECKING}}
    key = hashlib.sha256(json.dumps(checking, sort_keys=True).encode()).hexdigest()[:16]
    return Path(path).with_name(f"{Path(path).stem}.{key}.checked")


def keep_checked(
    path: Path, settings: Settings, opts: RunOptions, data: Dataset | Appended
) -> None:
    target = checked_path(path, settings, opts)
    temp = target.with_name(f".{target.name}.{os.getpid()}")
    joblib.dump(data, temp)
    temp.replace(target)


def load_checked(path: Path, settings: Settings, opts: RunOptions) -> Dataset | Appended | None:
    """The data set checked from this file with these options, if one was kept."""
    target = checked_path(path, settings, opts)
    if not target.is_file():
        return None
    try:
        return joblib.load(target)
    except Exception:  # written by another version of the code: read the file again
        return None


@dataclass(frozen=True)
class Upload:
    """An accepted file: where its bytes are, its name as sent, and what validation found."""

    path: Path
    name: str
    report: dict
    drivers: list[str]
    notes: list[str]


def check_size(settings: Settings, raw: bytes) -> None:
    limit = settings.max_upload_mb * 1024 * 1024
    if len(raw) > limit:
        raise DataError(
            f"The file is {len(raw) / 2**20:.1f} MB; the limit is {settings.max_upload_mb} "
            "MB (MAX_UPLOAD_MB). Upload fewer rows or aggregate them."
        )


def judge(
    settings: Settings, raw: bytes, opts: RunOptions, db: Database | None = None
) -> Dataset | Appended:
    """The upload checked (its size, then the whole reading); ``DataError`` saying what is
    wrong when it is not. Nothing is kept."""
    check_size(settings, raw)
    return check(raw, settings, opts, db)


def keep(
    settings: Settings,
    raw: bytes,
    name: str,
    opts: RunOptions,
    checked: Dataset | Appended,
    calendar_from: int | None = None,
) -> Upload:
    """Keep a judged upload and its checked data set for the run that stores it;
    ``calendar_from``: the stored version whose calendar it was read with."""
    path = _keep(settings.uploads_dir, raw)
    keep_checked(path, settings, opts, checked)
    data = checked.dataset if isinstance(checked, Appended) else checked
    report = data.validation_report()
    notes = data.notes()
    if isinstance(checked, Appended):
        report["append"] = checked.report()
        notes.append(checked.describe())
    else:  # the server's calendar, not one the planner chose: the page says so
        report["country_default"] = opts.reading.country is None and bool(report.get("country"))
        report["country_from_version"] = calendar_from
    return Upload(
        path,
        Path(name).name or "upload.csv",
        json.loads(json.dumps(report, default=str)),
        list(data.loaded.mapping.drivers),
        notes,
    )


def dropped_history(stored: dict | None, report: dict) -> str | None:
    """What a whole file leaves out of the version it replaces: its earlier periods or some
    of its series, said before anything is stored (a stranger's Replace data with four
    weeks of 20 series threw away two years of 24, unsaid)."""
    if not stored:
        return None
    new = report["cleaning"]
    later = new["start"] > stored["start"]
    fewer = new["series"] < stored["series"]
    if not later and not fewer:
        return None
    return (
        f"this file replaces data set version {stored['id']} ({stored['series']} series, "
        f"{stored['start']} to {stored['end']}) with {new['series']} series from "
        f"{new['start']} to {new['end']}: "
        + ("the history before " + new["start"] if later else "")
        + (" and " if later and fewer else "")
        + (f"{stored['series'] - new['series']} series" if fewer else "")
        + " would no longer be stored. New periods on top of it go with Add new actuals "
        "(mode=append) instead"
    )


def _keep(folder: Path, raw: bytes) -> Path:
    """The bytes under a content-derived name (the sender's name is a label only)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(raw).hexdigest()[:32]}.csv"
    if not path.exists():
        _replace(path, raw)
    return path.resolve()


def _replace(target: Path, raw: bytes) -> None:
    temp = target.with_name(f".{target.name}.{os.getpid()}")
    temp.write_bytes(raw)
    temp.replace(target)
