"""Is a coordinate in Vietnam, in Hanoi? Offline, against polygons shipped with the project.

``geo/data/vietnam_boundary.geojson`` is built by ``tools/build_vietnam_boundary.py``
from the bounding boxes of Vietnam's 10,040 legacy wards (vietnamadminunits),
unioned, buffered and simplified. Pure Python: no Flask, no database.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import shapely
from shapely.geometry import shape
from shapely.prepared import prep

BOUNDARY_FILE = Path(__file__).with_name("data") / "vietnam_boundary.geojson"


@lru_cache(maxsize=1)
def _boundary():
    data = json.loads(BOUNDARY_FILE.read_text(encoding="utf-8"))
    geometry = shapely.union_all([shape(f["geometry"]) for f in data["features"]])
    return prep(geometry)


def in_vietnam(lat: float, lon: float) -> bool:
    return _boundary().contains(shapely.Point(lon, lat))


HANOI_BOUNDARY_FILE = Path(__file__).with_name("data") / "hanoi_boundary.geojson"


@lru_cache(maxsize=1)
def _hanoi():
    data = json.loads(HANOI_BOUNDARY_FILE.read_text(encoding="utf-8"))
    return prep(shapely.union_all([shape(f["geometry"]) for f in data["features"]]))


def in_hanoi(lat: float, lon: float) -> bool:
    """Inside Hanoi's outline (approximate: it overshoots the city's border by a few hundred metres)."""
    return _hanoi().contains(shapely.Point(lon, lat))
