"""``/api/metrics``, ``/api/models``, ``/api/drivers``, ``/api/feature-importance``: what
the serving run trained, how it scored, and what its drivers do."""

from __future__ import annotations

from flask.views import MethodView

from dashapp.api.common import json_errors, resource, scope_of
from dashapp.api.schemas.catalogue import DriversResponse, MetricsResponse, ModelsResponse
from dashapp.api.schemas.common import SelectionArgs
from dashapp.state import app_state
from forecasting.serving.scopes import members
from pipeline import runs
from pipeline.serving import reports

blp = resource("models", "The serving run's models, scores and driver effects")


@blp.route("/metrics")
class Metrics(MethodView):
    @blp.arguments(SelectionArgs, location="query")
    @blp.response(200, MetricsResponse)
    @json_errors()
    def get(self, args):
        """Held-out accuracy of the served forecast and of every model, with the baseline;
        with ``series`` or ``group``, that scope's own beside them (``scope``)."""
        reads = app_state().reads
        run_id = runs.production_run_id(reads.system)
        if run_id is None:
            return {"run_id": None, "selected_model": None, "served": None, "models": []}
        run = runs.status(reads.system, run_id)
        models = reports.model_table(reads, run_id)
        scope, scoped = scope_of(args), None
        if scope.series or scope.group:  # the keys of the serving run's data set
            scoped = reports.scope_scores(reads, members(scope, reads.keys()))
        return {
            "run_id": run_id,
            "selected_model": run["selected_model"],
            "served": run["metrics"],
            "baseline": reports.baseline_metrics(models),
            "models": models,
            "scope": None if scoped is None else {"label": scope.label, **scoped},
        }


@blp.route("/models")
class Models(MethodView):
    @blp.response(200, ModelsResponse)
    def get(self):
        """The trained models of the production run, and the one served."""
        reads = app_state().reads
        if not reads.serves():
            return {"run_id": None, "selected_model": None, "models": []}
        prod = reads.serving_run()
        return {
            "run_id": prod.run["id"],
            "selected_model": prod.run["selected_model"],
            "models": prod.serving.models,
        }


@blp.route("/drivers")
class Drivers(MethodView):
    @blp.response(200, DriversResponse)
    def get(self):
        """The drivers of the serving run, their roles and the served model's implied
        price elasticity and promotion lift, per group and per series."""
        reads = app_state().reads
        if not reads.serves():
            return {"run_id": None, "drivers": [], "groups": [], "series": []}
        return reports.driver_effects(reads)


@blp.route("/feature-importance")
class FeatureImportance(MethodView):
    @blp.response(200)
    @json_errors()
    def get(self):
        """Feature importance of the tree models (xgboost, random_forest) in production."""
        return reports.feature_importance(app_state().reads)
