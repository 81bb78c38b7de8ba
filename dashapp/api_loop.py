"""The planner's loop on the JSON API: realised accuracy and rolling back.

``GET /api/accuracy`` scores a run's stored forecast on the actuals that arrived
since (``pipeline.serving.accuracy``); ``POST /api/runs/<id>/promote`` makes an
earlier succeeded run serve again (``pipeline.promotion``). Appending new actuals
is ``POST /api/upload`` with ``mode=append`` (``dashapp.api``).
"""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint, abort

from dashapp import schemas
from dashapp.api import ADMIN, _read_error, _run_or_404
from dashapp.auth import admin_only
from dashapp.state import app_state
from pipeline.serving import accuracy
from pipeline.serving.errors import NoDataSet, NoForecast

loop = Blueprint("loop", __name__, url_prefix="/api", description="Actuals in, rolling back")


@loop.route("/accuracy")
class Accuracy(MethodView):
    @loop.arguments(schemas.AccuracyArgs, location="query")
    @loop.response(200, schemas.AccuracyResponse)
    @loop.alt_response(404, schema=schemas.ErrorSchema)
    @loop.alt_response(409, schema=schemas.ErrorSchema)
    def get(self, args):
        """How a run's stored forecast (the serving run's by default) did against the
        actuals appended since: overall, per series and per horizon step, next to what its
        backtest promised, and whether it drifted. ``periods`` is 0 before any arrived."""
        reads = app_state().reads
        run_id = args.get("run_id")
        if run_id is not None:
            _run_or_404(run_id)
        try:
            return accuracy.report(reads, run_id)
        except (NoForecast, NoDataSet) as exc:
            _read_error(exc, 409)


@loop.route("/runs/<int:run_id>/promote")
class RunPromote(MethodView):
    @admin_only
    @ADMIN
    @loop.response(200, schemas.RunSchema)
    @loop.alt_response(401, schema=schemas.ErrorSchema)
    @loop.alt_response(404, schema=schemas.ErrorSchema)
    @loop.alt_response(409, schema=schemas.ErrorSchema)
    def post(self, run_id):
        """Make an earlier succeeded run serve again (roll back), with its MLflow alias.

        409 for a run that failed, was cancelled, is still running, trained nothing or
        was pruned: only a succeeded run that still has its model can serve."""
        from pipeline.promotion import NotPromotable, promote

        _run_or_404(run_id)
        try:
            return promote(app_state().system, run_id)
        except NotPromotable as exc:
            abort(409, message=str(exc))
