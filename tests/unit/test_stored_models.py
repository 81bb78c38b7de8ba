"""Models stored before a module moved still load and serve the same forecast.

``tests/data/stored_before_serving_room/`` holds the serving model of a real run made
at commit e968e1e, before the serving room became ``forecasting.serving``:
``python -m pipeline run --csv stored_model.csv --date week --target units --id store
--id item --exog price --exog display --models ets,linear_trend --horizon 8
--no-tracking --jobs 1``, and ``answers.csv`` what that commit's ``answer`` gave for
the served forecast with the stored plan, a what-if price and one model asked by name.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.serving.model import ServingModel
from forecasting.serving.requests import ForecastRequest, answer
from storage.artifacts import ArtifactStore

STORED = Path(__file__).parents[1] / "data" / "stored_before_serving_room"
REQUESTS = {
    "served": ForecastRequest(12),
    "what_if": ForecastRequest(8, drivers={"price": 3.0}),
    "ets": ForecastRequest(8, model="ets"),
}


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> ServingModel:
    root = tmp_path_factory.mktemp("models")
    (root / "1").mkdir()
    shutil.copy(STORED / "serving.joblib", root / "1" / "serving.joblib")
    return ArtifactStore(root).load(1, "serving")


def test_a_model_stored_under_the_old_module_names_loads_as_today_s(stored):
    assert isinstance(stored, ServingModel)
    assert type(stored.coherence).__module__ == "forecasting.serving.coherence"
    assert stored.plan is not None and stored.spec.exog == ("price", "display")


@pytest.mark.parametrize("name", list(REQUESTS))
def test_a_stored_model_answers_as_it_did_when_it_was_stored(stored, name):
    expected = pd.read_csv(STORED / "answers.csv", parse_dates=["ds"])
    expected = expected.loc[expected["request"] == name].drop(columns="request")
    got = answer(stored, REQUESTS[name]).rows
    # the rows now say the price the forecast used (held within each series' history),
    # where the stored answers said the price asked; the forecasts are the same
    expected = stored.within_range(expected)
    assert list(got["unique_id"]) == list(expected["unique_id"])
    assert list(got["ds"]) == list(expected["ds"])
    assert list(got["model"]) == list(expected["model"])
    for column in ("yhat", "lo80", "hi80", "lo95", "hi95", "price", "display"):
        assert np.allclose(got[column], expected[column], equal_nan=True), column
    assert list(got["extrapolated"]) == list(expected["extrapolated"])
