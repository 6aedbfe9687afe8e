"""Marshmallow schemas of the geo API."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from webargs.fields import DelimitedList

from geo.territory import in_vietnam


class ServicePointQuerySchema(Schema):
    tier = fields.String(load_default=None, validate=validate.OneOf(["branch", "district_point", "commune_point"]))
    level = fields.String(load_default=None, validate=validate.OneOf(["province", "commune"]))


class ServicePointSchema(Schema):
    code = fields.String()
    tier = fields.Function(lambda p: p.tier.value)
    name = fields.String()
    address = fields.String()
    unit_code = fields.String(allow_none=True)
    lat = fields.Float()
    lon = fields.Float()
    coord_source = fields.String()
    coord_precision = fields.Function(lambda p: p.coord_precision.value, metadata={
        "description": "building, street, ward_centre, unit_centre, district_mean or unknown"})
    source_url = fields.String(allow_none=True)
    opening_hours = fields.String()
    levels = fields.List(fields.String())
    daily_capacity = fields.Integer()
    active_from = fields.Date(allow_none=True)
    active_to = fields.Date(allow_none=True)


class RoutingQuerySchema(Schema):
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    procedure = fields.String(required=True, metadata={"description": "Procedure code"})
    mode = fields.String(load_default=None, validate=validate.OneOf(["motorbike", "car", "walking"]),
                         metadata={"description": "How the citizen travels (default: TRAVEL_MODE)"})
    tiers = DelimitedList(
        fields.String(validate=validate.OneOf(["branch", "district_point", "commune_point"])),
        load_default=list, metadata={"description": "Only these tiers, comma-separated"},
    )
    outside_hanoi_reason = fields.String(
        load_default=None, validate=validate.Length(max=500),
        metadata={"description": "A location outside Hanoi is refused (422 outside_hanoi) unless a reason is given"},
    )

    @validates_schema
    def inside_vietnam(self, data, **kwargs):
        if not in_vietnam(data["lat"], data["lon"]):
            raise ValidationError("The location is not in Vietnam.", field_name="lat")
