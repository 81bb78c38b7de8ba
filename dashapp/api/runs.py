"""``/api/runs`` and below: start, follow, cancel and promote runs, and read their logs."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import abort

from dashapp.api.common import ADMIN, QUEUE_AWAY, json_errors, resource, run_or_404
from dashapp.api.schemas.common import ErrorSchema
from dashapp.api.schemas.runs import LogArgs, LogResponse, RunList, RunRequest, RunSchema
from dashapp.auth import admin_only
from dashapp.state import app_state
from pipeline import runs
from pipeline.options import RunOptions

blp = resource("runs", "Training runs: start, follow, cancel, roll back")


@blp.route("/runs")
class Runs(MethodView):
    @blp.response(200, RunList)
    def get(self):
        """Runs, newest first."""
        system = app_state().system
        return {"runs": runs.list_runs(system), "production_run_id": runs.production_run_id(system)}

    @admin_only
    @ADMIN
    @blp.arguments(
        RunRequest,
        required=False,
        description="optional: no body (or {}) trains the most recent data set version with "
        "the defaults",
    )
    @blp.response(202, RunSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema)
    @blp.alt_response(503, schema=ErrorSchema, description=QUEUE_AWAY)
    @blp.alt_response(415, schema=ErrorSchema, description="a body that is not JSON")
    @json_errors(422, hints=False)
    def post(self, body):
        """Start training (one run at a time; 409 names the running one).

        Without ``dataset_id`` the run trains the most recent data set version, which
        is the latest upload (``POST /api/upload``); name a version to train another.
        """
        return runs.submit(app_state().system, _train_options(body))


def _train_options(body: dict) -> RunOptions:
    chosen = {k: body[k] for k in ("dataset_id", "horizon", "timeout") if body.get(k) is not None}
    if body.get("models"):
        chosen["models"] = list(body["models"])
    return RunOptions(kind="train", trials=body.get("trials") or 0, **chosen)


@blp.route("/runs/<int:run_id>")
class RunDetail(MethodView):
    @blp.response(200, RunSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no run with this id")
    def get(self, run_id):
        """One run: status, step, progress, heartbeat (stalled or not), timings, metrics, error."""
        return run_or_404(run_id)


@blp.route("/runs/<int:run_id>/cancel")
class RunCancel(MethodView):
    @admin_only
    @ADMIN
    @blp.response(202, RunSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no run with this id")
    @blp.alt_response(409, schema=ErrorSchema)
    def post(self, run_id):
        """Ask a queued or running run to stop (409 when it has already ended).

        It ends ``cancelled`` at its next check (about a second); a run that does not
        reach one within 10 s has its processes stopped and is marked cancelled.
        """
        run = run_or_404(run_id)
        if not runs.is_active(run):
            abort(409, message=f"Run {run_id} already ended ({run['status']}); nothing to cancel.")
        return runs.cancel(app_state().system, run_id)


@blp.route("/runs/<int:run_id>/promote")
class RunPromote(MethodView):
    @admin_only
    @ADMIN
    @blp.response(200, RunSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema)
    def post(self, run_id):
        """Make an earlier succeeded run serve again (roll back), with its MLflow alias.

        409 for a run that failed, was cancelled, is still running, trained nothing or
        was pruned: only a succeeded run that still has its model can serve."""
        from pipeline.promotion import NotPromotable, promote

        run_or_404(run_id)
        try:
            return promote(app_state().system, run_id)
        except NotPromotable as exc:
            abort(409, message=str(exc))


@blp.route("/runs/<int:run_id>/logs")
class RunLogs(MethodView):
    @blp.arguments(LogArgs, location="query")
    @blp.response(200, LogResponse)
    @blp.alt_response(404, schema=ErrorSchema, description="no run with this id")
    def get(self, args, run_id):
        """Whole log lines from byte ``offset`` on, and the offset to ask for next."""
        run = run_or_404(run_id)
        text, offset = runs.read_log(app_state().system, run_id, args["offset"])
        return {"text": text, "offset": offset, "status": run["status"]}


@blp.route("/runs/<int:run_id>/log.txt")
class RunLogFile(MethodView):
    @blp.response(200, content_type="text/plain")
    @blp.alt_response(404, schema=ErrorSchema, description="no run with this id")
    def get(self, run_id):
        """The whole run log as a text file download."""
        run_or_404(run_id)
        return current_app.response_class(
            runs.log_text(app_state().system, run_id),
            mimetype="text/plain",
            headers={"Content-Disposition": f"attachment; filename=run-{int(run_id)}.log"},
        )
