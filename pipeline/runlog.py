"""Per-run log files: ``DATA_DIR/logs/<run_id>.log``, written with ``logging``, read by offset.

A client tails a run by asking for the bytes after the offset it last saw;
only whole lines are returned, so a line is never split between two reads.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(message)s"
#: library loggers whose messages belong in a run's log
CAPTURED = ("forecasting", "pipeline")
MAX_READ = 1 << 20


def log_path(logs_dir: Path, run_id: int) -> Path:
    return Path(logs_dir) / f"{int(run_id)}.log"


def stderr_path(logs_dir: Path, run_id: int) -> Path:
    """What the run's process wrote outside logging (warnings, a crash's last words)."""
    return Path(logs_dir) / f"{int(run_id)}.stderr"


@contextmanager
def run_logging(logs_dir: Path, run_id: int) -> Iterator[logging.Logger]:
    """Route the run's and the library's log records to the run's file while it executes."""
    path = log_path(logs_dir, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(FORMAT, datefmt="%Y-%m-%d %H:%M:%S"))
    handler.setLevel(logging.INFO)
    loggers = [logging.getLogger(name) for name in CAPTURED]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        if lg.getEffectiveLevel() > logging.INFO:
            lg.setLevel(logging.INFO)
    try:
        yield logging.getLogger(f"pipeline.run.{run_id}")
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)
        handler.close()


def append_line(logs_dir: Path, run_id: int, message: str) -> None:
    """One more line in an ended run's log (a promotion by hand, a prune), formatted as
    its own lines are."""
    path = log_path(logs_dir, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = logging.Formatter(FORMAT, datefmt="%Y-%m-%d %H:%M:%S").format(
        logging.LogRecord("pipeline", logging.INFO, "", 0, message, None, None)
    )
    with path.open("a", encoding="utf-8") as handle:
        handle.write(stamp + "\n")


def read_log(
    logs_dir: Path, run_id: int, offset: int = 0, limit: int = MAX_READ
) -> tuple[str, int]:
    """Whole lines from byte ``offset`` on, and the offset to ask for next."""
    path = log_path(logs_dir, run_id)
    if offset < 0:
        raise ValueError("offset must be 0 or more")
    if not path.exists():
        return "", offset
    with open(path, "rb") as handle:
        size = handle.seek(0, 2)
        if offset >= size:  # nothing new yet (an offset past the end is not an error)
            return "", offset
        handle.seek(offset)
        chunk = handle.read(limit)
    end = chunk.rfind(b"\n")
    if end < 0:
        return "", offset
    chunk = chunk[: end + 1]
    return chunk.decode("utf-8", errors="replace"), offset + len(chunk)
