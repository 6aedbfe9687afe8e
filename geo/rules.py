"""The service-radius rule (Resolution 108/NQ-CP): under 30 minutes of travel or within 5 km.

Pure Python over plain values: no Flask, no database. Travel minutes come from a
travel-time provider (geo/travel.py); this module only judges them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from math import asin, cos, radians, sin, sqrt

from pyproj import Geod

EARTH_RADIUS_KM = 6371.0088
_KM_TOLERANCE = 1e-6
_MINUTES_TOLERANCE = 1e-8
WGS84 = Geod(ellps="WGS84")


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

    def judge(self, distance_km: float, minutes: float) -> RuleHeld:
        """Inclusive at the edge: a point exactly 5 km or 30 minutes away is within. The
        tolerance (a millimetre, a microsecond) absorbs floating-point noise, nothing more."""
        by_distance = distance_km <= self.max_km + _KM_TOLERANCE
        by_time = minutes <= self.max_minutes + _MINUTES_TOLERANCE
        if by_distance and by_time:
            return RuleHeld.BOTH
        if by_distance:
            return RuleHeld.DISTANCE
        if by_time:
            return RuleHeld.TRAVEL_TIME
        return RuleHeld.NONE


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on the mean sphere; within 0.5% of the geodesic."""
    p1, p2 = radians(lat1), radians(lat2)
    dlat, dlon = p2 - p1, radians(lon2 - lon1)
    a = sin(dlat / 2) ** 2 + cos(p1) * cos(p2) * sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(a)))


def geodesic_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Exact distance on the WGS84 ellipsoid (Karney's algorithm, in PROJ's C code)."""
    return WGS84.inv(lon1, lat1, lon2, lat2)[2] / 1000.0
