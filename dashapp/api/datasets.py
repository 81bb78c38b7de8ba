"""``/api/datasets``, ``/api/upload`` and ``/api/eda``: the stored versions, a sales file
in (stored by an ingest run), and what the exploration found in a stored version."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import abort

from dashapp.api.common import ADMIN, QUEUE_AWAY, json_errors, resource
from dashapp.api.schemas.common import ErrorSchema
from dashapp.api.schemas.datasets import DatasetList, EdaArgs, UploadForm, UploadResponse
from dashapp.api.schemas.runs import RunSchema
from dashapp.auth import admin_only
from dashapp.state import app_state
from forecasting.data.reading_options import ReadingOptions
from pipeline import runs
from pipeline.options import RunOptions
from pipeline.serving import reports

blp = resource("datasets", "Sales files in, and what their exploration found")
#: seconds an upload request waits for its ingest run before answering 202
UPLOAD_WAIT_SECONDS = 120


@blp.route("/datasets")
class Datasets(MethodView):
    @blp.response(200, DatasetList)
    def get(self):
        """Every stored data set version, newest first: its file, sales column, frequency,
        series, rows and span, the version it was appended to, and whether the serving
        model was trained on it. A run started without ``dataset_id`` trains the latest."""
        return reports.datasets(app_state().reads)


@blp.route("/upload")
class Upload(MethodView):
    @admin_only
    @ADMIN
    @blp.arguments(UploadForm, location="multipart")
    @blp.response(201, UploadResponse)
    @blp.alt_response(202, schema=RunSchema, description="Still storing: follow the run")
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema)
    @blp.alt_response(503, schema=ErrorSchema, description=QUEUE_AWAY)
    @json_errors(422, hints=False)
    def post(self, form):
        """Upload a sales CSV (multipart field ``file``): validated, then stored by an ingest run.

        A rejected file stores nothing and starts no run; the reply (422) says what is
        wrong and how to fix it. An accepted file is stored by an ingest run (with its
        log, like every run; 409 while another run is in progress); the reply waits for
        it: 201 with the new data set version, or 202 with the run if it takes longer
        than two minutes. A run started afterwards without ``dataset_id`` trains it.

        With ``mode=append`` the file holds new actuals: they go on top of the latest
        version (same columns) as a new version; a stored period whose value changed is
        a revision (the new value wins), listed in ``report.append``.
        """
        system = app_state().system
        upload = form["file"]
        name = upload.filename or "upload.csv"
        accepted, reading = runs.accept_upload(
            system, upload.read(), name, _reading_options(form), free=True
        )
        run = runs.ingest(system, accepted, reading, wait=UPLOAD_WAIT_SECONDS)
        if runs.is_active(run):
            return run, 202
        if run["status"] != "succeeded":
            abort(500, message=f"Run {run['id']} could not store the file: {run['error']}")
        return {"dataset_id": run["dataset_id"], "report": accepted.report, "run_id": run["id"]}


def _reading_options(form: dict) -> RunOptions:
    reading = ReadingOptions.from_dict(form)  # list fields as comma-separated text
    return RunOptions(kind="eda", append=form.get("mode") == "append", reading=reading)


@blp.route("/eda")
class Eda(MethodView):
    @blp.arguments(EdaArgs, location="query")
    @blp.response(200)
    @json_errors(404)
    def get(self, args):
        """The EDA report of the serving (or latest) data set version."""
        return reports.eda(app_state().reads, args.get("dataset_id"))
