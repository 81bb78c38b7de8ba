"""The JSON API under ``/api`` (flask-smorest): forecasts, history, metrics, runs, uploads.

Errors are JSON ``{"error": ..., "detail": ...}`` with a proper status code;
the OpenAPI 3 document at ``/api/openapi.json`` is generated from the schemas.
Keeps the original system's contract: ``POST /api/forecast {"horizon": 30}``
returns ``{"predictions": [{"date", "value", "lower", "upper"}]}``. Runs and
uploads go through the front door (``pipeline/runs.py``), as everywhere else.
A series, group or model the production run does not have is 422 on every route.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar, NoReturn

from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider
from flask.views import MethodView
from flask_smorest import Api, Blueprint, abort
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.exceptions import HTTPException

from dashapp import schemas
from dashapp.auth import BEARER_SCHEME, admin_only
from dashapp.state import app_state
from forecasting.errors import DataError
from forecasting.frequency import max_horizon
from forecasting.plans import PlanUse
from forecasting.requests import ForecastRequest
from pipeline import json_output, runs, serving, uploads
from pipeline.options import RunOptions
from pipeline.serving import Scope, queries, reports
from pipeline.serving.errors import (
    NoDataSet,
    NothingServes,
    RequestError,
    UnknownDriver,
    UnknownGroup,
    UnknownModel,
    UnknownSeries,
    with_hint,
)
from storage.run_rows import RunConflict


class ApiBlueprint(Blueprint):
    """flask-smorest's blueprint with one more argument location, ``multipart``: a form's
    fields and files read together and documented as one ``multipart/form-data`` request
    body (two arguments, ``form`` and ``files``, were documented as a body and an OpenAPI 2
    ``formData`` parameter, which an OpenAPI 3 validator refuses)."""

    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING: ClassVar[dict[str, str]] = {
        **Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }


@ApiBlueprint.ARGUMENTS_PARSER.location_loader("multipart")
def _form_and_files(request, schema):
    return MultiDictProxy(CombinedMultiDict([request.form, request.files]), schema)


blp = ApiBlueprint("api", __name__, url_prefix="/api", description="Sales forecasts and runs")
#: what the routes that change things declare: the admin token as a bearer token
ADMIN = blp.doc(security=[{BEARER_SCHEME: []}])
#: seconds an upload request waits for its ingest run before answering 202
UPLOAD_WAIT_SECONDS = 120


class JsonErrorApi(Api):
    """flask-smorest with this product's error shape."""

    ERROR_SCHEMA = schemas.ErrorSchema

    def handle_http_exception(self, error: HTTPException):
        data = getattr(error, "data", None) or {}
        detail = data.get("errors") or data.get("messages") or data.get("message")
        if detail is None:
            detail = error.description
        # keep what the exception says about the protocol (Allow on 405, for one)
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        headers.update(data.get("headers") or {})
        return {"error": error.name, "detail": detail}, error.code, headers


CATCH_ALL = "<path:"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def api_methods(path: str) -> set[str]:
    """Methods the API's own routes accept at ``path``.

    Dash's page route (``/<path:path>``) matches every path, so Werkzeug alone
    would answer ``GET /api/forecast`` with the dashboard's HTML and list GET in
    every ``Allow`` header; routes ending in a catch-all are left out here.
    """
    adapter = current_app.url_map.bind("localhost")
    allowed = set()
    for method in METHODS:
        try:
            rule, _ = adapter.match(path, method=method, return_rule=True)
        except HTTPException:
            continue
        if CATCH_ALL not in rule.rule:
            allowed.add(method)
    return allowed


def allow_header(methods: set[str]) -> str:
    extra = {"OPTIONS"} | ({"HEAD"} if "GET" in methods else set())
    return ", ".join(sorted(methods | extra))


class StrictJSONProvider(DefaultJSONProvider):
    """Responses are strict JSON: a score that could not be computed is null, not NaN."""

    def dumps(self, obj, **kwargs) -> str:
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        return json_output.dumps(obj, **kwargs)


class ApiFlask(Flask):
    """Flask whose automatic OPTIONS answer under /api lists only the API's methods, and
    whose JSON is strict."""

    json_provider_class = StrictJSONProvider

    def make_default_options_response(self):
        response = super().make_default_options_response()
        if request.path.startswith("/api/"):
            response.headers["Allow"] = allow_header(api_methods(request.path))
        return response


def api_fallback(path: str):
    """Any other /api/... request: 405 naming the methods there are, or a JSON 404."""
    allowed = api_methods(request.path)
    if allowed:
        abort(
            405,
            message=f"Use {', '.join(sorted(allowed))}.",
            headers={"Allow": allow_header(allowed)},
        )
    abort(404, message=f"There is no API route {request.path}; see /api/openapi.json.")


def init_api(server) -> JsonErrorApi:
    server.config.update(
        API_TITLE="Sales forecasting API",
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
    )
    api = JsonErrorApi(server)
    api.spec.components.security_scheme(
        BEARER_SCHEME,
        {
            "type": "http",
            "scheme": "bearer",
            "description": "ADMIN_TOKEN; needed by uploads, runs, cancels and promotions when set",
        },
    )
    api.register_blueprint(blp)
    from dashapp.api_loop import loop  # its routes use this module's helpers

    api.register_blueprint(loop)
    server.add_url_rule("/api/<path:path>", "api_fallback", api_fallback, methods=METHODS)
    return api


def _bad(exc: Exception | str, status: int = 400):
    abort(status, message=str(exc))


#: where an API caller finds what a read error says is missing or unknown
READ_HINTS = {
    UnknownSeries: "see GET /api/series",
    UnknownGroup: "see GET /api/series",
    UnknownModel: "see GET /api/models",
    UnknownDriver: "see GET /api/models",
    NothingServes: "train one: POST /api/runs, or the Retraining page",
    NoDataSet: "upload one: POST /api/upload, or the Retraining page",
}


def _read_error(exc: DataError, status: int | None = None) -> NoReturn:
    """A request the read side cannot answer as asked (unknown series, group, model or
    driver, a bad value): 422 everywhere; nothing trained or stored yet: 409."""
    text = with_hint(exc, READ_HINTS)
    _bad(text, status or (422 if isinstance(exc, RequestError) else 409))


def _scope(args: dict) -> Scope:
    return Scope(series=args.get("series") or None, group=args.get("group") or None)


@blp.route("/forecast")
class Forecast(MethodView):
    @blp.arguments(schemas.ForecastRequest())
    @blp.response(200, schemas.ForecastResponse)
    def post(self, body):
        """Forecast with a prediction interval, for a series, a group or the total."""
        state = app_state()
        if body["drivers"]:  # a what-if: computed each time
            return _forecast(state.reads, body)
        asked = body["series"]
        key = (
            "forecast",
            body["horizon"],
            tuple(asked) if isinstance(asked, list) else asked,
            *(body[k] for k in ("group", "model", "level", "per_series")),
        )
        reads = state.reads
        return state.responses.respond(
            reads.generation(), key, lambda: FORECAST_RESPONSE.dump(_forecast(reads, body))
        )


FORECAST_RESPONSE = schemas.ForecastResponse()
HISTORY_RESPONSE = schemas.HistoryResponse()


def _forecast(reads: serving.ServingCache, body: dict) -> dict:
    try:
        prod = reads.production()
    except DataError as exc:
        _read_error(exc)
    limit = max_horizon(prod.serving.spec.freq)
    if body["horizon"] > limit:
        abort(422, message=f"horizon must be 1 to {limit} periods for this data set.")
    request = ForecastRequest(body["horizon"], model=body["model"], drivers=body["drivers"])
    asked = body["series"]
    batch = isinstance(asked, list) or body["per_series"]
    scope = Scope(series=None, group=body["group"]) if isinstance(asked, list) else _scope(body)
    if isinstance(asked, list):
        request = replace(request, series=tuple(dict.fromkeys(asked)))
        scope = None
    try:
        result = serving.forecast(reads, request, scope)
        served = None if batch else queries.how_served(reads, _scope(body), body["model"])
    except DataError as exc:  # an unknown selection or model, a driver that is not one
        _read_error(exc, 422)
    level = body["level"]
    drivers = list(prod.serving.spec.exog)
    out = {
        "validated_horizon": prod.serving.horizon,
        "horizon": body["horizon"],
        "model": body["model"] or prod.run["selected_model"],
        "level": level,
        "run_id": prod.run["id"],
    }
    if batch:
        rows = result.rows
        out["forecasts"] = [
            {
                "series": str(uid),
                "predictions": _points(part, level, drivers),
                "plan": _plan_report(result, [uid]),
            }
            for uid, part in rows.groupby("unique_id", sort=False)
        ]
        if isinstance(asked, list):  # in the order asked
            order = {uid: i for i, uid in enumerate(dict.fromkeys(asked))}
            out["forecasts"].sort(key=lambda f: order[f["series"]])
        out["series"] = ", ".join(map(str, asked)) if isinstance(asked, list) else scope.label
        return out
    frame = result.summed()
    one = result.rows["unique_id"].nunique() == 1
    out["predictions"] = _points(result.rows if one else frame, level, drivers if one else [])
    out["series"] = _scope(body).label
    out["served"] = served
    out["plan"] = _plan_report(result, None)
    return out


def _points(frame, level: int, drivers: list[str]) -> list[dict]:
    """The forecast periods of one series or a sum; a series' also say its plan."""
    points = []
    for row in frame.to_dict("records"):
        point = {
            "date": row["ds"].date().isoformat(),
            "value": float(row["yhat"]),
            "lower": float(row[f"lo{level}"]),
            "upper": float(row[f"hi{level}"]),
            "extrapolated": bool(row["extrapolated"]),
        }
        if drivers and "planned" in row:
            point["planned"] = bool(row["planned"]) if row["planned"] == row["planned"] else False
            point["drivers"] = {
                name: (None if row.get(name) != row.get(name) else float(row[name]))
                for name in drivers
            }
        points.append(point)
    return points


def _plan_report(result: serving.ServedForecast, series: list | None) -> dict | None:
    use = result.answer.plan
    if use is None:
        return None

    def mine(table):
        return (
            table if table is None or series is None else table.loc[table["unique_id"].isin(series)]
        )

    part = PlanUse(mine(use.rows), mine(use.holes), mine(use.outside))
    steps = part.rows.groupby("unique_id", sort=False)["planned"].sum()
    return {
        "planned_periods": int(steps.min()) if len(steps) else 0,
        "holes": part.describe_holes(limit=20),
        "outside": part.describe_outside(limit=20),
    }


@blp.route("/historical")
class Historical(MethodView):
    @blp.arguments(schemas.HistoryArgs(), location="query")
    @blp.response(200, schemas.HistoryResponse)
    def get(self, args):
        """Sales history (summed over the selection), with outlier counts per period."""
        state = app_state()
        key = ("history", *(args.get(k) for k in ("series", "group", "start", "end")))
        reads = state.reads
        return state.responses.respond(
            reads.generation(), key, lambda: HISTORY_RESPONSE.dump(_history(reads, args))
        )


def _history(reads: serving.ServingCache, args: dict) -> dict:
    try:
        frame = queries.history(reads, _scope(args))
    except DataError as exc:
        _read_error(exc)
    if args.get("start"):
        frame = frame.loc[frame["ds"].dt.date >= args["start"]]
    if args.get("end"):
        frame = frame.loc[frame["ds"].dt.date <= args["end"]]
    return {
        "series": _scope(args).label,
        "data": [
            {"date": ds.date().isoformat(), "value": float(y), "outliers": int(o), "filled": int(f)}
            for ds, y, o, f in zip(
                frame["ds"], frame["y"], frame["outliers"], frame["filled"], strict=True
            )
        ],
    }


@blp.route("/series")
class SeriesList(MethodView):
    @blp.response(200, schemas.SeriesResponse)
    def get(self):
        """Every series id (largest first) and the groups they form."""
        reads = app_state().reads
        details = queries.series_details(reads)
        return {
            **queries.series_options(reads),
            "dataset_id": reads.dataset_id(),
            "details": details.to_dict(orient="records") if details is not None else [],
        }


@blp.route("/metrics")
class Metrics(MethodView):
    @blp.response(200, schemas.MetricsResponse)
    def get(self):
        """Held-out accuracy of the served forecast and of every model, with the baseline."""
        reads = app_state().reads
        run_id = runs.production_run_id(reads.system)
        if run_id is None:
            return {"run_id": None, "selected_model": None, "served": None, "models": []}
        run = runs.status(reads.system, run_id)
        models = reports.model_table(reads, run_id)
        return {
            "run_id": run_id,
            "selected_model": run["selected_model"],
            "served": run["metrics"],
            "baseline": reports.baseline_metrics(models),
            "models": models,
        }


@blp.route("/models")
class Models(MethodView):
    @blp.response(200, schemas.ModelsResponse)
    def get(self):
        """The trained models of the production run, and the one served."""
        reads = app_state().reads
        if not reads.serves():
            return {"run_id": None, "selected_model": None, "models": []}
        prod = reads.production()
        return {
            "run_id": prod.run["id"],
            "selected_model": prod.run["selected_model"],
            "models": prod.serving.models,
        }


@blp.route("/drivers")
class Drivers(MethodView):
    @blp.response(200, schemas.DriversResponse)
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
    def get(self):
        """Feature importance of the tree models (xgboost, random_forest) in production."""
        try:
            return reports.feature_importance(app_state().reads)
        except DataError as exc:
            _read_error(exc)


@blp.route("/eda")
class Eda(MethodView):
    @blp.arguments(schemas.EdaArgs, location="query")
    @blp.response(200)
    def get(self, args):
        """The EDA report of the serving (or latest) data set version."""
        try:
            return reports.eda(app_state().reads, args.get("dataset_id"))
        except DataError as exc:
            _read_error(exc, 404)


@blp.route("/upload")
class Upload(MethodView):
    @admin_only
    @ADMIN
    @blp.arguments(schemas.UploadForm, location="multipart")
    @blp.response(201, schemas.UploadResponse)
    @blp.alt_response(202, schema=schemas.RunSchema, description="Still storing: follow the run")
    @blp.alt_response(401, schema=schemas.ErrorSchema)
    @blp.alt_response(409, schema=schemas.ErrorSchema)
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
        state = app_state()
        upload = form["file"]
        reading = _reading_options(form)
        try:
            reading = runs.resolve_append(state.system, reading)
            raw = upload.read()
            # judged first: a file that is wrong says so (422) whether or not a run is busy
            validated = uploads.judge(state.settings, raw, reading, state.system.db)
            busy = runs.active(state.system)  # then the one-run rule, before anything is kept
            if busy is not None:
                raise RunConflict(busy["id"])
            name = upload.filename or "upload.csv"
            accepted = uploads.keep(state.settings, raw, name, reading, validated)
            run = runs.ingest(state.system, accepted, reading, wait=UPLOAD_WAIT_SECONDS)
        except RunConflict as exc:
            _conflict(exc)
        except DataError as exc:
            _bad(exc, 422)
        if runs.is_active(run):
            return run, 202
        if run["status"] != "succeeded":
            abort(500, message=f"Run {run['id']} could not store the file: {run['error']}")
        return {"dataset_id": run["dataset_id"], "report": accepted.report, "run_id": run["id"]}


def _conflict(exc: RunConflict) -> NoReturn:
    """409 that says which run holds the slot and what to do: wait, or cancel it."""
    abort(409, errors={"running_run_id": exc.running_id, "message": str(exc)})


def _reading_options(form: dict) -> RunOptions:
    fields = {k: form[k] for k in ("date", "target", "country", "gap_policy") if form.get(k)}
    for name in ("ids", "exog", "prices", "promotions"):
        if form.get(name):
            fields[name] = [s.strip() for s in form[name].split(",") if s.strip()]
    return RunOptions(kind="eda", append=form.get("mode") == "append", **fields)


@blp.route("/runs")
class Runs(MethodView):
    @blp.response(200, schemas.RunList)
    def get(self):
        """Runs, newest first."""
        system = app_state().system
        return {"runs": runs.list_runs(system), "production_run_id": runs.production_run_id(system)}

    @admin_only
    @ADMIN
    @blp.arguments(
        schemas.RunRequest,
        required=False,
        description="optional: no body (or {}) trains the most recent data set version with "
        "the defaults",
    )
    @blp.response(202, schemas.RunSchema)
    @blp.alt_response(401, schema=schemas.ErrorSchema)
    @blp.alt_response(409, schema=schemas.ErrorSchema)
    def post(self, body):
        """Start training (one run at a time; 409 names the running one).

        Without ``dataset_id`` the run trains the most recent data set version, which
        is the latest upload (``POST /api/upload``); name a version to train another.
        """
        system = app_state().system
        try:
            return runs.submit(system, _train_options(body))
        except RunConflict as exc:
            _conflict(exc)
        except DataError as exc:
            _bad(exc, 422)


def _train_options(body: dict) -> RunOptions:
    chosen = {k: body[k] for k in ("dataset_id", "horizon", "timeout") if body.get(k) is not None}
    if body.get("models"):
        chosen["models"] = list(body["models"])
    return RunOptions(kind="train", trials=body.get("trials") or 0, **chosen)


def _run_or_404(run_id: int) -> dict:
    run = runs.status(app_state().system, run_id)
    if run is None:
        abort(404, message=f"There is no run {run_id}.")
    return run


@blp.route("/runs/<int:run_id>")
class RunDetail(MethodView):
    @blp.response(200, schemas.RunSchema)
    def get(self, run_id):
        """One run: status, step, progress, heartbeat (stalled or not), timings, metrics, error."""
        return _run_or_404(run_id)


@blp.route("/runs/<int:run_id>/cancel")
class RunCancel(MethodView):
    @admin_only
    @ADMIN
    @blp.response(202, schemas.RunSchema)
    @blp.alt_response(401, schema=schemas.ErrorSchema)
    @blp.alt_response(409, schema=schemas.ErrorSchema)
    def post(self, run_id):
        """Ask a queued or running run to stop (409 when it has already ended).

        It ends ``cancelled`` at its next check (about a second); a run that does not
        reach one within 10 s has its processes stopped and is marked cancelled.
        """
        run = _run_or_404(run_id)
        if not runs.is_active(run):
            abort(409, message=f"Run {run_id} already ended ({run['status']}); nothing to cancel.")
        return runs.cancel(app_state().system, run_id)


@blp.route("/runs/<int:run_id>/logs")
class RunLogs(MethodView):
    @blp.arguments(schemas.LogArgs, location="query")
    @blp.response(200, schemas.LogResponse)
    def get(self, args, run_id):
        """Whole log lines from byte ``offset`` on, and the offset to ask for next."""
        run = _run_or_404(run_id)
        text, offset = runs.read_log(app_state().system, run_id, args["offset"])
        return {"text": text, "offset": offset, "status": run["status"]}


@blp.route("/runs/<int:run_id>/log.txt")
class RunLogFile(MethodView):
    @blp.response(200, content_type="text/plain")
    def get(self, run_id):
        """The whole run log as a text file download."""
        _run_or_404(run_id)
        return current_app.response_class(
            runs.log_text(app_state().system, run_id),
            mimetype="text/plain",
            headers={"Content-Disposition": f"attachment; filename=run-{int(run_id)}.log"},
        )
