"""The model registry: a new model is one module and one line here."""

from collections.abc import Iterable

from forecasting.errors import DataError
from forecasting.models.arima import ARIMA
from forecasting.models.base import Forecaster
from forecasting.models.ces import CES
from forecasting.models.ets import ETS
from forecasting.models.intermittent import ADIDA, IMAPA, TSB, Croston
from forecasting.models.linear_trend import LinearTrend
from forecasting.models.local import LocalForecaster
from forecasting.models.naive import Naive
from forecasting.models.prophet import ProphetModel
from forecasting.models.recent_mean import RecentMean
from forecasting.models.sarima import SARIMA
from forecasting.models.seasonal_naive import SeasonalNaive
from forecasting.models.theta import Theta
from forecasting.models.total_scaled import IMAPAScaledToTotal
from forecasting.models.trees import RandomForest, XGBoost

MODELS: dict[str, type[Forecaster]] = {
    "seasonal_naive": SeasonalNaive,
    "naive": Naive,
    "recent_mean": RecentMean,
    "linear_trend": LinearTrend,
    "xgboost": XGBoost,
    "random_forest": RandomForest,
    "prophet": ProphetModel,
    "sarima": SARIMA,
    "arima": ARIMA,
    "ets": ETS,
    "theta": Theta,
    "ces": CES,
    "croston": Croston,
    "tsb": TSB,
    "adida": ADIDA,
    "imapa": IMAPA,
    "imapa_total": IMAPAScaledToTotal,
}

BASELINE = "seasonal_naive"
#: always candidates, whatever models a run asks for: the baselines any forecast must beat
#: and the intermittent-demand methods (cheap, and what slow movers need)
ALWAYS = ("seasonal_naive", "naive", "croston", "tsb", "adida", "imapa", "imapa_total")
#: candidates too where drivers serve: past a plan the driver-free choice must not lose to
#: the benchmark a planner reaches for first
PAST_PLAN = ("recent_mean",)

__all__ = ["ALWAYS", "BASELINE", "MODELS", "PAST_PLAN", "Forecaster", "LocalForecaster"]


def check_names(names: Iterable[str]) -> None:
    """A ``DataError`` naming every model the registry does not have, and what it has."""
    unknown = [m for m in names if m not in MODELS]
    if unknown:
        raise DataError(f"Unknown model(s) {', '.join(unknown)}; choose from {', '.join(MODELS)}.")
