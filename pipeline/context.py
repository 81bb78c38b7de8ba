"""The run context every pipeline step receives: progress, cancellation, log, timings.

``report`` writes progress to the run's row (throttled, so a chatty library
does not hammer the database) and to an optional listener. A step reports the
fraction of its own work done; the context maps it into the step's share of the
bar, and the bar never moves backwards. ``check_cancelled``
reads the run's flag from the database, so ``cancel`` works from any process;
both advance the run's heartbeat, which is how a stalled run is recognised.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from forecasting.progress import Cancelled, Reporter
from storage import runs
from storage.artifacts import ArtifactStore
from storage.database import Database
from storage.settings import Settings

WRITE_EVERY = 0.5  # seconds between progress writes
POLL_EVERY = 1.0  # seconds between cancellation reads


@dataclass
class RunContext:
    db: Database
    settings: Settings
    run_id: int
    log: logging.Logger
    on_progress: Callable[[float, str], None] | None = None
    step_seconds: dict[str, float] = field(default_factory=dict)
    current_step: str | None = None
    _slice: tuple[float, float] = (0.0, 1.0)
    _shown: float = 0.0
    _last_write: float = 0.0
    _last_poll: float = 0.0
    _last_message: str = ""
    _cancelled: bool = False

    @property
    def artifacts(self) -> ArtifactStore:
        return ArtifactStore(self.settings.models_dir)

    def report(self, fraction: float, message: str = "", force: bool = False) -> None:
        """``fraction`` of the current step done (of the run, outside any step)."""
        start, end = self._slice
        self._write(start + (end - start) * min(max(fraction, 0.0), 1.0), message, force)

    def _write(self, progress: float, message: str = "", force: bool = False) -> None:
        progress = self._shown = max(progress, self._shown)
        now = time.monotonic()
        if message and message != self._last_message:
            self.log.info(message)
            self._last_message = message
        if self.on_progress is not None:
            self.on_progress(progress, message)
        if force or now - self._last_write >= WRITE_EVERY:
            runs.report(self.db, self.run_id, progress, message, self.current_step)
            self._last_write = now

    def check_cancelled(self) -> None:
        now = time.monotonic()
        if not self._cancelled and now - self._last_poll >= POLL_EVERY:
            self._last_poll = now
            self._cancelled = runs.heartbeat(self.db, self.run_id)
        if self._cancelled:
            raise Cancelled(f"Run {self.run_id} was cancelled.")

    def reporter(self, start: float = 0.0, end: float = 1.0) -> Reporter:
        """The library-facing view of this context for the slice [start, end] of the step."""
        step_start, step_end = self._slice
        step = Reporter(self._write, self._cancel_flag, step_start, step_end - step_start)
        return step.sub(start, end)

    def _cancel_flag(self) -> bool:
        try:
            self.check_cancelled()
        except Cancelled:
            return True
        return False

    @contextmanager
    def step(self, name: str, start: float, end: float) -> Iterator[Reporter]:
        """Mark the current step, time it and give it its share of the progress bar."""
        self.check_cancelled()
        self.current_step, self._slice = name, (start, end)
        self.report(0.0, f"step {name} started", force=True)
        began = time.perf_counter()
        yield self.reporter()
        self.step_seconds[name] = round(time.perf_counter() - began, 2)
        self.report(1.0, f"step {name} finished in {self.step_seconds[name]:.1f}s", force=True)
