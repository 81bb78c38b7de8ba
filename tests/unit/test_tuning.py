"""Tuning with trials on daily, weekly and monthly data, and a model that fails is left out
with the reason while the run goes on (issue 29)."""

from __future__ import annotations

import numpy as np
import pytest

from forecasting.models import MODELS
from forecasting.models.local import LocalForecaster
from forecasting.workflow import TrainOptions, backtest
from tests.support.frames import make_frame, spec_for


@pytest.mark.parametrize(
    ("alias", "periods", "h"), [("D", 400, 14), ("W-FRI", 150, 8), ("MS", 72, 6)]
)
def test_one_trial_of_every_tuned_model_succeeds_at_every_frequency(alias, periods, h):
    df = make_frame(n_series=3, periods=periods, alias=alias)
    options = TrainOptions(models=("prophet", "ets", "theta", "ces"), trials=1, n_windows=2)
    report = backtest(df, spec_for(alias), h, options)
    outcome = report.outcome
    assert not outcome.failed, outcome.failed
    assert {"prophet", "ets", "theta", "ces"} <= set(outcome.tuning)
    assert outcome.tuning["prophet"].trials >= 1


class Broken(LocalForecaster):
    """A model whose every fit raises, as a library bug would."""

    name = "broken"
    uses_exog = False

    def _fit(self, df):
        raise RuntimeError("the library broke")


def test_a_model_that_fails_is_left_out_with_its_reason_and_the_run_goes_on(monkeypatch):
    monkeypatch.setitem(MODELS, "broken", Broken)
    df = make_frame(n_series=3, periods=120)
    options = TrainOptions(models=("broken", "theta"), n_windows=2)
    report = backtest(df, spec_for("D"), 7, options)
    assert "broken" in report.outcome.failed
    assert "the library broke" in report.outcome.failed["broken"]
    assert "broken" not in report.outcome.tuning
    assert np.isfinite(report.summary.loc["selected", "mase"])
    assert report.to_json({}, 7)["failed"]["broken"].startswith("RuntimeError")
