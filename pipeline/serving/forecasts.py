"""``forecast``: the one way any caller of this product gets a forecast of what serves."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from forecasting.serving.requests import ForecastAnswer, ForecastRequest, answer
from pipeline.serving.production import ServingCache, ServingRun
from pipeline.serving.queries import Scope, members


@dataclass
class ServedForecast:
    """A forecast of the serving run, per series, and what it rests on."""

    answer: ForecastAnswer
    production: ServingRun

    @property
    def rows(self) -> pd.DataFrame:
        return self.answer.rows

    def summed(self) -> pd.DataFrame:
        """Per period the sum over the series asked, with bands calibrated on the sum's own
        validation errors (``forecasting.evaluation.group_bands``); one series' forecast as
        it is."""
        return self.production.serving.sum_forecast(self.answer.rows)


def forecast(
    cache: ServingCache, request: ForecastRequest, scope: Scope | None = None
) -> ServedForecast:
    """The serving run's answer to ``request`` (its series named by ``scope`` when given):
    the same numbers the command line, the API, the pages and the MLflow model give."""
    prod = cache.serving_run()
    if scope is not None:
        request = replace(request, series=tuple(members(scope, prod.keys)))
    return ServedForecast(answer(prod.serving, request, prod.stored), prod)
