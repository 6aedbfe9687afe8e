"""Address → location API: offline by default, Nominatim first when configured."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.api import Blueprint
from core.auth import EVERYONE, allow
from core.errors import invalid
from geo import service
from geo.address import MAX_ADDRESS_LENGTH

blp = Blueprint("geocode", __name__, url_prefix="/api/v1", description="Address to location")


class GeocodeQuerySchema(Schema):
    address = fields.String(
        required=True, validate=validate.Length(min=3, max=MAX_ADDRESS_LENGTH),
        metadata={"description": "A Vietnamese address, accents optional", "example": "75 Đinh Tiên Hoàng, Hoàn Kiếm"},
    )


class UnitCodesSchema(Schema):
    province = fields.String(allow_none=True)
    district = fields.String(allow_none=True)
    ward = fields.String(allow_none=True)


class GeocodeSchema(Schema):
    lat = fields.Float()
    lon = fields.Float()
    precision = fields.String(metadata={"enum": ["address", "ward", "district", "province"]})
    source = fields.String(metadata={"enum": ["nominatim", "vietnamadminunits-2025", "vietnamadminunits-legacy"]})
    approximate = fields.Boolean(metadata={"description": "True when the point is a unit's centre, not the address"})
    province = fields.String(allow_none=True)
    district = fields.String(allow_none=True, metadata={"description": "Legacy units only"})
    ward = fields.String(allow_none=True)
    street = fields.String(allow_none=True)
    label = fields.String()
    codes = fields.Nested(UnitCodesSchema())
    inside_hanoi = fields.Function(
        lambda a: service.in_hanoi(a.lat, a.lon),
        metadata={"description": "False outside Hanoi: registering there is refused without a reason"})


@blp.route("/geocode")
@allow(*EVERYONE)
@blp.arguments(GeocodeQuerySchema(), location="query")
@blp.response(200, GeocodeSchema())
def geocode(args):
    """Where an address is; without a geocoder, the centre of the smallest unit it names (approximate)"""
    found = service.locate_address(args["address"])
    if found is None:
        raise invalid("address", "The address could not be located.", location="query")
    return found
