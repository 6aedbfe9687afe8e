"""Geo use cases: the service-point network and routing decisions.

The router works on plain ``PointCandidate`` tuples cached per process and keyed by
the network's reference version (``core.versions``), so opening, closing or moving a
point takes effect on the next request in every worker.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache

from flask import current_app

from core import versions
from core.calendar import is_public_holiday
from core.errors import NotFound, field_error, invalid
from core.messages import Text
from core.settings import settings
from core.timeutil import to_local, utcnow
from core.versions import VersionedCache
from geo import repository
from geo.address import AddressLocation
from geo.errors import OutsideHanoi
from geo.geocoding import NominatimGeocoder, resolve_location
from geo.hours import parse_hours
from geo.models import ServicePoint
from geo.router import Network, PointCandidate, RouteOption, RoutingContext, RoutingDecision, explain, option_for
from geo.router import route as route_pure
from geo.rules import RadiusRule, geodesic_km
from geo.territory import in_hanoi, in_vietnam
from geo.travel import Mode, OfflineTravelModel, OfflineTravelTime, Speed, TravelTimeProvider

__all__ = ["in_hanoi", "in_vietnam", "require_in_hanoi", "route", "decision_to_dict", "get_point", "list_points",
           "choose_point"]


def radius_rule() -> RadiusRule:
    cfg = current_app.config
    return RadiusRule(max_km=cfg["SERVICE_RADIUS_KM"], max_minutes=cfg["SERVICE_RADIUS_MINUTES"])


def travel_model(cfg: Mapping) -> OfflineTravelModel:
    return OfflineTravelModel(
        circuity=cfg["ROAD_CIRCUITY_FACTOR"],
        speeds={
            Mode.MOTORBIKE: Speed(cfg["MOTORBIKE_SPEED_KMH"], cfg["MOTORBIKE_RUSH_SPEED_KMH"]),
            Mode.CAR: Speed(cfg["CAR_SPEED_KMH"], cfg["CAR_RUSH_SPEED_KMH"]),
            Mode.WALKING: Speed(cfg["WALKING_SPEED_KMH"], cfg["WALKING_SPEED_KMH"]),
        },
    )


def travel_provider() -> TravelTimeProvider:
    """The configured provider, built once per app: the offline model, or an engine over it."""
    app = current_app
    provider = app.extensions.get("travel_provider")
    if provider is None:
        offline = OfflineTravelTime(travel_model(app.config))
        engine = app.config["ROUTING_ENGINE"]
        if engine:
            from geo.engines import engine_provider

            provider = engine_provider(engine, app.config["ROUTING_ENGINE_URL"],
                                       app.config["ROUTING_ENGINE_TIMEOUT_S"], offline)
        else:
            provider = offline
        app.extensions["travel_provider"] = provider
    return provider


def _candidate(p: ServicePoint) -> PointCandidate:
    return PointCandidate(
        p.id, p.code, p.name, p.tier.value, p.lat, p.lon, frozenset(p.levels),
        hours=None if p.opening_hours.strip() == "24/7" else parse_hours(p.opening_hours),
        daily_capacity=p.daily_capacity, active_from=p.active_from, active_to=p.active_to,
        coord_precision=p.coord_precision.value,
    )


def _build_network() -> Network:
    return Network(_candidate(p) for p in repository.list_points())


_network = VersionedCache(versions.SERVICE_POINTS, _build_network)


def network() -> Network:
    """Every point, prepared for routing; rebuilt when the network's version changes."""
    return _network.get()


_NO_LOADS: Mapping[str, int] = {}


def context(loads: Mapping[str, int] | None = None, mode: Mode | None = None,
            at: datetime | None = None, tiers: frozenset[str] | None = None) -> RoutingContext:
    local = to_local(at or utcnow())
    return RoutingContext(
        local=local, is_public_holiday=is_public_holiday(local.date()), loads=loads or _NO_LOADS,
        mode=mode or Mode(settings().travel_mode), travel=travel_provider(), tiers=tiers,
    )


OUTSIDE_HANOI_MESSAGE = "The location is outside Hanoi: the centre serves Hanoi only."


def require_in_hanoi(lat: float, lon: float, field: str, location: str = "json",
                     override_reason: str | None = None) -> bool:
    """Refuse a location outside Hanoi's outline unless an override gives a reason.

    Returns whether the location is inside; raises ``OutsideHanoi`` (a 422 naming ``field``)
    when it is not and no reason was given.
    """
    if in_hanoi(lat, lon):
        return True
    if (override_reason or "").strip():
        return False
    raise OutsideHanoi(
        Text("Vị trí này nằm ngoài Hà Nội; trung tâm chỉ phục vụ địa bàn Hà Nội. "
             "Kiểm tra lại địa chỉ, hoặc ghi lý do (outside_hanoi_reason) để vẫn tiếp nhận.",
             "This location is outside Hanoi; the centre serves Hanoi only. "
             "Check the address, or give a reason (outside_hanoi_reason) to register it anyway."),
        errors=[field_error(field, OUTSIDE_HANOI_MESSAGE, location)],
        lat=lat, lon=lon,
    )


def route(lat: float, lon: float, level: str, loads: Mapping[str, int] | None = None,
          mode: Mode | None = None, tiers: frozenset[str] | None = None) -> RoutingDecision:
    return route_pure(lat, lon, level, network(), radius_rule(), context(loads, mode, tiers=tiers))


def choose_point(lat: float, lon: float, level: str, code: str,
                 loads: Mapping[str, int] | None = None) -> tuple[RouteOption, str, str]:
    """The agent's own choice of point: it must exist, be active today and serve the level."""
    ctx = context(loads)
    index = network().by_code.get(code)
    point = network().points[index] if index is not None else None
    if point is None or not point.is_active_on(ctx.day):
        raise invalid("service_point_code", "Unknown or inactive service point.")
    if level not in point.levels:
        raise invalid("service_point_code", "This service point does not receive procedures of this level.")
    rule = radius_rule()
    option = option_for(lat, lon, point, rule, ctx)
    vi, en = explain(option, rule, ctx.mode)
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
        "load_today": option.load,
        "daily_capacity": option.point.daily_capacity,
        "coord_precision": option.point.coord_precision,
    }


def decision_to_dict(decision: RoutingDecision) -> dict:
    return {
        "chosen": option_to_dict(decision.chosen) if decision.chosen else None,
        "alternatives": [option_to_dict(o) for o in decision.alternatives],
        "outside_service_radius": decision.outside_service_radius,
        "explanation_vi": decision.explanation_vi,
        "explanation_en": decision.explanation_en,
        "relaxed": list(decision.relaxed),
        "rule": {"max_km": decision.rule.max_km, "max_minutes": decision.rule.max_minutes},
        "travel": {"mode": decision.mode.value, "source": decision.travel_source,
                   "fallback_reason": decision.fallback_reason},
    }


# The centre serves Hà Nội: an address that names no province is looked up there first.
HOME_PROVINCE = "Hà Nội"


@lru_cache(maxsize=4)
def _nominatim(url: str, user_agent: str) -> NominatimGeocoder:
    return NominatimGeocoder(url, user_agent)


def locate_address(text: str) -> AddressLocation | None:
    """Where an address is: Nominatim first when NOMINATIM_URL is set, else (and on its failure)
    the centre of the smallest unit the address names, offline and marked approximate."""
    url = settings().nominatim_url
    geocoder = _nominatim(url, settings().nominatim_user_agent) if url else None
    return resolve_location(text, geocoder, default_province=HOME_PROVINCE)


def delivery_leg(point_code: str, address: str) -> dict | None:
    """The courier's leg: from the receiving point to the delivery address (located as ``locate_address``
    does), as the geodesic distance with how precisely the address was placed; None if it cannot be placed."""
    point = repository.by_code(point_code)
    found = locate_address(address) if point is not None else None
    if found is None:
        return None
    km = geodesic_km(point.lat, point.lon, found.lat, found.lon)
    return {"lat": found.lat, "lon": found.lon, "distance_km": round(km, 3), "precision": found.precision,
            "approximate": found.approximate, "source": found.source, "label": found.label,
            "from_service_point_code": point.code}


def point_by_id(point_id: int) -> ServicePoint | None:
    return repository.by_id(point_id)


def get_point(code: str) -> ServicePoint:
    point = repository.by_code(code)
    if point is None:
        raise NotFound(Text(f"Không có điểm phục vụ mã {code}.", f"No service point {code}."))
    return point


def list_points(tier: str | None = None, level: str | None = None) -> list[ServicePoint]:
    return repository.list_points(tier, level)


def points_under(point_id: int) -> list[int]:
    """The ids of a point and of the points under it (a branch lead's scope)."""
    return repository.ids_under(point_id)
