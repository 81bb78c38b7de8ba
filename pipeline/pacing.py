"""Expected seconds of each step of a run, so its bar advances with the work, not the steps.

Before a run has read its file only the file's size is known; after ingest the
data's shape is, and the steps still to come are planned again
(``RunContext.plan``). The train step's own parts come from
``forecasting.evaluation.costs``. Figures are seconds on a 2-core machine (``bench/cost.py``);
the time left is extrapolated from the share done, so only their proportions
matter.
"""

from __future__ import annotations

from pathlib import Path

from forecasting.evaluation.costs import Shape, fit_seconds, served_refit_seconds, workflow_plan
from forecasting.evaluation.options import TrainOptions
from forecasting.models import MODELS

#: reading, cleaning and storing: seconds per byte of the file and per row
INGEST_PER_BYTE = 6e-7
INGEST_PER_ROW = 2e-5
#: the EDA report: a second, and per row
EDA_SECONDS = 0.5
EDA_PER_ROW = 5e-6
#: storing the year-ahead forecast: a second, and per series
FORECAST_SECONDS = 1.0
FORECAST_PER_SERIES = 5e-4
#: MLflow: the parent run, and per model a nested run with a plot and a pyfunc model
MLFLOW_SECONDS = 2.2
MLFLOW_PER_MODEL = 0.1
MLFLOW_PER_MODEL_SERIES = 2e-4


def train_parts(
    shape: Shape, options: TrainOptions, track: bool, h: int = 0, drivers: int = 0
) -> dict[str, float]:
    """The train step's parts: the backtest, production's fits, saving, MLflow."""
    names = options.model_names()
    screened = options.screened()
    plan = workflow_plan(shape, names, screened, options.n_windows, h, drivers)
    backtest = sum(plan.values())
    kept = [n for n in names if n not in screened]
    forwards = sum(MODELS[n].forward_share * fit_seconds(n, shape) for n in kept)
    parts = {
        "backtest": backtest,
        "production": served_refit_seconds(shape, kept) + forwards,
        "saving": 0.5 + 1e-5 * shape.rows,
    }
    if track:  # a nested run per model, each logging the model (its file grows with series)
        per_model = MLFLOW_PER_MODEL + MLFLOW_PER_MODEL_SERIES * shape.series
        parts["MLflow"] = MLFLOW_SECONDS + per_model * len(kept)
    return parts


def step_seconds(
    steps: tuple[str, ...],
    options: TrainOptions,
    track: bool,
    shape: Shape | None = None,
    csv: str | None = None,
    h: int = 0,
    drivers: int = 0,
) -> dict[str, float]:
    """Expected seconds per step; without the data's ``shape``, guessed from the file."""
    if shape is None:
        size = Path(csv).stat().st_size if csv and Path(csv).is_file() else 1_000_000
        rows = size // 30  # a sales CSV row is 20 to 40 bytes
        shape = Shape(max(rows // 500, 1), 500.0, rows)
        ingest = 1.0 + INGEST_PER_BYTE * size + INGEST_PER_ROW * rows
    else:
        ingest = 1.0 + INGEST_PER_ROW * shape.rows
    estimates = {
        "ingest": ingest,
        "eda": EDA_SECONDS + EDA_PER_ROW * shape.rows,
        "train": sum(train_parts(shape, options, track, h, drivers).values()),
        "forecast": FORECAST_SECONDS + FORECAST_PER_SERIES * shape.series,
    }
    return {step: estimates[step] for step in steps}
