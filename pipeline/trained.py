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


def mark_diverged(table: pd.DataFrame, diverged: dict[str, dict[str, str]]) -> pd.DataFrame:
    """The series table with each series' ``diverged`` models (those whose forecast left
    its range and was replaced there), added to any it names already."""
    named = table.get("diverged", pd.Series("", index=table.index)).fillna("")
    pairs = zip(table["unique_id"], named, strict=True)
    models = {uid: [m for m in text.split(", ") if m] for uid, text in pairs}
    for model, series in diverged.items():
        for uid in series:
            if uid in models and model not in models[uid]:
                models[uid].append(model)
    return table.assign(diverged=table["unique_id"].map(lambda u: ", ".join(models.get(u, []))))


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
