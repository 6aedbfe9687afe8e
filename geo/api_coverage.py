"""Coverage API: the share of Hà Nội within the service-radius rule, its gaps, and what-ifs."""

from __future__ import annotations

import json

from flask import Response
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from webargs.fields import DelimitedList

from core.api import Blueprint
from core.auth import EVERYONE, allow
from core.roles import Role
from dossiers import service as dossiers
from geo.coverage import DEFAULT_CELL_M, DEFAULT_LEVEL, DEFAULT_TIERS, compare
from geo.coverage_service import MAX_CANDIDATES, MAX_CELL_M, MIN_CELL_M, TIERS, candidates_from, coverage
from geo.models import Tier
from geo.points_import import LEVELS, TIER_DEFAULTS
from geo.territory import in_vietnam

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
