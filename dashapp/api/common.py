"""What every resource of the API shares: its blueprint kind, the admin mark, one error
decorator and the lookups each route starts with."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ClassVar

from flask import request
from flask_smorest import Blueprint, abort
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import CombinedMultiDict

from dashapp.auth import BEARER_SCHEME
from dashapp.state import app_state
from forecasting.errors import DataError
from forecasting.serving.scopes import Scope
from pipeline import runs
from pipeline.serving.errors import (
    NoDataSet,
    NothingServes,
    ReadError,
    UnknownDriver,
    UnknownGroup,
    UnknownModel,
    UnknownSeries,
    with_hint,
)
from pipeline.workers import QueueUnavailable
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


def resource(name: str, description: str) -> ApiBlueprint:
    """The blueprint of one resource under ``/api``."""
    return ApiBlueprint(name, f"dashapp.api.{name}", url_prefix="/api", description=description)


#: what the routes that change things declare: the admin token as a bearer token
ADMIN = Blueprint.doc(security=[{BEARER_SCHEME: []}])

#: where an API caller finds what a read error says is missing or unknown
READ_HINTS = {
    UnknownSeries: "see GET /api/series",
    UnknownGroup: "see GET /api/series",
    UnknownModel: "see GET /api/models",
    UnknownDriver: "see GET /api/models",
    NothingServes: "train one: POST /api/runs, or the Retraining page",
    NoDataSet: "upload one: POST /api/upload, or the Retraining page",
}


QUEUE_AWAY = "REDIS_URL is set and Redis does not answer: nothing was started"


def json_errors(status: int | None = None, hints: bool = True) -> Callable:
    """A route's typed errors as the API's JSON errors: a run in progress is 409 naming
    it; the run workers' queue away is 503 (``QUEUE_AWAY``); a request the read side
    cannot answer as asked (unknown series, group, model or driver, a bad value) 422;
    something not trained or stored yet 409; any other bad input 422. ``status`` gives
    every ``DataError`` that status instead; ``hints`` adds where the caller finds what
    is missing or unknown (``READ_HINTS``)."""

    def decorate(route: Callable) -> Callable:
        @functools.wraps(route)
        def answered(*args, **kwargs):
            try:
                return route(*args, **kwargs)
            except RunConflict as exc:  # which run holds the slot: wait, or cancel it
                abort(409, message=str(exc), running_run_id=exc.running_id)
            except QueueUnavailable as exc:  # REDIS_URL set and Redis away: nothing started
                abort(503, message=str(exc))
            except DataError as exc:
                text = with_hint(exc, READ_HINTS) if hints else str(exc)
                code = status or (409 if isinstance(exc, ReadError) else 422)
                abort(code, message=text, **_fields(exc, text) if code == 422 else {})

        return answered

    return decorate


def _fields(exc: DataError, text: str) -> dict:
    """The ``fields`` of a 422 the request's values caused, as webargs gives its own: a
    program reads which field to change the same way for either (``RequestError.field``)."""
    field = getattr(exc, "field", None)
    if field is None:
        return {}
    if request.method in ("GET", "HEAD"):
        place = "query"
    else:  # an upload's fields are the form's
        place = "multipart" if request.mimetype == "multipart/form-data" else "json"
    return {"fields": {place: {field: [text]}}}


def run_or_404(run_id: int) -> dict:
    run = runs.status(app_state().system, run_id)
    if run is None:
        abort(404, message=f"There is no run {run_id}.")
    return run


def scope_of(args: dict) -> Scope:
    """The series, group or total a request's arguments name."""
    return Scope(series=args.get("series") or None, group=args.get("group") or None)
