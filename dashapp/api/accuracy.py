"""``/api/accuracy``: the planner's loop on the API, a stored forecast against the actuals
that arrived since (``pipeline.serving.accuracy``). Appending new actuals is ``POST
/api/upload`` with ``mode=append``; rolling back is ``POST /api/runs/<id>/promote``."""

from __future__ import annotations

from flask.views import MethodView

from dashapp.api.common import json_errors, resource, run_or_404
from dashapp.api.schemas.accuracy import AccuracyArgs, AccuracyResponse
from dashapp.api.schemas.common import ErrorSchema
from dashapp.state import app_state
from pipeline.serving import accuracy

blp = resource("accuracy", "Realised accuracy: stored forecasts against the actuals since")


@blp.route("/accuracy")
class Accuracy(MethodView):
    @blp.arguments(AccuracyArgs, location="query")
    @blp.response(200, AccuracyResponse)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema)
    @json_errors()
    def get(self, args):
        """How a run's stored forecast (the serving run's by default) did against the
        actuals appended since: overall, per series and per horizon step, next to what its
        backtest promised, and whether it drifted. ``periods`` is 0 before any arrived."""
        run_id = args.get("run_id")
        if run_id is not None:
            run_or_404(run_id)
        return accuracy.report(app_state().reads, run_id)
