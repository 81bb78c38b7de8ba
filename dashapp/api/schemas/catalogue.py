"""The shapes of ``/api/series``, ``/api/metrics``, ``/api/models`` and ``/api/drivers``."""

from __future__ import annotations

from marshmallow import Schema, fields


class SeriesDetail(Schema):
    """How one series is forecast: its ladder step, demand class and what serves it."""

    unique_id = fields.String(required=True)
    ladder_step = fields.String(
        metadata={
            "description": "zero, new, short, long (enough for validation) or ended (no "
            "record in the file's last periods: zero forecast)"
        }
    )
    ladder_note = fields.String(metadata={"description": "the ladder step in words"})
    demand_class = fields.String(
        metadata={"description": "Syntetos-Boylan: smooth, erratic, intermittent, lumpy, none"}
    )
    periods = fields.Integer()
    zero_share = fields.Float()
    adi = fields.Float(allow_none=True, metadata={"description": "mean periods between sales"})
    cv2 = fields.Float(metadata={"description": "squared coefficient of variation of sizes"})
    served_by = fields.String(
        metadata={"description": "model, ensemble or rule (zero, level) of the stored forecast"}
    )
    served_with_a_plan = fields.String(
        metadata={"description": "where drivers serve and no plan is on file: what a plan "
                  "switches the series to"},
    )  # fmt: skip
    served_past_the_plan = fields.String(
        metadata={"description": "where a plan is on file: what serves past its last period"}
    )
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
    true_drivers = fields.List(
        fields.String(),
        metadata={
            "description": "drivers whose actual held-out values the test scores used; a "
            "forecast has them only where a plan gives them"
        },
    )


#: the units of a run's scores (``/api/accuracy`` gives fractions where these are percents)
SCORE_UNITS = (
    "held-out scores as the run log gives them: mase and rmsse as ratios to the naive "
    "forecasts' errors; wape, smape, mape and bias in percent (25.0 is a quarter of "
    "the volume; /api/accuracy gives fractions); coverage80 and coverage95 as fractions"
)


class MetricsResponse(Schema):
    run_id = fields.Integer(allow_none=True)
    selected_model = fields.String(allow_none=True)
    served = fields.Dict(allow_none=True, metadata={"description": SCORE_UNITS})
    baseline = fields.Dict(allow_none=True, metadata={"description": SCORE_UNITS})
    models = fields.List(fields.Nested(ModelRow))
    scope = fields.Dict(
        allow_none=True,
        metadata={
            "description": "with series or group: that scope's held-out scores (label, "
            "series held out, and served, baseline and, where drivers serve, with_plan and "
            "without_plan, each mase (mean over its series) and wape (pooled, percent)); "
            "null for the total"
        },
    )


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
