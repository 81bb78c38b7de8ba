"""The model registry: a new model is one module and one line here."""

from forecasting.models.base import Forecaster, LocalForecaster
from forecasting.models.ets import ETS
from forecasting.models.linear_trend import LinearTrend
from forecasting.models.prophet import ProphetModel
from forecasting.models.sarima import SARIMA
from forecasting.models.seasonal_naive import SeasonalNaive
from forecasting.models.theta import Theta
from forecasting.models.trees import RandomForest, XGBoost

MODELS: dict[str, type[Forecaster]] = {
    "seasonal_naive": SeasonalNaive,
    "linear_trend": LinearTrend,
    "xgboost": XGBoost,
    "random_forest": RandomForest,
    "prophet": ProphetModel,
    "sarima": SARIMA,
    "ets": ETS,
    "theta": Theta,
}

BASELINE = "seasonal_naive"

__all__ = ["BASELINE", "MODELS", "Forecaster", "LocalForecaster"]
