"""The shapes of ``/api/datasets``, ``/api/upload`` and ``/api/eda``."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from dashapp.api.schemas.common import MAX_ID
from forecasting.data.gaps import GAP_POLICIES


class EdaArgs(Schema):
    dataset_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))


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
    prices = fields.String(
        metadata={
            "description": "drivers that are prices (forecasts never rise with them), comma "
            "separated; columns named like price, Preis, prix, precio are prices anyway"
        }
    )
    promotions = fields.String(
        metadata={
            "description": "drivers that are promotions (forecasts never fall with them), "
            "comma separated; columns named like promo, Aktion, deal are anyway"
        }
    )
    country = fields.String(
        metadata={
            "description": "holiday calendar, ISO code (none: no holidays); default the latest "
            "stored version's, else the deployment's HOLIDAY_COUNTRY"
        }
    )
    gap_policy = fields.String(
        validate=validate.OneOf(GAP_POLICIES),
        metadata={"description": "how missing periods are filled (default auto)"},
    )
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


class DatasetSchema(Schema):
    """A stored data set version, as a client picks one to train or explore."""

    id = fields.Integer(required=True)
    source_name = fields.String(required=True, metadata={"description": "the file's name"})
    sales_column = fields.String(
        allow_none=True, metadata={"description": "the column read as the sales"}
    )
    freq = fields.String(required=True, metadata={"description": "pandas alias, e.g. D, W-SUN"})
    country = fields.String(allow_none=True, metadata={"description": "holiday calendar"})
    drivers = fields.List(fields.String(), metadata={"description": "columns kept as drivers"})
    series = fields.Integer(required=True)
    rows = fields.Integer(required=True, metadata={"description": "after cleaning"})
    start = fields.String(required=True, metadata={"description": "first date, YYYY-MM-DD"})
    end = fields.String(required=True, metadata={"description": "last date, YYYY-MM-DD"})
    created_at = fields.String(required=True, metadata={"description": "UTC, ISO 8601"})
    parent_id = fields.Integer(
        allow_none=True, metadata={"description": "the version new actuals were appended to"}
    )
    serving = fields.Boolean(
        required=True, metadata={"description": "the serving model was trained on it"}
    )


class DatasetList(Schema):
    datasets = fields.List(fields.Nested(DatasetSchema), metadata={"description": "newest first"})
    latest_dataset_id = fields.Integer(
        allow_none=True,
        metadata={"description": "what a run started without dataset_id trains"},
    )
    serving_dataset_id = fields.Integer(
        allow_none=True, metadata={"description": "what the serving model was trained on"}
    )
