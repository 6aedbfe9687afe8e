"""Geo use cases: the service-point network and routing decisions.

The router works on plain ``PointCandidate`` tuples cached per process and keyed by
the network's reference version (``core.versions``), so opening, closing or moving a
point takes effect on the next request in every worker.
"""

from __future__ import annotations

from datetime import date

from flask import current_app

from core import versions
from core.errors import NotFound, invalid
from core.messages import Text
from core.timeutil import to_local, utcnow
from core.versions import VersionedCache
from geo import repository
from geo.models import ServicePoint
from geo.router import Network, PointCandidate, RadiusRule, RouteOption, RoutingDecision, explain, option_for
from geo.router import route as route_pure
from geo.territory import in_vietnam

__all__ = ["in_vietnam", "route", "decision_to_dict", "get_point", "list_points", "choose_point"]




def radius_rule() -> RadiusRule:
    cfg = current_app.config
    return RadiusRule(
        max_km=cfg["SERVICE_RADIUS_KM"], max_minutes=cfg["SERVICE_RADIUS_MINUTES"],
        speed_kmh=cfg["TRAVEL_SPEED_KMH"], circuity=cfg["ROAD_CIRCUITY_FACTOR"],
    )


def _candidate(p: ServicePoint) -> PointCandidate:
    return PointCandidate(p.id, p.code, p.name, p.tier.value, p.lat, p.lon, frozenset(p.levels))


def _build_network(today: date) -> Network:
    return Network(_candidate(p) for p in repository.active_points(today))


_network = VersionedCache(versions.SERVICE_POINTS, _build_network)


def active_network(today: date | None = None) -> Network:
    """The points open for routing today, rebuilt when the network's version or the day changes."""
    return _network.get(today or to_local(utcnow()).date())


def route(lat: float, lon: float, level: str) -> RoutingDecision:
    return route_pure(lat, lon, level, active_network(), radius_rule())


def choose_point(lat: float, lon: float, level: str, code: str) -> tuple[RouteOption, str, str]:
    """The agent's own choice of point: it must exist, be active and serve the level."""
    point = next((c for c in active_network().points if c.code == code), None)
    if point is None:
        raise invalid("service_point_code", "Unknown or inactive service point.")
    if level not in point.levels:
        raise invalid("service_point_code", "This service point does not receive procedures of this level.")
    option = option_for(lat, lon, point, radius_rule())
    vi, en = explain(option, radius_rule())
    return option, vi, en


def option_to_dict(option: RouteOption) -> dict:
    return {
        "service_point_code": option.point.code,
        "service_point_name": option.point.name,
        "tier": option.point.tier,
        "distance_km": round(option.distance_km, 3),
        "travel_minutes": round(option.minutes, 1),
        "rule_held": option.rule_held.value,
        "within_service_radius": option.within,
    }


def decision_to_dict(decision: RoutingDecision) -> dict:
    rule = decision.rule
    return {
        "chosen": option_to_dict(decision.chosen) if decision.chosen else None,
        "alternatives": [option_to_dict(o) for o in decision.alternatives],
        "outside_service_radius": decision.outside_service_radius,
        "explanation_vi": decision.explanation_vi,
        "explanation_en": decision.explanation_en,
        "rule": {
            "max_km": rule.max_km, "max_minutes": rule.max_minutes,
            "speed_kmh": rule.speed_kmh, "circuity": rule.circuity,
            "travel_model": "straight-line distance x circuity / motorbike speed",
        },
    }


def get_point(code: str) -> ServicePoint:
    point = repository.by_code(code)
    if point is None:
        raise NotFound(Text(f"Không có điểm phục vụ mã {code}.", f"No service point {code}."))
    return point



def list_points(tier: str | None = None, level: str | None = None) -> list[ServicePoint]:
    return repository.list_points(tier, level)
