"""Service points and routing API."""

from __future__ import annotations

from core.api import Blueprint
from core.auth import EVERYONE, allow
from core.errors import invalid
from dossiers import catalogue
from dossiers import service as dossiers
from dossiers.schemas import RoutingSchema
from geo import service
from geo.schemas import RoutingQuerySchema, ServicePointQuerySchema, ServicePointSchema
from geo.travel import Mode

blp = Blueprint("geo", __name__, url_prefix="/api/v1", description="Service points and routing")


@blp.route("/service-points")
@allow(*EVERYONE)
@blp.arguments(ServicePointQuerySchema(), location="query")
@blp.response(200, ServicePointSchema(many=True))
def list_service_points(args):
    """The centre's network: branches, former-district reception points, commune points"""
    return service.list_points(args["tier"], args["level"])


@blp.route("/routing")
@allow(*EVERYONE)
@blp.arguments(RoutingQuerySchema(), location="query")
@blp.response(200, RoutingSchema)
def routing(args):
    """Where a dossier for this procedure at this location would go, and why"""
    procedure = catalogue.get_active(args["procedure"])
    if procedure is None:
        raise invalid("procedure", "Unknown or inactive procedure.", location="query")
    inside = service.require_in_hanoi(args["lat"], args["lon"], "lat", "query", args["outside_hanoi_reason"])
    decision = service.route(
        args["lat"], args["lon"], procedure.level.value, dossiers.loads_today(),
        Mode(args["mode"]) if args["mode"] else None, frozenset(args["tiers"]) if args["tiers"] else None,
    )
    return {**service.decision_to_dict(decision), "chosen_by": "router", "choice_reason": None,
            "outside_hanoi": not inside,
            "outside_hanoi_reason": None if inside else args["outside_hanoi_reason"].strip()}
