"""The API's Flask plumbing: strict JSON, JSON errors, honest ``Allow`` headers, and the
registration of every resource's blueprint."""

from __future__ import annotations

from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Api, abort
from werkzeug.exceptions import HTTPException

from dashapp.api import accuracy, datasets, forecasts, models, runs, series
from dashapp.api.schemas.common import ErrorSchema
from dashapp.auth import BEARER_SCHEME
from pipeline import json_output

#: every resource's blueprint, in the order the OpenAPI document lists them
RESOURCES = (forecasts.blp, series.blp, models.blp, datasets.blp, runs.blp, accuracy.blp)


class JsonErrorApi(Api):
    """flask-smorest with this product's error shape."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException):
        """``detail`` is always a sentence; what a program acts on has its own field: the
        invalid ``fields`` (per place: json, query, multipart), the ``running_run_id``."""
        data = getattr(error, "data", None) or {}
        body = {"error": error.name}
        fields = _keyed(data.get("messages"))  # webargs: per place, per field, the messages
        if isinstance(fields, dict) and fields and error.code == 422:
            body["detail"] = "Invalid " + "; ".join(_said(fields)) + "."
            body["fields"] = fields
        elif isinstance(fields, dict) and fields:  # a body that is not JSON: no field to name
            body["detail"] = " ".join(p.split(": ", 1)[-1] + "." for p in _said(fields))
        else:
            body["detail"] = str(data.get("message") or error.description)
            if data.get("fields") and error.code == 422:  # the product's own, by field
                body["fields"] = data["fields"]
        if data.get("running_run_id") is not None:
            body["running_run_id"] = data["running_run_id"]
        # keep what the exception says about the protocol (Allow on 405, for one)
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        headers.update(data.get("headers") or {})
        return body, error.code, headers


#: the name given to a multipart part whose name could not be read
UNNAMED = "(a part without a readable name)"


def _keyed(messages):
    """``messages`` with every key a string: a multipart part named with a lone carriage
    return reaches webargs as the key None, which JSON cannot sort (a fuzzed upload
    answered 500)."""
    if not isinstance(messages, dict):
        return messages
    return {(k if isinstance(k, str) else UNNAMED): _keyed(v) for k, v in messages.items()}


#: marshmallow's key for what is wrong with the whole body rather than one field
WHOLE = "_schema"
#: what marshmallow says of a body that is not an object, and what a client should do
NOT_AN_OBJECT = "Invalid input type."
AN_OBJECT = "it must be a JSON object of the documented fields, not a list, string or number"
#: webargs' places as a client knows them
PLACES = {"json": "body"}


def _said(messages, path: str = "") -> list[str]:
    """Validation messages as "place field: message" phrases, nested fields dotted."""
    if isinstance(messages, dict):
        return [
            phrase
            for key, value in messages.items()
            for phrase in _said(
                [AN_OBJECT if m == NOT_AN_OBJECT else m for m in value]
                if key == WHOLE and isinstance(value, list)
                else value,
                path if key == WHOLE else f"{path}.{key}" if path else PLACES.get(key, key),
            )
        ]
    if isinstance(messages, list | tuple) and all(isinstance(m, str) for m in messages):
        said = " ".join(m.rstrip(".") + "." for m in messages).rstrip(".")
        return [f"{path.replace('.', ' ', 1)}: {said}"]
    if isinstance(messages, list | tuple):
        return [p for i, m in enumerate(messages) for p in _said(m, f"{path}.{i}")]
    return [f"{path.replace('.', ' ', 1)}: {str(messages).rstrip('.')}"]


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


#: the routes whose body is a form (a file upload); every other body is JSON
FORM_ROUTES = ("/api/upload",)


def refuse_bodies_not_json() -> None:
    """A body sent to a JSON route in another form gets 415 saying how to send it.

    ``curl -d`` without a Content-Type sends a form: before, a forecast was answered
    "horizon: Missing data" and a run was started with the defaults, the body unread.
    """
    path = request.path
    if request.method not in ("POST", "PUT", "PATCH") or not path.startswith("/api/"):
        return
    if path in FORM_ROUTES or request.is_json or not (request.content_length or request.data):
        return
    said = request.content_type or "no Content-Type"
    abort(
        415,
        message=f"The body must be JSON sent with 'Content-Type: application/json' (this "
        f"request said {said!r}); with curl: -H 'Content-Type: application/json' "
        "-d '{\"horizon\": 7}'.",
    )


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
    for blueprint in RESOURCES:
        api.register_blueprint(blueprint)
    server.add_url_rule("/api/<path:path>", "api_fallback", api_fallback, methods=METHODS)
    server.before_request(refuse_bodies_not_json)
    return api
