"""The MLflow pyfunc wrapper: a logged model that forecasts, answering what the API answers.

``mlflow.pyfunc.load_model(uri).predict(frame)`` and MLflow's own scoring server
(``mlflow models serve``) take the fields of ``POST /api/forecast`` as columns,
each declared in the model's signature so nothing is dropped on the way:

- ``horizon`` (required);
- ``series``: one id, or several over the rows (``unique_id`` is read the same way);
- ``group``: ``column=value``, answered as the group's sum with its own bands;
- ``level`` (80 or 95): its band as ``lower`` and ``upper`` beside every band;
- ``model``: one trained model instead of the served choice;
- one column per driver of the serving model: a what-if, one value for every period,
  or one per row where the frame has a row per period.

The answer is ``forecasting.serving.requests``'s, as for every reader; a value that does not
exist is ``null``, never ``NaN`` (which is not JSON). With neither series nor group
the rows of every series come back. The fitted state and the series' attributes
travel as artifacts written by this product, never as anything a user uploaded.
"""

from __future__ import annotations

import pickle

import joblib
import mlflow.models
import mlflow.pyfunc
import pandas as pd

from forecasting.serving.requests import ForecastRequest, answer
from forecasting.serving.scopes import group_members  # the API's own matching

#: the request columns besides the drivers'
REQUEST_COLUMNS = ("horizon", "series", "unique_id", "group", "level", "model")


class ForecastModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context) -> None:
        path = context.artifacts["serving"]
        if path.endswith(".joblib"):  # a model logged before pickles
            self.serving = joblib.load(path)
        else:
            with open(path, "rb") as handle:
                self.serving = pickle.load(handle)
        keys = context.artifacts.get("keys")
        self.keys = pd.read_csv(keys, dtype=str) if keys else None

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None):
        return forecast_frame(self.serving, self.keys, model_input)


def forecast_frame(serving, keys: pd.DataFrame | None, frame: pd.DataFrame) -> pd.DataFrame:
    """The forecast a request frame asks for (see the module docstring)."""
    if "horizon" not in frame or frame["horizon"].dropna().empty:
        raise ValueError("Pass a frame with a 'horizon' column, e.g. {'horizon': [28]}.")
    horizon = int(frame["horizon"].dropna().iloc[0])
    series = [str(s) for col in ("series", "unique_id") if col in frame
              for s in frame[col].dropna().unique()]  # fmt: skip
    group = _first(frame, "group")
    if group is not None:
        if keys is None:
            raise ValueError("This logged model has no series attributes to form groups.")
        series = group_members(str(group), keys)
    drivers = {
        name: values[0] if len(values) == 1 else values
        for name in serving.spec.exog
        if name in frame and len(values := frame[name].dropna().astype(float).tolist())
    }
    model = _first(frame, "model")
    request = ForecastRequest(
        horizon,
        tuple(dict.fromkeys(series)) or None,
        str(model) if model is not None else None,
        drivers or None,
    )
    rows = answer(serving, request).rows
    if group is not None:
        rows = serving.sum_forecast(rows).assign(group=str(group))
    level = _first(frame, "level")
    if level is not None:
        rows = rows.assign(lower=rows[f"lo{int(level)}"], upper=rows[f"hi{int(level)}"])
    return _nulls_for_json(rows)


def _nulls_for_json(rows: pd.DataFrame) -> pd.DataFrame:
    """Missing values as None, which MLflow's server writes as JSON null (NaN is not
    JSON); only columns that have one lose their numeric type."""
    gaps = [name for name in rows if rows[name].isna().any()]
    if gaps:
        rows = rows.astype({name: object for name in gaps})
        rows[gaps] = rows[gaps].where(rows[gaps].notna(), None)
    return rows


def _first(frame: pd.DataFrame, column: str):
    """The column's first value, or None when the frame does not give one."""
    if column not in frame:
        return None
    given = frame[column].dropna()
    return None if given.empty else given.iloc[0]


# Logged as "models from code": MLflow loads this file, no pickled class.
mlflow.models.set_model(ForecastModel())
