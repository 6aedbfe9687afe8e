"""Shared marshmallow fields."""

from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields

from core.timeutil import as_utc


class UtcDateTime(fields.DateTime):
    """ISO 8601 in UTC, whatever the database handed back (SQLite drops the zone)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else super()._serialize(as_utc(value), attr, obj, **kwargs)


# What the database's integer columns hold; every integer input is bounded by one of these.
INT32_MAX = 2**31 - 1  # INTEGER
INT64_MAX = 2**63 - 1  # BIGINT
# Whole đồng of one fee, refund or payment: a thousand billion, so sums of them stay inside BIGINT.
MAX_VND = 10**12


class FieldProblemSchema(Schema):
    class Meta:
        unknown = INCLUDE  # e.g. a statement file's line number

    field = fields.String(metadata={"description": "The field, dotted for nested ones (citizen.phone)"})
    location = fields.String(metadata={"description": "json, query, form, files, headers or path"})
    message = fields.String(metadata={"description": "In the response's language"})
    message_vi = fields.String()
    message_en = fields.String()


class ProblemSchema(Schema):
    """An RFC 9457 problem, with its text in Vietnamese and English (``title``/``detail`` follow
    Accept-Language, Vietnamese by default). Routes may add their own members."""

    class Meta:
        unknown = INCLUDE

    type = fields.String(required=True, metadata={"description": "/problems/<code>"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    code = fields.String(required=True, metadata={"description": "Stable machine-readable code"})
    detail = fields.String()
    title_vi = fields.String()
    title_en = fields.String()
    detail_vi = fields.String()
    detail_en = fields.String()
    errors = fields.List(fields.Nested(FieldProblemSchema), metadata={"description": "One entry per bad field"})
    instance = fields.String(metadata={"description": "The request's path"})
