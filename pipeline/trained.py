"""What the train step hands on: the serving model, the backtest and the data they came from.

Its own module, so the forecast step and the run's tracking read it without
importing another step.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd

from forecasting.data.spec import DataSpec
from forecasting.serving.model import ServingModel
from forecasting.workflow import BacktestReport
from pipeline.training_data import TrainedOn


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


def log_diverged(
    log: logging.Logger, serving: ServingModel, diverged: dict[str, dict[str, str]], where: str
) -> None:
    """Each model's replaced series: a warning where the model serves them, one line of
    information where it does not (a stranger read "ces diverged" on launches that ETS
    served, and took the served forecast for replaced)."""
    for model, rows in diverged.items():
        serves = [uid for uid in rows if model in serving.serving_members(uid)]
        others = [uid for uid in rows if model not in serving.serving_members(uid)]
        if serves:
            log.warning(
                "%s diverged on %d series it serves%s (replaced by seasonal naive there), "
                "e.g. %s: %s",
                model, len(serves), where, serves[0], rows[serves[0]],
            )  # fmt: skip
        if others:
            log.info(
                "%s left its range on %d series it does not serve%s: what serves them is "
                "unchanged, and %s asked for by name answers seasonal naive there, e.g. %s: %s",
                model, len(others), where, model, others[0], rows[others[0]],
            )  # fmt: skip


@dataclass
class Trained:
    dataset_id: int
    spec: DataSpec
    horizon: int
    serving: ServingModel
    report: BacktestReport
    #: what the records read of the rows, not the rows: a catalogue's are never whole
    trained_on: TrainedOn
    registered_version: str | None = None
