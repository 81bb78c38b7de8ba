"""Callbacks kept per app, not in Dash's global list.

``dash.callback`` puts a callback in one list that the next app made takes and
empties, so a second app in the same process (the test suite makes many) has no
callbacks once the modules are imported. Dash gets round it for pages by running
each page module again per app; here each callback is recorded once, at import,
and ``register`` hands all of them to each app as it is made.
"""

from __future__ import annotations

from collections.abc import Callable

from dash import Dash

_RECORDED: list[tuple[tuple, dict, Callable]] = []


def callback(*args, **kwargs) -> Callable:
    """``dash.callback``'s signature: the function is recorded, for every app to come."""

    def record(function: Callable) -> Callable:
        _RECORDED.append((args, kwargs, function))
        return function

    return record


def register(app: Dash) -> None:
    """Give ``app`` every recorded callback (each callback module is imported first)."""
    for args, kwargs, function in _RECORDED:
        app.callback(*args, **kwargs)(function)
