"""A catalogue's scratch folder does not outlive a killed backtest for long."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from pipeline.scratch import scratch_folder

HOLDER = """
import sys, time
from pathlib import Path
from pipeline.scratch import scratch_folder
with scratch_folder("backtest-", Path(sys.argv[1])) as folder:
    (folder / "partition-0.parquet").write_bytes(b"rows")
    print(folder, flush=True)
    time.sleep(120)
"""


def test_the_next_backtest_removes_the_folder_of_one_killed_with_kill_9(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    left = Path(holder.stdout.readline().strip())
    assert left.name.startswith(f"backtest-{holder.pid}-") and left.is_dir()
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    assert left.is_dir()  # kill -9: nothing ran to remove it

    alive = tmp_path / f"backtest-{os.getppid()}-other"  # a live process's: kept
    alive.mkdir()
    with scratch_folder("backtest-", tmp_path) as mine:
        assert mine.name.startswith(f"backtest-{os.getpid()}-") and mine.is_dir()
        assert not left.exists() and alive.is_dir()
    assert not mine.exists()
