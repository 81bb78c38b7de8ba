"""The shapes of ``/api/accuracy``: realised accuracy and drift."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from dashapp.api.schemas.common import MAX_ID


class AccuracyArgs(Schema):
    run_id = fields.Integer(
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "the run whose stored forecast is scored (default: serving)"},
    )


class Figures(Schema):
    mase = fields.Float(allow_none=True)
    rmsse = fields.Float(allow_none=True)
    wape = fields.Float(
        allow_none=True,
        metadata={"description": "fraction of actual volume (/api/metrics: percent)"},
    )
    bias = fields.Float(
        allow_none=True,
        metadata={
            "description": "over-forecast, fraction of actual volume (/api/metrics: percent)"
        },
    )
    coverage80 = fields.Float(allow_none=True)
    coverage95 = fields.Float(allow_none=True)


class SeriesAccuracy(Figures):
    unique_id = fields.String(required=True)
    points = fields.Integer()


class StepAccuracy(Schema):
    step = fields.Integer(required=True)
    points = fields.Integer()
    mase = fields.Float(allow_none=True)
    wape = fields.Float(allow_none=True)
    coverage80 = fields.Float(allow_none=True)
    coverage95 = fields.Float(allow_none=True)


class DriftSchema(Schema):
    drifted = fields.Boolean(required=True)
    why = fields.String()
    rule = fields.String()


class AccuracyResponse(Figures):
    run_id = fields.Integer(required=True)
    dataset_id = fields.Integer(metadata={"description": "the version the actuals come from"})
    periods = fields.Integer(
        required=True, metadata={"description": "forecast periods that now have actuals"}
    )
    points = fields.Integer(required=True, metadata={"description": "series x periods scored"})
    first = fields.String(allow_none=True)
    last = fields.String(allow_none=True)
    promised = fields.Nested(Figures, metadata={"description": "the run's held-out backtest"})
    drift = fields.Nested(DriftSchema)
    series = fields.List(fields.Nested(SeriesAccuracy))
    steps = fields.List(fields.Nested(StepAccuracy))
