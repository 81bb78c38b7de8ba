"""One model fitted partition by partition answers as the same model fitted on the whole
panel, for a series-by-series model: forecasts, what it replaced, and moving forward."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.models.by_partition import ByPartition
from forecasting.models.ets import ETS
from tests.support.frames import spec_for


def _panel(weeks: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    dates = pd.date_range("2023-01-02", periods=weeks, freq="W-MON")
    return pd.concat(
        [
            pd.DataFrame({"unique_id": f"s{i}", "ds": dates, "y": 20 + i + rng.normal(0, 2, weeks)})
            for i in range(5)
        ],
        ignore_index=True,
    )


def _by_series(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["unique_id", "ds"], ignore_index=True)


def test_the_parts_forecast_as_the_whole_and_move_forward_as_it():
    df, spec = _panel(), spec_for("W-MON", country=None)
    train = df.groupby("unique_id").head(50)
    whole = ETS().fit(train, spec)
    parts = [
        ETS().fit(train[train["unique_id"].isin(ids)], spec)
        for ids in (["s0", "s1"], ["s2", "s3", "s4"])
    ]
    joined = ByPartition.of(parts)
    assert joined.name == whole.name and list(joined.last_ds_.index) == [f"s{i}" for i in range(5)]
    pd.testing.assert_frame_equal(_by_series(joined.predict(6)), _by_series(whole.predict(6)))
    # moved to a longer history, each part on its own series, as the whole model is
    moved = joined.forward(df)
    pd.testing.assert_frame_equal(
        _by_series(moved.predict(4)), _by_series(whole.forward(df).predict(4))
    )
    assert ByPartition.of(parts[:1]) is parts[0]  # one part is that part
    with pytest.raises(ValueError, match="more than one part"):
        ByPartition.of([parts[0], parts[0]])
