"""A fitted model holds its own state, not the rows it was fitted on.

A catalogue run keeps every partition's fits until the serving model is built. A fit
that keeps a view into its training rows (a series' last season sliced from the
partition's sales column, a panel's last columns) holds the whole partition for as
long as it lives: a 10,000-series run grew by some 0.3 GB a partition that way, while
the pickled fits, which copy only the slice, looked small (issue 30)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.models import MODELS
from tests.support.frames import make_frame, spec_for

#: models whose fit takes seconds a series: their state is statsforecast's or Prophet's
SLOW = {"prophet", "sarima", "arima"}


def _arrays(obj, seen: set[int]):
    """Every numpy array reachable through attributes, dicts, lists and tuples."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        yield obj
    elif isinstance(obj, dict):
        for value in obj.values():
            yield from _arrays(value, seen)
    elif isinstance(obj, list | tuple):
        for value in obj:
            yield from _arrays(value, seen)
    elif isinstance(obj, pd.Series | pd.DataFrame | pd.Index):
        return  # pandas copies what it is built from here
    elif hasattr(obj, "__dict__"):
        yield from _arrays(vars(obj), seen)


def _root(array: np.ndarray) -> np.ndarray:
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


@pytest.mark.parametrize("name", [n for n in MODELS if n not in SLOW])
def test_a_fit_holds_no_view_into_its_training_rows(name):
    df = make_frame(n_series=12, periods=400, seed=3)
    model = MODELS[name](**MODELS[name].test_params()).fit(df, spec_for("D"))
    rows_bytes = len(df) * 8
    for array in _arrays(model, set()):
        root = _root(array)
        assert root.nbytes < rows_bytes or root.nbytes <= 2 * array.nbytes, (
            f"{name} holds a {array.shape} view of a {root.shape} array"
        )
