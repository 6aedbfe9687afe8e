"""Load service points from CSV (the shipped Hanoi network, or an admin's file).

Columns: code, tier, name, address, unit_code, lat, lon, coord_source, and
optionally coord_precision (building, street, ward_centre, unit_centre, district_mean,
unknown), source_url, opening_hours, levels ("province|commune"),
daily_capacity, active_from, active_to. Missing optional columns take the tier's
defaults below; a file without the coord_precision or source_url column leaves those
of the points it updates as they are (a new point's precision is "unknown").

A row with neither lat nor lon is a point the sources name but whose office was not
found: it is not imported (no coordinates are invented) and the report lists it under
``unplaced``, with its source.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from core import versions
from core.errors import flatten_messages
from core.extensions import db
from core.uow import unit_of_work
from geo import repository
from geo.hours import validate_hours
from geo.models import CoordPrecision, ServicePoint, Tier
from geo.rules import geodesic_km
from geo.territory import in_vietnam

# Demo defaults per tier. Branches receive every level. The former-district reception
# points received every level until the July 2025 reform; the shipped network closes them
# on 30/6/2025 (active_to: no address of theirs was found, see geo/data/SOURCES.md). After
# the reform district-level procedures moved to communes (and the district level with them), so
# commune points receive the commune's procedures. Hours and capacities are illustrative (Branch 1 took ~7,500
# dossiers in March 2025, about 340 a working day).
TIER_DEFAULTS = {
    Tier.BRANCH: {"levels": ["province", "commune"], "daily_capacity": 400,
                  "opening_hours": "Mo-Fr 08:00-17:00; Sa 08:00-12:00"},
    Tier.DISTRICT_POINT: {"levels": ["province", "commune"], "daily_capacity": 150,
                          "opening_hours": "Mo-Fr 08:00-17:00"},
    Tier.COMMUNE_POINT: {"levels": ["commune"], "daily_capacity": 80,
                         "opening_hours": "Mo-Fr 08:00-17:00; Sa 08:00-11:30"},
}
LEVELS = ("province", "commune")  # dossiers.enums.Level: the district level ended on 1/7/2025
MAX_DAILY_CAPACITY = 100_000  # dossiers a day at one point; the column is an INTEGER


class ServicePointRowSchema(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Z0-9][A-Z0-9\-]{2,31}$"))
    tier = fields.Enum(Tier, by_value=True, required=True)
    name = fields.String(required=True, validate=validate.Length(min=3, max=200))
    address = fields.String(required=True, validate=validate.Length(min=3, max=400))
    unit_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=16))
    lat = fields.Float(required=True)
    lon = fields.Float(required=True)
    coord_source = fields.String(required=True, validate=validate.Length(min=1, max=400))
    coord_precision = fields.Enum(CoordPrecision, by_value=True, load_default=None, allow_none=True)
    source_url = fields.Url(load_default=None, allow_none=True, schemes={"http", "https"},
                            validate=validate.Length(max=500))
    opening_hours = fields.String(load_default=None, allow_none=True, validate=validate_hours)
    levels = fields.String(load_default=None, allow_none=True)
    daily_capacity = fields.Integer(load_default=None, allow_none=True,
                                    validate=validate.Range(min=1, max=MAX_DAILY_CAPACITY))
    active_from = fields.Date(load_default=None, allow_none=True)
    active_to = fields.Date(load_default=None, allow_none=True)

    @validates_schema
    def checks(self, data, **kwargs):
        if not in_vietnam(data["lat"], data["lon"]):
            raise ValidationError("The location is not in Vietnam.", "lat")
        if data.get("levels"):
            bad = [x for x in data["levels"].split("|") if x.strip() not in LEVELS]
            if bad:
                raise ValidationError(f"Must be one of: {', '.join(LEVELS)}.", "levels")


@dataclass
class PointsReport:
    created: int = 0
    updated: int = 0
    rejected: list[dict] = field(default_factory=list)
    # Named by the sources, office not found: left out rather than placed by guess.
    unplaced: list[dict] = field(default_factory=list)


@unit_of_work()
def import_points_csv(text: str) -> PointsReport:
    report = PointsReport()
    schema = ServicePointRowSchema()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = {k.strip() for k in reader.fieldnames or () if k}
    for line_no, raw in enumerate(reader, start=2):
        row = {k.strip(): v.strip() for k, v in raw.items() if k and v is not None and v.strip()}
        if "lat" not in row and "lon" not in row and row.get("code"):
            report.unplaced.append({"line": line_no, "code": row["code"], "name": row.get("name"),
                                    "source_url": row.get("source_url"), "note": row.get("coord_source")})
            continue
        try:
            data = schema.load(row)
        except ValidationError as exc:
            report.rejected.append({"line": line_no, "code": row.get("code"),
                                    "errors": flatten_messages(exc.messages, location="csv")})
            continue
        defaults = TIER_DEFAULTS[data["tier"]]
        data["levels"] = ([x.strip() for x in data["levels"].split("|")] if data["levels"]
                          else list(defaults["levels"]))
        data["opening_hours"] = data["opening_hours"] or defaults["opening_hours"]
        data["daily_capacity"] = data["daily_capacity"] or defaults["daily_capacity"]
        point = repository.by_code(data["code"])
        if point is None:
            point = ServicePoint()
            db.session.add(point)
            report.created += 1
        else:
            report.updated += 1
            for key in ("coord_precision", "source_url"):  # columns an older file lacks: kept as they are
                if key not in header:
                    del data[key]
        if "coord_precision" in data:
            data["coord_precision"] = data["coord_precision"] or CoordPrecision.UNKNOWN
        for key, value in data.items():
            setattr(point, key, value)
    changed = bool(db.session.new or any(db.session.is_modified(p) for p in db.session.dirty))
    db.session.flush()
    if assign_branches() or changed:
        versions.bump(versions.SERVICE_POINTS)
    return report


def assign_branches() -> int:
    """Give every reception and commune point without a branch the nearest branch (a branch lead's scope).

    The network data names no other link; a parent set otherwise is kept."""
    points = repository.list_points()
    branches = [p for p in points if p.tier is Tier.BRANCH]
    if not branches:
        return 0
    assigned = 0
    for point in points:
        if point.tier is not Tier.BRANCH and point.parent_id is None:
            point.parent_id = min(branches, key=lambda b: (geodesic_km(point.lat, point.lon, b.lat, b.lon), b.id)).id
            assigned += 1
    return assigned
