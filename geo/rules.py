"""The service-radius rule (Resolution 108/NQ-CP): under 30 minutes of travel or within 5 km.

Pure Python over plain values: no Flask, no database.

Travel time is estimated offline: straight-line distance × a road circuity factor
(default 1.35; Hanoi's road/straight ratio is about 1.3–1.4) at a motorbike speed
(default 15 km/h, congested-city speed; rush hour is 10–12 km/h). See README.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from math import asin, cos, radians, sin, sqrt

from pyproj import Geod

EARTH_RADIUS_KM = 6371.0088
_WGS84 = Geod(ellps="WGS84")


class RuleHeld(StrEnum):
    """Which half of the rule made a point eligible."""

    BOTH = "distance_and_time"
    DISTANCE = "distance"
    TRAVEL_TIME = "travel_time"
    NONE = "outside"


@dataclass(frozen=True)
class RadiusRule:
    max_km: float = 5.0
    max_minutes: float = 30.0
    speed_kmh: float = 15.0
    circuity: float = 1.35

    def travel_minutes(self, distance_km: float) -> float:
        return distance_km * self.circuity / self.speed_kmh * 60.0

    def judge(self, distance_km: float) -> tuple[float, RuleHeld]:
        minutes = self.travel_minutes(distance_km)
        by_distance = distance_km <= self.max_km
        by_time = minutes <= self.max_minutes
        if by_distance and by_time:
            return minutes, RuleHeld.BOTH
        if by_distance:
            return minutes, RuleHeld.DISTANCE
        if by_time:
            return minutes, RuleHeld.TRAVEL_TIME
        return minutes, RuleHeld.NONE


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on the mean sphere; within 0.5% of the geodesic."""
    p1, p2 = radians(lat1), radians(lat2)
    dlat, dlon = p2 - p1, radians(lon2 - lon1)
    a = sin(dlat / 2) ** 2 + cos(p1) * cos(p2) * sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(a)))


def geodesic_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Exact distance on the WGS84 ellipsoid (Karney's algorithm, in PROJ's C code)."""
    return _WGS84.inv(lon1, lat1, lon2, lat2)[2] / 1000.0
