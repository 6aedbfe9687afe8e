"""Coverage use cases: today's network over Hanoi, cached per network version, and what-ifs.

Shared by the API, the map page and the CLI; the computation itself is pure (geo/coverage.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from flask import current_app

from core import versions
from core.timeutil import to_local, utcnow
from core.versions import VersionedMap
from geo import service
from geo.coverage import (
    DEFAULT_CELL_M,
    DEFAULT_LEVEL,
    DEFAULT_TIERS,
    CoverageResult,
    Progress,
    candidate,
    commune_centres,
    compute_coverage,
    load_boundary,
)
from geo.models import Tier
from geo.points_import import TIER_DEFAULTS
from geo.router import Network, PointCandidate

TIERS = tuple(t.value for t in Tier)
MIN_CELL_M, MAX_CELL_M = 200, 5000
MAX_CANDIDATES = 20

_results: VersionedMap[CoverageResult] = VersionedMap(versions.SERVICE_POINTS, max_entries=16)
_texts: VersionedMap[str] = VersionedMap(versions.SERVICE_POINTS, max_entries=4)


def _key(cell_m: float, level: str, tiers: tuple[str, ...]) -> str:
    rule, model = service.radius_rule(), service.travel_model(current_app.config)
    day = to_local(utcnow()).date().isoformat()
    return f"{day}|{cell_m:g}|{level}|{','.join(tiers)}|{rule.max_km:g}|{rule.max_minutes:g}|{model!r}"


def coverage(cell_m: float = DEFAULT_CELL_M, level: str = DEFAULT_LEVEL, tiers: Iterable[str] = DEFAULT_TIERS,
             extra_points: Iterable[PointCandidate] = (), progress: Progress | None = None) -> CoverageResult:
    """Coverage of today's network over Hà Nội; cached unless candidate points are added."""
    tiers = tuple(sorted(set(tiers)))
    extra = tuple(extra_points)
    key = _key(cell_m, level, tiers)
    if not extra:
        cached = _results.get(key)
        if cached is not None:
            return cached
    everything = service.network()
    today = to_local(utcnow()).date()
    network = Network(p for p in everything.points if p.is_active_on(today))
    result = compute_coverage(
        network, level, tiers, service.radius_rule(), service.travel_model(current_app.config), cell_m,
        load_boundary(), commune_centres(everything.points), progress, extra,
    )
    if not extra:
        _results.put(key, result)
    return result


def default_geojson_text() -> str:
    """The map page's GeoJSON (default parameters, the outline included), serialised once per version."""
    key = _key(DEFAULT_CELL_M, DEFAULT_LEVEL, DEFAULT_TIERS)
    text = _texts.get(key)
    if text is None:
        text = json.dumps(coverage().to_geojson(boundary=True), ensure_ascii=False, separators=(",", ":"))
        _texts.put(key, text)
    return text


def candidates_from(points: list[dict]) -> list[PointCandidate]:
    return [
        candidate(i, p["lat"], p["lon"], p.get("name") or f"Điểm dự kiến {i} / Candidate {i}", p["tier"],
                  TIER_DEFAULTS[Tier(p["tier"])]["levels"])
        for i, p in enumerate(points, start=1)
    ]
