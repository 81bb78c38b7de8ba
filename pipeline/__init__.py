"""The run pipeline: ingest, EDA, train and forecast, tracked in MLflow.

MLflow 3 sends usage telemetry to ``config.mlflow-telemetry.io`` by default (it turns
itself off only under CI or pytest). The product promises that nothing reaches past
the machine at run time, so every process that imports this package has it off,
unless the operator sets ``MLFLOW_DISABLE_TELEMETRY=false`` on purpose.
"""

import os

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
