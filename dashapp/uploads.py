"""Uploads: judged like any ingest, stored only when valid, never trusted as anything but CSV.

The browser's file name is kept as a label only; the bytes are written under
a server-chosen name in ``DATA_DIR/uploads`` (for a background run to read).
"""

from __future__ import annotations

import hashlib
import json

from dashapp.state import AppState
from forecasting.errors import DataError
from pipeline.options import RunOptions
from pipeline.steps.eda import analyse_and_save
from pipeline.steps.ingest import store_dataset, validate_csv

FORM_FIELDS = ("date", "target", "country", "gap_policy")


def options_from_form(form) -> RunOptions:
    kwargs = {k: form.get(k) for k in FORM_FIELDS if form.get(k)}
    if form.get("ids"):
        kwargs["ids"] = [s.strip() for s in form["ids"].split(",") if s.strip()]
    if form.get("exog"):
        kwargs["exog"] = [s.strip() for s in form["exog"].split(",") if s.strip()]
    return RunOptions(kind="eda", **kwargs)


def ingest_upload(state: AppState, raw: bytes, filename: str, form) -> tuple[int, dict]:
    """Validate, store and analyse an upload; ``DataError`` (nothing stored) when invalid."""
    check_size(state, raw)
    opts = options_from_form(form)
    data = validate_csv(raw, state.settings, opts)
    dataset_id = store_dataset(state.system.db, data, raw, filename)
    analyse_and_save(
        state.settings.reports_dir,
        dataset_id,
        data.frame,
        data.spec,
        data.cleaned.outliers,
        data.cleaned.report.to_dict(),
        data.loaded.mapping.target,
    )
    return dataset_id, json.loads(json.dumps(data.validation_report(), default=str))


def check_size(state: AppState, raw: bytes) -> None:
    limit = state.settings.max_upload_mb * 1024 * 1024
    if len(raw) > limit:
        raise DataError(
            f"The file is {len(raw) / 2**20:.1f} MB; the limit is {state.settings.max_upload_mb} "
            "MB (MAX_UPLOAD_MB). Upload fewer rows or aggregate them."
        )


def save_pending(state: AppState, raw: bytes) -> str:
    """Keep uploaded bytes under a content-derived name; returns the path for a run to read."""
    folder = state.settings.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(raw).hexdigest()[:32]}.csv"
    if not path.exists():
        temp = path.with_suffix(".tmp")
        temp.write_bytes(raw)
        temp.replace(path)
    return str(path.resolve())
