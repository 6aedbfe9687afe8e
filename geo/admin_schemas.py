"""Marshmallow schemas of the service-point admin API (``geo.api_admin``).

Output uses ``geo.schemas.ServicePointSchema``. ``geo.admin`` checks the same rules again
(for other callers, and for a partial change against the stored point).
"""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from core.timeutil import to_local, utcnow
from geo.admin import CODE_PATTERN, DEFAULT_COORD_SOURCE
from geo.hours import validate_hours
from geo.models import CoordPrecision, Tier
from geo.points_import import LEVELS, MAX_DAILY_CAPACITY
from geo.territory import in_vietnam

_not_blank = validate.Length(min=1, error="Must not be blank.")


def _local_today():
    return to_local(utcnow()).date()


class ServicePointUpdateSchema(Schema):
    """Fields to change; those left out keep their value. To close or reopen a point use
    ``/close`` and ``/reopen``; the code never changes."""

    tier = fields.Enum(Tier, by_value=True)
    name = fields.String(validate=validate.Length(min=3, max=200))
    address = fields.String(validate=validate.Length(min=3, max=400))
    unit_code = fields.String(allow_none=True, validate=validate.Length(max=16),
                              metadata={"description": "Administrative unit code, when the point has one"})
    lat = fields.Float(validate=validate.Range(min=-90, max=90), metadata={"description": "WGS84, in Vietnam"})
    lon = fields.Float(validate=validate.Range(min=-180, max=180), metadata={"description": "WGS84, in Vietnam"})
    coord_source = fields.String(validate=[_not_blank, validate.Length(max=400)],
                                 metadata={"description": "Where the coordinates come from"})
    coord_precision = fields.Enum(CoordPrecision, by_value=True, metadata={
        "description": "How precisely the coordinates place the office (default for a new point: unknown)"})
    source_url = fields.Url(allow_none=True, schemes={"http", "https"}, validate=validate.Length(max=500),
                            metadata={"description": "The public page the address comes from"})
    opening_hours = fields.String(validate=validate_hours, metadata={
        "description": "\"24/7\", or OpenStreetMap-style rules such as "
                       "\"Mo-Fr 08:00-11:30,13:30-17:00; Sa 08:00-12:00; PH off\"",
        "example": "Mo-Fr 08:00-17:00; Sa 08:00-12:00; PH off"})
    levels = fields.List(fields.String(validate=validate.OneOf(LEVELS)), validate=validate.Length(min=1),
                         metadata={"description": "Procedure levels received here"})
    daily_capacity = fields.Integer(validate=validate.Range(min=1, max=MAX_DAILY_CAPACITY),
                                    metadata={"description": "Dossiers a day"})
    active_from = fields.Date(allow_none=True, metadata={"description": "First open day; empty: open now"})

    @validates_schema
    def checks(self, data, **kwargs):
        if not data:
            raise ValidationError("Give at least one field to change.", field_name="_schema")
        if "lat" in data and "lon" in data and not in_vietnam(data["lat"], data["lon"]):
            raise ValidationError("The location is not in Vietnam.", field_name="lat")
        start, end = data.get("active_from"), data.get("active_to")
        if start and end and end < start:
            raise ValidationError("Must be on or after active_from.", field_name="active_to")


class ServicePointCreateSchema(ServicePointUpdateSchema):
    """A new point. Opening hours, levels and daily capacity default to the tier's."""

    code = fields.String(required=True, validate=validate.Regexp(CODE_PATTERN),
                         metadata={"description": "Unique; starts dossier numbers", "example": "HN-X00200"})
    tier = fields.Enum(Tier, by_value=True, required=True)
    name = fields.String(required=True, validate=validate.Length(min=3, max=200))
    address = fields.String(required=True, validate=validate.Length(min=3, max=400))
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90),
                       metadata={"description": "WGS84, in Vietnam"})
    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180),
                       metadata={"description": "WGS84, in Vietnam"})
    coord_source = fields.String(validate=[_not_blank, validate.Length(max=400)],
                                 metadata={"description": f"Where the coordinates come from "
                                                          f"(default: \"{DEFAULT_COORD_SOURCE}\")"})
    active_to = fields.Date(allow_none=True, metadata={"description": "Last open day; empty: no end"})


class ClosePointSchema(Schema):
    on = fields.Date(load_default=_local_today,
                     metadata={"description": "First day closed (default: today, Asia/Ho_Chi_Minh)"})
    reason = fields.String(required=True, validate=[_not_blank, validate.Length(max=500)])


class ImportFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "CSV, UTF-8, in the export's format"})


class FieldErrorSchema(Schema):
    field = fields.String()
    location = fields.String()
    message_vi = fields.String()
    message_en = fields.String()


class RejectedRowSchema(Schema):
    line = fields.Integer(metadata={"description": "Line in the file (the header is line 1)"})
    code = fields.String(allow_none=True)
    errors = fields.List(fields.Nested(FieldErrorSchema()))


class UnplacedRowSchema(Schema):
    line = fields.Integer(metadata={"description": "Line in the file (the header is line 1)"})
    code = fields.String()
    name = fields.String(allow_none=True)
    source_url = fields.String(allow_none=True)
    note = fields.String(allow_none=True)


class ImportReportSchema(Schema):
    created = fields.Integer()
    updated = fields.Integer(metadata={"description": "Rows matching an existing code, changed or not"})
    rejected = fields.List(fields.Nested(RejectedRowSchema()))
    unplaced = fields.List(fields.Nested(UnplacedRowSchema()), metadata={
        "description": "Rows with neither lat nor lon: points the sources name whose office was not found, "
                       "not imported"})
