"""What the benches measure alike: a whole process timed from spawn to exit with its tree's
peak memory, the peak memory of this process and its workers, and how well a run's
estimate of the time left held."""

from __future__ import annotations

import calendar
import contextlib
import os
import subprocess
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]


class PeakMemory:
    """Sample the RSS of this process plus its children; keep the peak per label."""

    def __init__(self, interval: float = 0.2) -> None:
        self.label = "start"
        self.peaks: dict[str, float] = {}
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak(self) -> float:
        return max(self.peaks.values(), default=0.0)

    def _loop(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            rss = 0
            for p in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    rss += p.memory_info().rss
            mb = rss / 2**20
            self.peaks[self.label] = max(self.peaks.get(self.label, 0.0), mb)
            self._stop.wait(self.interval)


class TreeSampler:
    """Peak resident memory of a process and all its descendants, sampled in a thread."""

    def __init__(self, pid: int, interval: float = 0.2, label=None) -> None:
        self.process = psutil.Process(pid)
        self.interval = interval
        self.peak_mb = 0.0
        #: peak per label (``label()``: what the process is doing, e.g. the run's step)
        self.label = label
        self.peaks: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            rss = 0
            with contextlib.suppress(psutil.Error):
                for p in [self.process, *self.process.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        rss += p.memory_info().rss
            self.peak_mb = max(self.peak_mb, rss / 2**20)
            if self.label is not None:
                key = self.label() or "start"
                self.peaks[key] = max(self.peaks.get(key, 0.0), rss / 2**20)
            self._stop.wait(self.interval)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_mb


class EstimateWatcher:
    """Reads the run's progress and time-left estimate from its database every half second:
    how good the estimate was, against when the run really ended."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.readings: list[tuple[float, float, float | None]] = []
        self.step: str | None = None
        self._stop = threading.Event()
        self._began = time.monotonic()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        import sqlite3

        while not self._stop.wait(0.5):
            if not self.database.exists():
                continue
            try:
                with sqlite3.connect(self.database, timeout=1) as db:
                    row = db.execute(
                        "SELECT progress, expected_end, status, step FROM runs "
                        "ORDER BY id DESC LIMIT 1"
                    ).fetchone()
            except sqlite3.Error:
                continue
            if not row or row[2] not in ("queued", "running"):
                continue
            self.step = row[3]
            left = None
            if row[1]:
                end = calendar.timegm(time.strptime(row[1][:19], "%Y-%m-%d %H:%M:%S"))
                left = end - time.time()
            self.readings.append((time.monotonic() - self._began, row[0], left))

    def stop(self) -> list[tuple[float, float, float | None]]:
        self._stop.set()
        self._thread.join()
        return self.readings


def estimate_quality(readings: list, total: float) -> dict:
    """At half the run's true length: the estimated time left against the truth; and from
    what share of the run on every estimate stayed within 30% of the truth (until its
    last tenth, where a few seconds either way are a large share of what is left)."""
    usable = [(t, p, left) for t, p, left in readings if left is not None]
    if not usable:
        return {}
    half = min(usable, key=lambda r: abs(r[0] - total / 2))
    within_from = None
    for t, _, left in reversed(usable):
        truth = total - t
        if truth < 0.1 * total:
            continue
        if abs(left - truth) > 0.3 * truth:
            break
        within_from = t / total
    return {
        "at_half": {"seconds": round(half[0], 1), "estimated_left": round(half[2], 1),
                    "truly_left": round(total - half[0], 1), "progress": half[1]},
        "within_30pct_from": None if within_from is None else round(within_from, 2),
    }  # fmt: skip


def whole_process(
    cmd: list[str],
    env: dict | None = None,
    log: Path | None = None,
    label=None,
    code: Path = ROOT,
) -> dict:
    """Wall seconds from spawn to exit and the peak memory of the process tree."""
    started = time.perf_counter()
    # the code of this checkout (or ``code``, a worktree of an older commit), whatever is
    # installed
    env = {**(env or os.environ), "PYTHONPATH": str(code)}
    out = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=code)
    sampler = TreeSampler(proc.pid, label=label)
    code = proc.wait()
    peak = sampler.stop()
    if log:
        out.close()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_mb": peak, "returncode": code, "peaks": sampler.peaks}


def succeeded(cmd: list[str], log: Path, **kwargs) -> dict:
    """``whole_process`` of a command that must succeed: its log's tail ends the bench
    otherwise."""
    result = whole_process(cmd, log=log, **kwargs)
    if result["returncode"] != 0:
        raise SystemExit(f"{' '.join(map(str, cmd[:4]))} failed: {log.read_text()[-3000:]}")
    return result


def print_table(rows: list[dict]) -> None:
    """The rows as a Markdown table, the first row's keys as the header."""
    keys = list(rows[0])
    print("\n| " + " | ".join(keys) + " |\n|" + "---|" * len(keys))
    for row in rows:
        print("| " + " | ".join(str(row.get(k, "")) for k in keys) + " |")
