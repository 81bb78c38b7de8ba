"""How library code reports progress and honours cancellation without knowing who listens."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field


class Cancelled(Exception):
    """Raised at a safe point when the run was asked to stop."""


@dataclass
class Reporter:
    """Progress sink: ``report(fraction, message)`` and ``check_cancelled()``.

    The default does nothing, so the library runs the same inside or outside a
    pipeline run (as mlflow's NoOpTracker).
    """

    on_progress: Callable[[float, str], None] | None = None
    is_cancelled: Callable[[], bool] | None = None
    start: float = 0.0
    span: float = 1.0
    _last: float = field(default=0.0, repr=False)

    def report(self, fraction: float, message: str = "") -> None:
        value = self.start + self.span * min(max(fraction, 0.0), 1.0)
        self._last = value
        if self.on_progress is not None:
            self.on_progress(value, message)

    def check_cancelled(self) -> None:
        if self.is_cancelled is not None and self.is_cancelled():
            raise Cancelled("The run was cancelled.")

    def sub(self, start: float, end: float) -> Reporter:
        """A reporter for a slice [start, end] of this one's range."""
        return Reporter(
            self.on_progress,
            self.is_cancelled,
            self.start + self.span * start,
            self.span * (end - start),
        )


_active: ContextVar[Reporter | None] = ContextVar("active_reporter", default=None)


@contextmanager
def active(reporter: Reporter) -> Iterator[Reporter]:
    """Make ``reporter`` the one deep library code checks (between per-series fits)."""
    token = _active.set(reporter)
    try:
        yield reporter
    finally:
        _active.reset(token)


def checkpoint() -> None:
    """Raise ``Cancelled`` if the active run was asked to stop; free when none is active."""
    reporter = _active.get()
    if reporter is not None:
        reporter.check_cancelled()


class Pacing:
    """Parts of a piece of work with their expected seconds: the reporter for a part
    reports that part's own fraction, and the pacing reports to ``reporter`` the share of
    all expected seconds done (``forecasting.evaluation.costs``). A part added later (a model a
    screening kept) grows the pacing; the bar that shows it never moves back."""

    def __init__(self, reporter: Reporter, parts: dict[str, float]) -> None:
        self.reporter = reporter
        self.parts = {name: max(float(s), 1e-6) for name, s in parts.items()}
        self.done: dict[str, float] = {}

    def add(self, name: str, seconds: float) -> None:
        self.parts[name] = max(float(seconds), 1e-6)

    def part(self, name: str) -> Reporter:
        """A reporter for ``name``'s own fraction (0 to 1)."""
        if name not in self.parts:
            self.add(name, 1e-6)

        def on_progress(fraction: float, message: str) -> None:
            self.done[name] = min(max(fraction, self.done.get(name, 0.0)), 1.0)
            total = sum(self.parts.values())
            share = sum(self.parts[n] * f for n, f in self.done.items() if n in self.parts)
            self.reporter.report(share / total, message)

        return Reporter(on_progress, self.reporter.is_cancelled)

    def finish(self, name: str, message: str = "") -> None:
        self.part(name).report(1.0, message)
