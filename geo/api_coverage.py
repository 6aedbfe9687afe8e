"""Coverage API: the share of Hà Nội within the service-radius rule, its gaps, and what-ifs.

Also the app-side glue the CLI (``flask geo coverage``) and the map page share:
``coverage()`` evaluates today's network (points active today) over the Hà Nội grid,
cached in each worker per (network version, day, parameters), since it changes only
when the network does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from flask import Response, current_app
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from webargs.fields import DelimitedList

from core import versions
from core.auth import EVERYONE, allow
from core.models import Role
from core.timeutil import to_local, utcnow
from core.versions import VersionedMap
from dossiers import service as dossiers
from geo import service
from geo.coverage import (
    DEFAULT_CELL_M,
    DEFAULT_LEVEL,
    DEFAULT_TIERS,
    CoverageResult,
    Progress,
    candidate,
    commune_centres,
    compare,
    compute_coverage,
    load_boundary,
)
from geo.models import Tier
from geo.points_import import LEVELS, TIER_DEFAULTS
from geo.router import Network, PointCandidate
from geo.territory import in_vietnam

TIERS = tuple(t.value for t in Tier)
MIN_CELL_M, MAX_CELL_M = 200, 5000
MAX_CANDIDATES = 20

_results: VersionedMap[CoverageResult] = VersionedMap(versions.SERVICE_POINTS, max_entries=16)
_texts: VersionedMap[str] = VersionedMap(versions.SERVICE_POINTS, max_entries=4)


def _key(cell_m: float, level: str, tiers: tuple[str, ...]) -> str:
    rule, model = service.radius_rule(), service.travel_model(current_app.config)
    day = to_local(utcnow()).date().isoformat()
    return f"{day}|{cell_m:g}|{level}|{','.join(tiers)}|{rule.max_km:g}|{rule.max_minutes:g}|{model!r}"


def coverage(cell_m: float = DEFAULT_CELL_M, level: str = DEFAULT_LEVEL, tiers: Iterable[str] = DEFAULT_TIERS,
             extra_points: Iterable[PointCandidate] = (), progress: Progress | None = None) -> CoverageResult:
    """Coverage of today's network over Hà Nội; cached unless candidate points are added."""
    tiers = tuple(sorted(set(tiers)))
    extra = tuple(extra_points)
    key = _key(cell_m, level, tiers)
    if not extra:
        cached = _results.get(key)
        if cached is not None:
            return cached
    everything = service.network()
    today = to_local(utcnow()).date()
    network = Network(p for p in everything.points if p.is_active_on(today))
    result = compute_coverage(
        network, level, tiers, service.radius_rule(), service.travel_model(current_app.config), cell_m,
        load_boundary(), commune_centres(everything.points), progress, extra,
    )
    if not extra:
        _results.put(key, result)
    return result


def default_geojson_text() -> str:
    """The map page's GeoJSON (default parameters, the outline included), serialised once per version."""
    key = _key(DEFAULT_CELL_M, DEFAULT_LEVEL, DEFAULT_TIERS)
    text = _texts.get(key)
    if text is None:
        text = json.dumps(coverage().to_geojson(boundary=True), ensure_ascii=False, separators=(",", ":"))
        _texts.put(key, text)
    return text


def candidates_from(points: list[dict]) -> list[PointCandidate]:
    return [
        candidate(i, p["lat"], p["lon"], p.get("name") or f"Điểm dự kiến {i} / Candidate {i}", p["tier"],
                  TIER_DEFAULTS[Tier(p["tier"])]["levels"])
        for i, p in enumerate(points, start=1)
    ]


# --- schemas -----------------------------------------------------------------------------------

class CoverageParamsSchema(Schema):
    cell_m = fields.Integer(load_default=DEFAULT_CELL_M, validate=validate.Range(MIN_CELL_M, MAX_CELL_M),
                            metadata={"description": "Grid cell size in metres"})
    level = fields.String(load_default=DEFAULT_LEVEL, validate=validate.OneOf(LEVELS),
                          metadata={"description": "Procedure level the points must receive"})
    tiers = DelimitedList(fields.String(validate=validate.OneOf(TIERS)), load_default=list(DEFAULT_TIERS),
                          validate=validate.Length(min=1),
                          metadata={"description": "Comma-separated tiers counted (default branch,district_point)"})


class CoverageQuerySchema(CoverageParamsSchema):
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "geojson", "csv", "cells_csv"]),
                           metadata={"description": "json; geojson; csv (one row per commune); "
                                                    "cells_csv (one row per grid cell)"})
    catchments = fields.Boolean(load_default=False,
                                metadata={"description": "geojson: add each point's catchment polygon"})


class CandidatePointSchema(Schema):
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    name = fields.String(load_default=None, validate=validate.Length(min=1, max=200))
    tier = fields.String(load_default=Tier.DISTRICT_POINT.value, validate=validate.OneOf(TIERS))

    @validates_schema
    def inside_vietnam(self, data, **kwargs):
        if not in_vietnam(data["lat"], data["lon"]):
            raise ValidationError("The location is not in Vietnam.", field_name="lat")


class WhatIfSchema(Schema):
    points = fields.List(fields.Nested(CandidatePointSchema()), required=True,
                         validate=validate.Length(min=1, max=MAX_CANDIDATES))
    cell_m = fields.Integer(load_default=DEFAULT_CELL_M, validate=validate.Range(MIN_CELL_M, MAX_CELL_M))
    level = fields.String(load_default=DEFAULT_LEVEL, validate=validate.OneOf(LEVELS))
    tiers = fields.List(fields.String(validate=validate.OneOf(TIERS)), load_default=list(DEFAULT_TIERS),
                        validate=validate.Length(min=1))

    @validates_schema
    def candidates_count(self, data, **kwargs):
        """A candidate of a tier not counted, or not receiving the level, would change nothing."""
        errors = {}
        for i, point in enumerate(data["points"]):
            if point["tier"] not in data["tiers"]:
                errors[i] = {"tier": [f"Must be one of: {', '.join(data['tiers'])}."]}
            elif data["level"] not in TIER_DEFAULTS[Tier(point["tier"])]["levels"]:
                errors[i] = {"tier": ["This service point does not receive procedures of this level."]}
        if errors:
            raise ValidationError({"points": errors})


# --- routes ------------------------------------------------------------------------------------

blp = Blueprint("coverage", __name__, url_prefix="/api/v1/coverage",
                description="Coverage of Hà Nội by the network under the 5 km / 30 minutes rule")


@blp.route("")
@allow(*EVERYONE)
@blp.arguments(CoverageQuerySchema(), location="query")
@blp.response(200)
def get_coverage(args):
    """Share of Hà Nội within the rule, gaps, catchments, communes (json, geojson or csv)

    Cells of `cell_m` metres over Hà Nội's outline and the 126 commune/ward centres are each routed
    to the nearest point of the given tiers receiving the level; opening hours play no part.
    """
    result = coverage(args["cell_m"], args["level"], args["tiers"])
    fmt = args["format"]
    if fmt == "geojson":
        body = json.dumps(result.to_geojson(catchments=args["catchments"]), ensure_ascii=False)
        return Response(body, mimetype="application/geo+json")
    if fmt in ("csv", "cells_csv"):
        rows = "communes" if fmt == "csv" else "cells"
        return Response(result.to_csv(rows), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="coverage-{rows}.csv"'})
    return {**result.to_dict(), "dossiers_routed": dossiers.routing_outcomes()}


@blp.route("/what-if", methods=["POST"])
@allow(Role.ADMIN, Role.BRANCH_OFFICER)
@blp.arguments(WhatIfSchema())
@blp.response(200)
def what_if(args):
    """How coverage would change with 1–20 candidate points added (nothing is stored)"""
    before = coverage(args["cell_m"], args["level"], args["tiers"])
    after = coverage(args["cell_m"], args["level"], args["tiers"], candidates_from(args["points"]))
    return {"before": before.summary(), "after": after.summary(), "compare": compare(before, after)}
