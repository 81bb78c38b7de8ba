"""Finished JSON bodies of the read routes, kept per model that serves.

A stored forecast or a history for the same question is the same bytes until
another run is promoted or another data set is loaded, so the API keeps the
encoded body: a repeated request costs a dictionary lookup instead of pandas,
the response schema and the JSON encoder (measured in ``bench/load.py``).
Entries of an older generation are dropped the moment a new one is seen, and
the number kept is capped (least recently used goes first).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import Response, current_app


class ResponseCache:
    def __init__(self, capacity: int = 2048):
        self.capacity = capacity
        self._generation: Hashable = None
        self._bodies: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def respond(self, generation: Hashable, key: Hashable, build: Callable[[], dict]) -> Response:
        """The cached body for ``key``, or ``build()``'s result encoded and kept.

        ``build`` may raise (an HTTP error): nothing is kept then.
        """
        with self._lock:
            if generation != self._generation:
                self._generation = generation
                self._bodies.clear()
            body = self._bodies.get(key)
            if body is not None:
                self._bodies.move_to_end(key)
        if body is None:
            body = json.dumps(build(), separators=(",", ":")).encode()
            with self._lock:
                if generation == self._generation:
                    self._bodies[key] = body
                    if len(self._bodies) > self.capacity:
                        self._bodies.popitem(last=False)
        return current_app.response_class(body, mimetype="application/json")
