"""The JSON API under ``/api`` (flask-smorest): forecasts, history, metrics, runs, uploads.

One blueprint per resource (``forecasts``, ``series``, ``models``, ``datasets``,
``runs``, ``accuracy``), each route's typed errors turned into JSON by one
decorator (``common.json_errors``), the Flask plumbing in ``edge``. Errors are
JSON ``{"error": ..., "detail": ...}`` with a proper status code; the OpenAPI 3
document at ``/api/openapi.json`` is generated from the schemas. Keeps the
original system's contract: ``POST /api/forecast {"horizon": 30}`` returns
``{"predictions": [{"date", "value", "lower", "upper"}]}``. Runs and uploads go
through the front door (``pipeline/runs.py``), as everywhere else. A series, group
or model the production run does not have is 422 on every route.
"""

from dashapp.api.edge import ApiFlask, init_api

__all__ = ["ApiFlask", "init_api"]
