"""Request and response shapes of the JSON API (marshmallow); OpenAPI is generated from them."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from forecasting.models import MODELS
from forecasting.serving.model import SERVED

MAX_HORIZON_DAYS = 365
MAX_ID = 2**63 - 1


def whole_number(**kwargs) -> fields.Integer:
    """An integer in JSON: 2.5 is refused (422), never cut to 2."""
    return fields.Integer(strict=True, **kwargs)


#: what a query date must look like, said when it does not
ISO_DATE = {"invalid": "Not a valid date: write it as YYYY-MM-DD, e.g. 2026-11-01."}


class ErrorSchema(Schema):
    error = fields.String(required=True, metadata={"description": "what went wrong"})
    detail = fields.Raw(metadata={"description": "how to fix it, or the invalid fields"})


class SelectionArgs(Schema):
    series = fields.String(metadata={"description": "a series id (unique_id), or 'total'"})
    group = fields.String(metadata={"description": "series sharing a value, e.g. store=north"})


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


class StrictBoolean(fields.Boolean):
    """JSON true or false only: 0, 1 and "yes" are refused (``0 == False`` in Python)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError("Give true or false.")
        return value


class SeriesField(fields.Field):
    """One series id, or a list of them (answered series by series in one call)."""

    def __init__(self, **kwargs):
        # what the OpenAPI document says it takes (apispec cannot read it off a custom field)
        one_of = [
            {"type": "string", "minLength": 1},
            {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
        ]
        super().__init__(**{**kwargs, "metadata": {**kwargs.get("metadata", {}), "oneOf": one_of}})

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and value:
            return value
        if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
            return list(value)
        raise ValidationError("Give a series id or a non-empty list of series ids.")


class ForecastRequest(Schema):
    horizon = whole_number(
        required=True,
        validate=validate.Range(min=1),
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
    model = fields.String()
    level = fields.Integer()
    run_id = fields.Integer()
    validated_horizon = fields.Integer(
        metadata={"description": "periods whose bands were checked on held-out validation folds"}
    )
    served = fields.String(
        allow_none=True,
        metadata={
            "description": "what forecasts the selection: a series' ladder step and model, "
            "or how many of a group's series keep a ladder forecast whatever model is asked"
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


class SeriesDetail(Schema):
    """How one series is forecast: its ladder step, demand class and what serves it."""

    unique_id = fields.String(required=True)
    ladder_step = fields.String(
        metadata={"description": "zero, new, short or long (enough for validation)"}
    )
    ladder_note = fields.String(metadata={"description": "the ladder step in words"})
    demand_class = fields.String(
        metadata={"description": "Syntetos-Boylan: smooth, erratic, intermittent, lumpy, none"}
    )
    periods = fields.Integer()
    zero_share = fields.Float()
    adi = fields.Float(allow_none=True, metadata={"description": "mean periods between sales"})
    cv2 = fields.Float(metadata={"description": "squared coefficient of variation of sizes"})
    served_by = fields.String(metadata={"description": "model, ensemble or rule (zero, level)"})
    diverged = fields.String(
        metadata={"description": "models whose forecast diverged here and was replaced"}
    )


class SeriesResponse(Schema):
    series = fields.List(fields.String(), required=True)
    groups = fields.List(fields.String(), required=True)
    dataset_id = fields.Integer(allow_none=True)
    details = fields.List(
        fields.Nested(SeriesDetail),
        metadata={"description": "per series, when the production model serves this data set"},
    )


class ModelRow(Schema):
    model = fields.String(required=True)
    params = fields.Dict()
    validation_score = fields.Float(allow_none=True)
    validation = fields.Dict()
    test = fields.Dict()
    trials = fields.Integer()
    pruned = fields.Integer()
    seconds = fields.Float(allow_none=True)
    study_name = fields.String(allow_none=True)
    mlflow_run_id = fields.String(allow_none=True)
    artifact_uri = fields.String(allow_none=True)
    selected = fields.Boolean()
    diverged = fields.Dict(
        metadata={"description": "series whose forecast diverged and was replaced, and why"}
    )


class MetricsResponse(Schema):
    run_id = fields.Integer(allow_none=True)
    selected_model = fields.String(allow_none=True)
    served = fields.Dict(allow_none=True)
    baseline = fields.Dict(allow_none=True)
    models = fields.List(fields.Nested(ModelRow))


class DriverEffect(Schema):
    group = fields.String(metadata={"description": "total, or column=value"})
    unique_id = fields.String()
    driver = fields.String(required=True)
    role = fields.String(required=True, metadata={"description": "price or promotion"})
    effect = fields.Float(
        allow_none=True,
        metadata={
            "description": "a price's elasticity (-2: 1% dearer, 2% fewer units) or a "
            "promotion's lift (1.5: half as many again), as the served model forecasts"
        },
    )
    series = fields.Integer(
        metadata={"description": "series the group's median is over: those served using it"}
    )
    of = fields.Integer(metadata={"description": "series in the group"})
    uses_driver = fields.Boolean(
        metadata={"description": "whether the series' served forecast uses the driver"}
    )
    units = fields.Float(metadata={"description": "mean units per period it was measured at"})


class DriversResponse(Schema):
    run_id = fields.Integer(allow_none=True)
    constrained = fields.Boolean(
        metadata={"description": "whether prices and promotions keep their effects' signs"}
    )
    drivers = fields.List(fields.Dict())
    groups = fields.List(fields.Nested(DriverEffect))
    series = fields.List(fields.Nested(DriverEffect))


class ModelsResponse(Schema):
    run_id = fields.Integer(allow_none=True)
    selected_model = fields.String(allow_none=True)
    models = fields.List(fields.String())


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
        validate=validate.Range(min=1),
        metadata={
            "description": "periods held out and forecast; default 28 days, 13 weeks or 12 months"
        },
    )
    timeout = fields.Float(
        load_default=None,
        validate=validate.Range(min=1),
        metadata={"description": "tuning time budget per model, seconds"},
    )


class EdaArgs(Schema):
    dataset_id = fields.Integer(validate=validate.Range(min=1))


class LogArgs(Schema):
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**62))


class LogResponse(Schema):
    text = fields.String(required=True)
    offset = fields.Integer(required=True)
    status = fields.String()


class UploadForm(Schema):
    """The multipart upload: the file, and optional overrides of what the loader detects."""

    file = fields.Raw(
        required=True,
        metadata={"type": "string", "format": "binary", "description": "the sales CSV"},
    )
    date = fields.String(metadata={"description": "the date column"})
    target = fields.String(metadata={"description": "the sales column"})
    ids = fields.String(metadata={"description": "id columns, comma separated"})
    exog = fields.String(metadata={"description": "driver columns known ahead, comma separated"})
    country = fields.String(metadata={"description": "holiday calendar, ISO code"})
    gap_policy = fields.String(validate=validate.OneOf(["auto", "zero", "ffill", "interpolate"]))
    mode = fields.String(
        load_default="replace",
        validate=validate.OneOf(["replace", "append"]),
        metadata={
            "description": "replace: the file is the whole data set; append: new actuals "
            "added to the latest version (its columns; a changed stored value is a revision)"
        },
    )


class UploadResponse(Schema):
    dataset_id = fields.Integer(required=True, metadata={"description": "the new version"})
    report = fields.Dict(required=True)
    run_id = fields.Integer(metadata={"description": "the ingest run that stored it"})


class HealthResponse(Schema):
    status = fields.String(required=True)
    database = fields.Boolean()
    production_run_id = fields.Integer(allow_none=True)


class AccuracyArgs(Schema):
    run_id = fields.Integer(
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "the run whose stored forecast is scored (default: serving)"},
    )


class Figures(Schema):
    mase = fields.Float(allow_none=True)
    rmsse = fields.Float(allow_none=True)
    wape = fields.Float(allow_none=True, metadata={"description": "fraction of actual volume"})
    bias = fields.Float(
        allow_none=True, metadata={"description": "over-forecast, fraction of actual volume"}
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
