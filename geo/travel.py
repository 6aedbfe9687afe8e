"""Travel time from a citizen to candidate service points, behind one provider interface.

Pure Python over plain values (no Flask, no database).

The offline model: road distance = geodesic distance × a circuity factor, divided by a
speed for the mode of travel and the time band. Defaults, all configurable:

- circuity 1.35: Hanoi's road distance is about 1.3–1.4 × the straight line
  (shared/DOMAIN.md, "Travel in Hanoi");
- motorbike 15 km/h off-peak and 11 km/h in the weekday rush hours: congested Hanoi
  roads run at 10–12 km/h at rush hour (DOMAIN.md); 15 km/h is the figure behind
  "30 minutes is 7.5 km by road";
- car 18 km/h off-peak, 10 km/h at rush hour: cars fare no better than motorbikes in
  the rush (an assumption, to be replaced by a routing engine where one runs);
- walking 4.5 km/h at any hour (the usual pedestrian planning speed);
- rush hours 07:00–09:00 and 16:30–19:00, Monday to Friday (Hanoi's peaks).

A routing-engine provider (geo/engines.py) answers the same question from OSRM or
Valhalla and falls back to this model when the engine fails; the estimate says which.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum
from typing import Protocol


class Mode(StrEnum):
    MOTORBIKE = "motorbike"
    CAR = "car"
    WALKING = "walking"


MODE_WORDS = {  # (Vietnamese, English), as in "khoảng 14 phút đi xe máy"
    Mode.MOTORBIKE: ("đi xe máy", "by motorbike"),
    Mode.CAR: ("đi ô tô", "by car"),
    Mode.WALKING: ("đi bộ", "on foot"),
}


@dataclass(frozen=True)
class Speed:
    off_peak_kmh: float
    rush_kmh: float


DEFAULT_SPEEDS: Mapping[Mode, Speed] = {
    Mode.MOTORBIKE: Speed(15.0, 11.0),
    Mode.CAR: Speed(18.0, 10.0),
    Mode.WALKING: Speed(4.5, 4.5),
}
DEFAULT_RUSH_HOURS = ((time(7, 0), time(9, 0)), (time(16, 30), time(19, 0)))


@dataclass(frozen=True)
class OfflineTravelModel:
    circuity: float = 1.35
    speeds: Mapping[Mode, Speed] = field(default_factory=lambda: dict(DEFAULT_SPEEDS))
    rush_hours: tuple[tuple[time, time], ...] = DEFAULT_RUSH_HOURS

    def is_rush(self, local: datetime | None) -> bool:
        if local is None or local.weekday() >= 5:
            return False
        now = local.time()
        return any(start <= now < end for start, end in self.rush_hours)

    def speed_kmh(self, mode: Mode, local: datetime | None) -> float:
        speed = self.speeds[mode]
        return speed.rush_kmh if self.is_rush(local) else speed.off_peak_kmh

    def minutes(self, distance_km: float, mode: Mode = Mode.MOTORBIKE, local: datetime | None = None) -> float:
        return distance_km * self.circuity / self.speed_kmh(mode, local) * 60.0

    def max_straight_km(self, minutes: float, mode: Mode, local: datetime | None) -> float:
        """The straight-line distance that takes ``minutes`` (for radius pre-filters)."""
        return minutes / 60.0 * self.speed_kmh(mode, local) / self.circuity


@dataclass(frozen=True)
class TravelEstimate:
    minutes: tuple[float, ...]
    source: str  # "offline", "osrm", "valhalla"
    road_km: tuple[float, ...] | None = None  # from an engine; None for the offline model
    fallback_reason: str | None = None  # why an engine's answer was not used


class TravelTimeProvider(Protocol):
    """Minutes from one origin to each destination; ``distances_km`` are the geodesic ones."""

    name: str

    def estimate(
        self,
        origin: tuple[float, float],
        destinations: Sequence[tuple[float, float]],
        distances_km: Sequence[float],
        mode: Mode,
        local: datetime | None,
    ) -> TravelEstimate: ...


@dataclass(frozen=True)
class OfflineTravelTime:
    model: OfflineTravelModel = field(default_factory=OfflineTravelModel)
    name: str = "offline"

    def estimate(self, origin, destinations, distances_km, mode, local) -> TravelEstimate:
        factor = self.model.circuity / self.model.speed_kmh(mode, local) * 60.0
        return TravelEstimate(tuple(float(d) * factor for d in distances_km), self.name)
