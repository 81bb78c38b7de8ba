"""Scratch folders a killed process does not leave behind.

A catalogue's backtest, and a run's ingest and training, write partitions and each
partition's fitted models to a scratch folder (gigabytes at M5's size).
``TemporaryDirectory`` removes it when the work ends, but not when the process is
killed (``kill -9``, the machine running out of memory). Each folder is named after
its kind and the process that owns it, and the next folder made, of any kind, removes
those of processes no longer alive. A folder whose process id was taken since by
another process stays until that one ends: nothing a live process may own is removed.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)


#: the kinds of scratch folder, their names' prefixes: a backtest's, a run's ingest's
#: and a run's training's
BACKTEST, INGEST, TRAIN = "backtest-", "ingest-", "train-"
KINDS = (BACKTEST, INGEST, TRAIN)


@contextmanager
def scratch_folder(prefix: str, parent: Path | None = None) -> Iterator[Path]:
    """A folder ``<parent>/<prefix><pid>-...`` for this process, removed on leaving; the
    folders of dead processes, of every kind, are removed first."""
    if prefix not in KINDS:
        raise ValueError(f"Unknown scratch folder kind {prefix!r}; one of {', '.join(KINDS)}.")
    parent = Path(parent or tempfile.gettempdir())
    for kind in KINDS:
        remove_abandoned(kind, parent)
    folder = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def remove_abandoned(prefix: str, parent: Path) -> list[Path]:
    """Remove ``prefix<pid>-*`` folders whose process has ended; returns them."""
    removed = []
    for folder in parent.glob(f"{prefix}*-*"):
        pid = folder.name[len(prefix) :].split("-", 1)[0]
        if folder.is_dir() and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
            log.info("removed %s, left by process %s that ended without cleaning up", folder, pid)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True
