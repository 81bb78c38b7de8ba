"""The front door for reads: what serves, its forecasts, history, series and reports.

The command line, the JSON API, the dashboard pages and the MLflow model all
read through here; none of them opens the database, a model file or a report
for itself. One ``ServingCache`` per process knows which run serves and
reloads it when the database says it changed (``production.py``);
``forecast(cache, request)`` is the one way to a forecast (``forecasts.py``,
on ``forecasting.serving.requests.answer``, which the MLflow model calls too), so the
same request gets the same numbers everywhere; ``queries.py`` answers which
series and groups there are and their history; ``reports.py`` what a run
measured and a data set's EDA. Errors are typed (``errors.py``): the caller
phrases them for its users.
"""

from pipeline.serving.forecasts import ServedForecast, forecast
from pipeline.serving.production import ServingCache, ServingRun
from pipeline.serving.queries import Scope

__all__ = ["Scope", "ServedForecast", "ServingCache", "ServingRun", "forecast"]
