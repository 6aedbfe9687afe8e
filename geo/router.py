"""Route a location to the nearest eligible service point, and say why in words.

Pure Python over plain data: the API, batch work and benchmarks share it.
Eligibility here: the point serves the procedure's level (the caller passes only
active points). Choice: nearest by geodesic distance. Non-territorial: the
citizen's administrative unit plays no part.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from babel.numbers import format_decimal

from geo.rules import RadiusRule, RuleHeld, geodesic_km, haversine_km

# Haversine is within 0.5% of the geodesic, so anything beyond this margin of the
# best haversine distance cannot become the nearest point once measured exactly.
_HAVERSINE_MARGIN = 1.006


@dataclass(frozen=True)
class PointCandidate:
    id: int
    code: str
    name: str
    tier: str
    lat: float
    lon: float
    levels: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class RouteOption:
    point: PointCandidate
    distance_km: float
    minutes: float
    rule_held: RuleHeld

    @property
    def within(self) -> bool:
        return self.rule_held is not RuleHeld.NONE


@dataclass(frozen=True)
class RoutingDecision:
    chosen: RouteOption | None
    alternatives: tuple[RouteOption, ...]
    rule: RadiusRule
    explanation_vi: str
    explanation_en: str

    @property
    def outside_service_radius(self) -> bool:
        return self.chosen is None or not self.chosen.within


def route(
    lat: float,
    lon: float,
    level: str,
    points: Iterable[PointCandidate],
    rule: RadiusRule = RadiusRule(),
    alternatives: int = 3,
) -> RoutingDecision:
    eligible = [p for p in points if level in p.levels]
    if not eligible:
        return RoutingDecision(
            None, (), rule,
            "Không có điểm phục vụ nào đang hoạt động tiếp nhận thủ tục cấp này.",
            "No active service point receives procedures of this level.",
        )
    rough = sorted(((haversine_km(lat, lon, p.lat, p.lon), p) for p in eligible),
                   key=lambda item: (item[0], item[1].code))
    wanted = alternatives + 1
    cutoff = rough[min(wanted, len(rough)) - 1][0] * _HAVERSINE_MARGIN
    shortlist = [p for d, p in rough[: wanted + 8] if d <= cutoff] or [rough[0][1]]
    options = sorted(
        (_option(lat, lon, p, rule) for p in shortlist),
        key=lambda o: (o.distance_km, o.point.code),
    )[:wanted]
    chosen = options[0]
    vi, en = explain(chosen, rule)
    return RoutingDecision(chosen, tuple(options[1:]), rule, vi, en)


def option_for(lat: float, lon: float, point: PointCandidate, rule: RadiusRule) -> RouteOption:
    return _option(lat, lon, point, rule)


def _option(lat: float, lon: float, point: PointCandidate, rule: RadiusRule) -> RouteOption:
    distance = geodesic_km(lat, lon, point.lat, point.lon)
    minutes, held = rule.judge(distance)
    return RouteOption(point, distance, minutes, held)


def _km(value: float, locale: str) -> str:
    return format_decimal(round(value, 1), format="#,##0.0", locale=locale)


def explain(option: RouteOption, rule: RadiusRule) -> tuple[str, str]:
    """One sentence in Vietnamese and one in English, e.g.
    "Chi nhánh số 2 — 3,2 km, khoảng 14 phút đi xe máy — trong bán kính 5 km"."""
    name = option.point.name
    km_vi, km_en = _km(option.distance_km, "vi"), _km(option.distance_km, "en")
    minutes = round(option.minutes)
    radius_vi, radius_en = _km(rule.max_km, "vi").removesuffix(",0"), _km(rule.max_km, "en").removesuffix(".0")
    limit = round(rule.max_minutes)
    held = {
        RuleHeld.BOTH: (f"trong bán kính {radius_vi} km và dưới {limit} phút",
                        f"within {radius_en} km and under {limit} minutes"),
        RuleHeld.DISTANCE: (f"trong bán kính {radius_vi} km", f"within the {radius_en} km radius"),
        RuleHeld.TRAVEL_TIME: (f"dưới {limit} phút di chuyển", f"under {limit} minutes of travel"),
        RuleHeld.NONE: (f"ngoài bán kính phục vụ ({radius_vi} km / {limit} phút)",
                        f"outside the service radius ({radius_en} km / {limit} minutes)"),
    }[option.rule_held]
    return (
        f"{name} — {km_vi} km, khoảng {minutes} phút đi xe máy — {held[0]}",
        f"{name} — {km_en} km, about {minutes} minutes by motorbike — {held[1]}",
    )
