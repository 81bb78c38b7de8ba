"""The shapes of ``/api/upload`` and ``/api/eda``."""

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
    country = fields.String(metadata={"description": "holiday calendar, ISO code"})
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
