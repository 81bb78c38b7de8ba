"""Model artifacts under ``DATA_DIR/models/<run_id>/``, written whole or not at all.

Files go to a hidden temporary directory first and the directory is renamed
into place when complete, so a reader never sees half a model and a killed
run leaves only a temporary directory (or, mid-replace, a temporary file in its run's
directory) that ``remove_partial`` sweeps away.
Only files this store wrote are ever loaded (never anything a user uploaded).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Collection
from pathlib import Path
from typing import Any

import joblib

TEMP_PREFIX = ".partial-"


class ArtifactStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, run_id: int) -> Path:
        return self.root / str(int(run_id))

    def save(self, run_id: int, objects: dict[str, Any]) -> Path:
        """Write ``name.joblib`` for each object, then publish the directory atomically."""
        self.root.mkdir(parents=True, exist_ok=True)
        final = self.path(run_id)
        if final.exists():
            raise FileExistsError(f"Artifacts of run {run_id} already exist at {final}.")
        temp = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{run_id}-", dir=self.root))
        try:
            for name, obj in objects.items():
                target = temp / f"{_safe(name)}.joblib"
                joblib.dump(obj, target)
                with open(target, "rb") as handle:
                    os.fsync(handle.fileno())
            os.rename(temp, final)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
        return final

    def replace(self, run_id: int, name: str, obj: Any) -> None:
        """Write one object of a published run again (a later step learned more about it):
        the new file is renamed over the old one, so a reader sees one or the other."""
        final = self.path(run_id) / f"{_safe(name)}.joblib"
        if not final.is_file():
            raise FileNotFoundError(f"Run {run_id} has no stored {name!r} to replace at {final}.")
        handle, temp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{run_id}-", dir=final.parent)
        os.close(handle)
        try:
            joblib.dump(obj, temp)
            with open(temp, "rb") as written:
                os.fsync(written.fileno())
            os.replace(temp, final)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def load(self, run_id: int, name: str) -> Any:
        target = self.path(run_id) / f"{_safe(name)}.joblib"
        if not target.is_file():
            raise FileNotFoundError(f"Run {run_id} has no stored {name!r} model at {target}.")
        return joblib.load(target)

    def remove_partial(self, writing: Collection[int] = ()) -> list[Path]:
        """Delete what runs that died mid-write left: temporary directories of a save and
        temporary files of a replace. ``writing``: runs still alive, whose files in
        progress are kept (a web worker that starts while a run saves its model)."""
        if not self.root.exists():
            return []
        inside = (p for d in self.root.iterdir() if d.is_dir() for p in d.iterdir())
        leftovers = [
            p
            for p in (*self.root.iterdir(), *inside)
            if p.name.startswith(TEMP_PREFIX) and _run_of(p.name) not in set(writing)
        ]
        for path in leftovers:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        return leftovers


def _run_of(temp_name: str) -> int | None:
    """The run a temporary name was made for (``.partial-<run>-...``)."""
    number = temp_name[len(TEMP_PREFIX) :].split("-", 1)[0]
    return int(number) if number.isdigit() else None


def _safe(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
    if not cleaned:
        raise ValueError(f"Unusable artifact name {name!r}")
    return cleaned
