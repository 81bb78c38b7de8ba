"""A catalogue's scratch folder does not outlive a killed backtest or run for long."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.scratch import BACKTEST, INGEST, TRAIN, scratch_folder

HOLDER = """
import sys, time
from pathlib import Path
from pipeline.scratch import scratch_folder
with scratch_folder(sys.argv[2], Path(sys.argv[1])) as folder:
    (folder / "partition-0.parquet").write_bytes(b"rows")
    print(folder, flush=True)
    time.sleep(120)
"""


def _killed_holder(tmp_path: Path, kind: str) -> Path:
    """The scratch folder of a process that made one and was killed with ``kill -9``."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path), kind], stdout=subprocess.PIPE, text=True
    )
    left = Path(holder.stdout.readline().strip())
    assert left.name.startswith(f"{kind}{holder.pid}-") and left.is_dir()
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    assert left.is_dir()  # kill -9: nothing ran to remove it
    return left


def test_the_next_scratch_folder_removes_those_of_processes_killed_with_kill_9(tmp_path):
    # a killed run's ingest and a killed backtest, whatever kind of work comes next
    left = [_killed_holder(tmp_path, kind) for kind in (INGEST, BACKTEST)]
    alive = tmp_path / f"{TRAIN}{os.getppid()}-other"  # a live process's: kept
    alive.mkdir()
    with scratch_folder(TRAIN, tmp_path) as mine:
        assert mine.name.startswith(f"{TRAIN}{os.getpid()}-") and mine.is_dir()
        assert not any(folder.exists() for folder in left) and alive.is_dir()
    assert not mine.exists()
    with (
        pytest.raises(ValueError, match="Unknown scratch folder kind"),
        scratch_folder("mine-", tmp_path),
    ):
        pass
