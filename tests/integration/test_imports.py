"""Each entry point imports first in a fresh interpreter (gunicorn once could not start:
the backtest and a model imported each other); ``tests/unit/test_imports.py`` checks
every order at once on the graph read from the source."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.frames import ROOT

#: gunicorn's (which failed) and the backtest's; the graph test above covers every order
ENTRY_POINTS = ["forecasting.evaluation.backtest", "dashapp.api"]


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_each_entry_point_imports_first_in_a_fresh_interpreter(entry):
    command = [sys.executable, "-c", f"import {entry}"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
