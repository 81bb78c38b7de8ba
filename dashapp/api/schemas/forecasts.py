"""The shapes of ``/api/forecast`` and ``/api/historical``."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from dashapp.api.schemas.common import (
    AT_LEAST_ONE_PERIOD,
    ISO_DATE,
    SelectionArgs,
    SeriesField,
    StrictBoolean,
    one_scope,
    whole_number,
)
from forecasting.models import MODELS
from forecasting.serving.model import SERVED


class HistoryArgs(SelectionArgs):
    start = fields.Date(error_messages=ISO_DATE)
    end = fields.Date(error_messages=ISO_DATE)

    @validates_schema
    def _start_before_end(self, data: dict, **_) -> None:
        """An empty answer for reversed dates looks like missing data; say so instead."""
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise ValidationError(
                f"start {start.isoformat()} is after end {end.isoformat()}: swap them.", "start"
            )


class ForecastRequest(Schema):
    horizon = whole_number(
        required=True,
        validate=AT_LEAST_ONE_PERIOD,
        metadata={"description": "periods ahead (up to 365 days, 52 weeks or 12 months)"},
    )
    series = SeriesField(
        load_default=None,
        metadata={"description": "a series id, or a list of ids: one forecast each"},
    )
    group = fields.String(load_default=None)
    per_series = StrictBoolean(
        load_default=False,
        metadata={"description": "with a group (or none: every series), one forecast per series"},
    )
    model = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf([SERVED, *MODELS]),
        metadata={
            "description": "a model of the registry (the serving run must have trained it: 422 "
            "otherwise); default the served one"
        },
    )
    level = whole_number(load_default=95, validate=validate.OneOf([80, 95]))
    drivers = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(allow_none=True),
        load_default=None,
        metadata={
            "description": "what-if: planned driver values, one number or one per period "
            "(null: no plan for that driver; every driver null: the driver-free forecast)"
        },
    )

    @validates_schema
    def _one_scope(self, data: dict, **_) -> None:
        one_scope(data)


class Point(Schema):
    date = fields.String(required=True)
    value = fields.Float(required=True)
    lower = fields.Float(required=True)
    upper = fields.Float(required=True)
    extrapolated = fields.Boolean(
        metadata={
            "description": "past the horizon the bands were validated for: they keep "
            "widening with the square root of the step, but nothing checked them"
        }
    )


class PlannedPoint(Point):
    planned = fields.Boolean(
        metadata={"description": "whether the drivers' plan reached this period"}
    )
    drivers = fields.Dict(
        keys=fields.String(),
        values=fields.Float(allow_none=True),
        metadata={"description": "the driver values the period used (blank: no plan)"},
    )


class PlanReport(Schema):
    planned_periods = fields.Integer(
        metadata={"description": "periods the plan reached, for the series asked (fewest)"}
    )
    holes = fields.List(
        fields.String(), metadata={"description": "blanks filled inside a plan, and how"}
    )
    outside = fields.List(
        fields.String(),
        metadata={"description": "planned prices beyond a series' history, and the price used"},
    )


class SeriesForecast(Schema):
    series = fields.String(required=True)
    predictions = fields.List(fields.Nested(PlannedPoint), required=True)
    plan = fields.Nested(PlanReport, allow_none=True)


class ForecastResponse(Schema):
    predictions = fields.List(fields.Nested(PlannedPoint))
    forecasts = fields.List(
        fields.Nested(SeriesForecast),
        metadata={"description": "with a list of series or per_series: one per series"},
    )
    plan = fields.Nested(PlanReport, allow_none=True)
    horizon = fields.Integer()
    series = fields.String()
    model = fields.String(
        metadata={
            "description": "the model asked for, else the serving run's choice over all its "
            "series; what serves one series is in served, and each series' own in /api/series"
        }
    )
    level = fields.Integer()
    run_id = fields.Integer()
    validated_horizon = fields.Integer(
        metadata={"description": "periods whose bands were checked on held-out validation folds"}
    )
    served = fields.String(
        allow_none=True,
        metadata={
            "description": "what forecasts the selection: a series' ladder step and model, "
            "or, for a group or the total, what serves its series (how many by each), or how "
            "many keep a ladder forecast whatever model is asked; null when the model asked "
            "forecasts them all"
        },
    )


class HistoryPoint(Schema):
    date = fields.String(required=True)
    value = fields.Float(required=True)
    outliers = fields.Integer(
        metadata={"description": "1 where the value (a series', or the scope's sum) is an outlier"}
    )
    filled = fields.Integer(
        metadata={
            "description": "series whose value here the file did not have: the gap rule "
            "filled it (interpolated along its season, or a period without a sale)"
        }
    )


class HistoryResponse(Schema):
    series = fields.String()
    data = fields.List(fields.Nested(HistoryPoint), required=True)
