"""Peak memory of a process and its workers, sampled in a thread (shared by the benches)."""

from __future__ import annotations

import contextlib
import threading

import psutil


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
