"""What the schemas share: whole numbers, dates, series fields and the error shape."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from storage.database import MAX_ID as MAX_ID  # the schemas' bound on ids is the database's

#: the lower bound of every horizon, said in the words ``check_horizon`` uses for the upper
AT_LEAST_ONE_PERIOD = validate.Range(
    min=1, error="The horizon must be a whole number of at least 1 period, got {input}."
)


def whole_number(**kwargs) -> fields.Integer:
    """An integer in JSON: 2.5 is refused (422), never cut to 2."""
    return fields.Integer(strict=True, **kwargs)


#: what a query date must look like, said when it does not
ISO_DATE = {"invalid": "Not a valid date: write it as YYYY-MM-DD, e.g. 2026-11-01."}


class ErrorSchema(Schema):
    error = fields.String(required=True, metadata={"description": "what went wrong"})
    detail = fields.String(required=True, metadata={"description": "what is wrong, how to fix it"})
    fields_ = fields.Dict(
        data_key="fields",
        metadata={"description": "422: per place (json, query, multipart), each invalid field's "
                  "messages"},
    )  # fmt: skip
    running_run_id = fields.Integer(
        metadata={"description": "409: the run in progress that refused this one"}
    )


def one_scope(data: dict) -> None:
    """A series or a group, not both: a stranger's request named both and was answered
    for the series alone, without a word of the group."""
    if data.get("series") is not None and data.get("group") is not None:
        raise ValidationError(
            "Give series or group, not both: the answer is for one of them.", "group"
        )


class SelectionArgs(Schema):
    series = fields.String(metadata={"description": "a series id (unique_id), or 'total'"})
    group = fields.String(metadata={"description": "series sharing a value, e.g. store=north"})

    @validates_schema
    def _one_scope(self, data: dict, **_) -> None:
        one_scope(data)


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
