"""Uploaded files: judged once, kept for the ingest run that stores them.

The page and the API hand an upload to ``accept``: its size is checked, it is
read, cleaned and validated (``DataError`` saying what is wrong; nothing kept),
and only then are its bytes written under a server-chosen name in
``DATA_DIR/uploads`` together with the validated data set. The ingest step of
the run that follows takes that validated data set instead of reading the
file again, when it is asked for the same columns and options.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from forecasting.errors import DataError
from pipeline.options import RunOptions
from pipeline.steps.ingest import keep_validated, validate_csv
from storage.settings import Settings


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


def accept(settings: Settings, raw: bytes, name: str, opts: RunOptions) -> Upload:
    """Validate an upload and keep it for a run; ``DataError`` (nothing kept) when invalid."""
    check_size(settings, raw)
    data = validate_csv(raw, settings, opts)
    path = _keep(settings.uploads_dir, raw)
    keep_validated(path, settings, opts, data)
    report = json.loads(json.dumps(data.validation_report(), default=str))
    return Upload(
        path,
        Path(name).name or "upload.csv",
        report,
        list(data.loaded.mapping.drivers),
        data.notes(),
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
