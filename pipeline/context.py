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
from datetime import UTC, datetime, timedelta

from forecasting.progress import Cancelled, Reporter
from storage import run_rows
from storage.artifacts import ArtifactStore
from storage.database import Database
from storage.settings import Settings

WRITE_EVERY = 0.5  # seconds between progress writes
POLL_EVERY = 1.0  # seconds between cancellation reads
#: the time left is estimated once this share is done and this many seconds have passed
ESTIMATE_FROM = (0.03, 3.0)


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
    #: when the first step began: the plan covers the steps, not the setup before them
    #: (opening MLflow, its store's first creation), so the pace is read from there
    _began: float | None = None
    #: expected seconds of the steps not yet started (``pipeline.pacing``)
    _planned: dict[str, float] = field(default_factory=dict)

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
        said = bool(message) and message != self._last_message
        if said:
            self.log.info(message)
            self._last_message = message
        if self.on_progress is not None:
            self.on_progress(progress, message)
        # a new message is written at once: throttled, "validating ets" was often dropped
        # and the page showed nothing for the seconds ETS took; a report without words
        # keeps the last words shown
        if force or said or now - self._last_write >= WRITE_EVERY:
            run_rows.report(
                self.db, self.run_id, progress, message or self._last_message,
                self.current_step, self.expected_end(),
            )  # fmt: skip
            self._last_write = now

    def seconds_left(self) -> float | None:
        """The time so far times the share left over the share done: the bar advances
        with the work's expected cost (``forecasting.evaluation.costs``), so this is the time the
        rest is expected to take at the pace so far. None too early to tell."""
        if self._began is None:
            return None
        elapsed = time.monotonic() - self._began
        done = self._shown
        if done < ESTIMATE_FROM[0] or elapsed < ESTIMATE_FROM[1] or done >= 1.0:
            return None
        return elapsed * (1 - done) / done

    def expected_end(self) -> datetime | None:
        left = self.seconds_left()
        return None if left is None else datetime.now(UTC) + timedelta(seconds=left)

    def check_cancelled(self) -> None:
        now = time.monotonic()
        if not self._cancelled and now - self._last_poll >= POLL_EVERY:
            self._last_poll = now
            self._cancelled = run_rows.heartbeat(self.db, self.run_id)
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

    def plan(self, seconds: dict[str, float]) -> None:
        """Expected seconds of the steps to come: each gets the share of what is left of
        the bar that its seconds are of theirs, when it starts."""
        self._planned = {name: max(float(v), 1e-3) for name, v in seconds.items()}

    def _slice_for(self, name: str) -> tuple[float, float]:
        start = self._shown
        rest = {n: v for n, v in self._planned.items() if n not in self.step_seconds}
        if name not in rest:
            return start, start
        return start, start + (1.0 - start) * rest[name] / sum(rest.values())

    @contextmanager
    def step(
        self, name: str, start: float | None = None, end: float | None = None
    ) -> Iterator[Reporter]:
        """Mark the current step, time it and give it its share of the progress bar
        (``start`` to ``end``, or its planned share of what is left)."""
        self.check_cancelled()
        if self._began is None:
            self._began = time.monotonic()
        if start is None or end is None:
            start, end = self._slice_for(name)
        self.current_step, self._slice = name, (start, end)
        self.report(0.0, f"step {name} started", force=True)
        began = time.perf_counter()
        yield self.reporter()
        self.step_seconds[name] = round(time.perf_counter() - began, 2)
        self.report(1.0, f"step {name} finished in {self.step_seconds[name]:.1f}s", force=True)
