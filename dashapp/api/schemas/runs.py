"""The shapes of ``/api/runs`` and its logs."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from dashapp.api.schemas.common import AT_LEAST_ONE_PERIOD, MAX_ID, whole_number
from forecasting.models import MODELS


class RunSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String()
    status = fields.String()
    step = fields.String(allow_none=True)
    progress = fields.Float()
    message = fields.String(allow_none=True)
    dataset_id = fields.Integer(allow_none=True)
    options = fields.Dict()
    created_at = fields.String(allow_none=True)
    started_at = fields.String(allow_none=True)
    finished_at = fields.String(allow_none=True)
    error = fields.String(allow_none=True)
    selected_model = fields.String(allow_none=True)
    metrics = fields.Dict(allow_none=True)
    step_seconds = fields.Dict(allow_none=True)
    mlflow_run_id = fields.String(allow_none=True)
    cancel_requested = fields.Boolean()
    production = fields.Boolean()
    heartbeat_at = fields.String(
        allow_none=True,
        metadata={"description": "when the run last reported progress or checked for cancel"},
    )
    quiet_seconds = fields.Integer(
        allow_none=True, metadata={"description": "seconds since the heartbeat, while active"}
    )
    eta_seconds = fields.Integer(
        allow_none=True,
        metadata={
            "description": "while active: seconds the run expects still to take, from the "
            "time so far and the share done (the bar advances with the work's expected cost)"
        },
    )
    stalled = fields.Boolean(
        metadata={
            "description": "active, and no heartbeat for RUN_STALL_SECONDS (120 s): it may be "
            "stuck; cancelling it stops it"
        }
    )
    pruned = fields.Boolean(
        metadata={"description": "its model files and stored forecast were removed (KEEP_RUNS)"}
    )


class RunList(Schema):
    runs = fields.List(fields.Nested(RunSchema))
    production_run_id = fields.Integer(allow_none=True)


class RunRequest(Schema):
    dataset_id = whole_number(
        load_default=None,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={
            "description": "data set version to train; default the most recent one, i.e. the "
            "latest upload (POST /api/upload)"
        },
    )
    models = fields.List(
        fields.String(validate=validate.OneOf(list(MODELS))),
        load_default=None,
        allow_none=True,
        metadata={"description": "default every model"},
    )
    trials = whole_number(
        load_default=0,
        validate=validate.Range(min=0, max=500),
        metadata={"description": "Optuna trials per model"},
    )
    horizon = whole_number(
        load_default=None,
        validate=AT_LEAST_ONE_PERIOD,
        metadata={
            "description": "periods held out and forecast; default 28 days, 13 weeks or 12 months"
        },
    )
    timeout = fields.Float(
        load_default=None,
        validate=validate.Range(min=1),
        metadata={"description": "tuning time budget per model, seconds"},
    )


class LogArgs(Schema):
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**62))


class LogResponse(Schema):
    text = fields.String(required=True)
    offset = fields.Integer(required=True)
    status = fields.String()
