"""Scratch folders a killed process does not leave behind.

A catalogue's backtest writes its partitions and each partition's fitted models to a
scratch folder (hundreds of megabytes at M5's size). ``TemporaryDirectory``
removes it when the backtest ends, but not when the process is killed (``kill -9``,
the machine running out of memory). Each folder is named after the process that
owns it, and the next one to make a folder removes those of processes no longer
alive. A folder whose process id was taken since by another process stays until that
one ends: nothing a live process may own is removed.
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


@contextmanager
def scratch_folder(prefix: str, parent: Path | None = None) -> Iterator[Path]:
    """A folder ``<parent>/<prefix><pid>-...`` for this process, removed on leaving; the
    folders of dead processes with the same prefix are removed first."""
    parent = Path(parent or tempfile.gettempdir())
    remove_abandoned(prefix, parent)
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
