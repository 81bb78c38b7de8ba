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
