"""The MLflow pyfunc wrapper: a logged model that forecasts.

``mlflow.pyfunc.load_model(uri).predict(pd.DataFrame({"horizon": [28]}))``
returns the forecast with its bands, by the same rule as the API and the
command line (``forecasting.requests``: the data set's driver plan where it
reaches, the driver-free models past it); optional columns ``unique_id`` (limit to
those series) and ``model`` (one trained model instead of the served one).
The fitted state travels as an artifact written by this product, never as
anything a user uploaded.
"""

from __future__ import annotations

import joblib
import mlflow.models
import mlflow.pyfunc
import pandas as pd

from forecasting.requests import ForecastRequest, answer


class ForecastModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context) -> None:
        self.serving = joblib.load(context.artifacts["serving"])

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None):
        if "horizon" not in model_input or model_input.empty:
            raise ValueError("Pass a frame with a 'horizon' column, e.g. {'horizon': [28]}.")
        horizon = int(model_input["horizon"].iloc[0])
        series = None
        if "unique_id" in model_input:
            series = [str(s) for s in model_input["unique_id"].dropna().unique()] or None
        model = None
        if "model" in model_input and model_input["model"].notna().any():
            model = str(model_input["model"].dropna().iloc[0])
        request = ForecastRequest(horizon, tuple(series) if series else None, model)
        return answer(self.serving, request).rows


# Logged as "models from code": MLflow loads this file, no pickled class.
mlflow.models.set_model(ForecastModel())
