"""Route a location to the nearest eligible service point, and say why in words.

Pure Python over plain data: the API, batch work and benchmarks share it.
Eligibility here: the point serves the procedure's level (the caller passes only
active points). Choice: nearest by geodesic distance. Non-territorial: the
citizen's administrative unit plays no part.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from geo.rules import EARTH_RADIUS_KM, RadiusRule, RuleHeld, geodesic_km

# The sphere (haversine) and the WGS84 ellipsoid (geodesic) differ by at most about
# 0.5% either way, so a point whose haversine distance is more than 1.005/0.995 of
# the k-th best can never enter the exact top k.
_HAVERSINE_MARGIN = 1.011


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


class Network:
    """Points prepared for routing: coordinates in radians as arrays, a mask per level."""

    def __init__(self, points: Iterable[PointCandidate]):
        self.points = tuple(points)
        lat = np.radians([p.lat for p in self.points])
        self._lat, self._lon, self._cos = lat, np.radians([p.lon for p in self.points]), np.cos(lat)
        levels = {level for p in self.points for level in p.levels}
        self._serves = {lv: np.array([lv in p.levels for p in self.points], dtype=bool) for lv in levels}

    def __len__(self) -> int:
        return len(self.points)

    def nearest_rough(self, lat: float, lon: float, level: str, count: int) -> list[tuple[float, PointCandidate]]:
        """The ``count`` nearest points serving ``level`` by haversine, and every point within
        the haversine/geodesic margin of the last of them (so exact ranking cannot miss one)."""
        serves = self._serves.get(level)
        if serves is None or not serves.any():
            return []
        index = np.flatnonzero(serves)
        p1, c1 = np.radians(lat), np.cos(np.radians(lat))
        a = (np.sin((self._lat[index] - p1) / 2) ** 2
             + c1 * self._cos[index] * np.sin((self._lon[index] - np.radians(lon)) / 2) ** 2)
        km = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))
        k = min(count, len(km))
        cutoff = np.partition(km, k - 1)[k - 1] * _HAVERSINE_MARGIN
        near = np.flatnonzero(km <= cutoff)
        return sorted(((float(km[i]), self.points[index[i]]) for i in near), key=lambda t: (t[0], t[1].code))


def route(
    lat: float,
    lon: float,
    level: str,
    points: Network | Iterable[PointCandidate],
    rule: RadiusRule = RadiusRule(),
    alternatives: int = 3,
) -> RoutingDecision:
    network = points if isinstance(points, Network) else Network(points)
    wanted = alternatives + 1
    shortlist = [p for _, p in network.nearest_rough(lat, lon, level, wanted)]
    if not shortlist:
        return RoutingDecision(
            None, (), rule,
            "Không có điểm phục vụ nào đang hoạt động tiếp nhận thủ tục cấp này.",
            "No active service point receives procedures of this level.",
        )
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


_VI_SEPARATORS = str.maketrans(",.", ".,")


def _km(value: float, locale: str) -> str:
    """One decimal with grouping: 1,234.5 in English, 1.234,5 in Vietnamese (as Babel's CLDR data)."""
    text = f"{value:,.1f}"
    return text.translate(_VI_SEPARATORS) if locale == "vi" else text


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
