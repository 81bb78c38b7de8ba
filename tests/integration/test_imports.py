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


def test_the_web_app_has_every_module_plotly_encodes_with_before_a_request():
    """Plotly's encoder reads PIL.Image from sys.modules without importing it; imported
    first by a request thread (Optuna's charts pull in matplotlib), another thread's
    figure met a half-made module and answered 500 (a page's console showed it)."""
    probe = "import sys, dashapp; print('PIL.Image' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "True"
