"""A run's serving model in the artifact store, its fits by partition in files of their own.

A catalogue's model is three quarters fits (at 10,000 daily series, 390 of 500 MB in
memory), and each is needed only while it forecasts its own partition's series. Stored
apart, a web worker loads the per-series facts and reads a partition's fits when a
what-if asks for one of its series (``forecasting.models.by_partition``).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from forecasting.serving.model import ServingModel
from storage.artifacts import ArtifactStore


def serving_artifacts(serving: ServingModel) -> dict[str, Any]:
    """The serving model and its parts, as ``ArtifactStore.save`` writes them."""
    light, parts = serving.apart()
    return {"serving": light, **parts}


def load_serving(artifacts: ArtifactStore, run_id: int) -> ServingModel:
    """A run's serving model, reading its parts from the run's artifacts as it needs them
    (a model stored whole, before, loads as it was)."""
    return artifacts.load(run_id, "serving").reading_parts(partial(artifacts.load, run_id))
