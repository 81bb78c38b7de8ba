"""What the train step hands on: the serving model, the backtest and the data they came from.

Its own module, so the forecast step and the run's tracking read it without
importing another step.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from forecasting.data.spec import DataSpec
from forecasting.serving.model import ServingModel
from forecasting.workflow import BacktestReport


@dataclass
class Trained:
    dataset_id: int
    frame: pd.DataFrame
    spec: DataSpec
    horizon: int
    serving: ServingModel
    report: BacktestReport
    #: the rows before the held-out window (what validation and the backtest saw)
    train: pd.DataFrame
    registered_version: str | None = None
