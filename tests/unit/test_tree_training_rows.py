"""The global trees' training matrix, built a chunk of series at a time (issue 30): the
same forecasts as one build over every series, and a catalogue trains on fewer periods."""

from __future__ import annotations

import numpy as np
import pytest

from forecasting.models import MODELS, global_trees
from tests.support.frames import make_frame, spec_for


@pytest.mark.parametrize("name", ["xgboost", "random_forest"])
def test_chunks_of_series_train_the_same_model_as_all_series_at_once(name, monkeypatch):
    df = make_frame(n_series=7, periods=200, exog=True)
    spec = spec_for("D", exog=("promo",))
    future = make_frame(n_series=7, periods=214, exog=True).groupby("unique_id").tail(14)
    params = MODELS[name].test_params()
    whole = MODELS[name](**params).fit(df, spec)
    monkeypatch.setattr(global_trees, "CHUNK_ROWS", 2 * 200)  # two series a chunk, a last one alone
    chunked = MODELS[name](**params).fit(df, spec)
    assert chunked.train_rows_ == whole.train_rows_ > 0
    np.testing.assert_array_equal(
        chunked.predict(14, future)["yhat"].to_numpy(), whole.predict(14, future)["yhat"].to_numpy()
    )


def test_a_catalogue_trains_on_fewer_recent_periods_of_every_series(monkeypatch):
    df = make_frame(n_series=6, periods=500)
    spec = spec_for("D")
    params = MODELS["xgboost"].test_params()
    roomy = MODELS["xgboost"](**params).fit(df, spec)
    monkeypatch.setattr(global_trees, "TRAIN_ROWS", 6 * 400)
    monkeypatch.setattr(global_trees, "MIN_TRAIN_PERIODS", 100)
    bounded = MODELS["xgboost"](**params).fit(df, spec)
    assert bounded.train_rows_ <= 6 * 400 < roomy.train_rows_
    assert bounded.predict(7)["yhat"].notna().all()
