"""Coverage of an area by the service-point network under the service-radius rule.

Pure Python over plain data (no Flask, no database), on top of ``geo.router.route_batch``.

- Grid: square cells of ``cell_m`` metres in WGS 84 / UTM 48N (EPSG:32648), aligned on
  multiples of ``cell_m``; a cell belongs to the area when its centre lies inside the
  boundary. Each cell counts for its full square (``cell_m``² of projected area; UTM's
  scale error near Hà Nội is under 0.1%), so the share by cells and the share by area
  are the same number, and the grid's area is within a few cells' area of the boundary's.
- Each cell centre, and each commune centre, is routed to its nearest eligible point
  (level and tiers; no local time, so opening hours play no part: coverage is about
  the network, not the hour). "Within" is the rule: ≤ ``max_km`` or ≤ ``max_minutes``.
- Catchment of a point: the cells for which it is the nearest eligible point.
- Gaps: the cells outside the rule, merged into polygons.
- What-if: ``extra_points`` (candidate points with negative ids, codes "NEW-1"...) are
  added to the network; ``compare(before, after)`` says what they change.

CSV output comes in two shapes: ``communes_csv`` (one row per commune centre, the
report people read) and ``cells_csv`` (one row per grid cell, for GIS work).
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import mapping, shape

from geo.router import Network, PointCandidate, RoutingContext, route_batch
from geo.rules import RadiusRule
from geo.travel import Mode, OfflineTravelModel

HANOI_BOUNDARY_FILE = Path(__file__).with_name("data") / "hanoi_boundary.geojson"
DEFAULT_CELL_M = 500
DEFAULT_LEVEL = "province"
DEFAULT_TIERS = ("branch", "district_point")  # Resolution 108: a branch or a reception point
CHUNK_CELLS = 2_000  # cells per route_batch call, and per progress report
COMMUNE_TIER = "commune_point"
_COMMUNE_PREFIX = "Điểm phục vụ hành chính công "

_TO_METRIC = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)
_TO_WGS84 = Transformer.from_crs("EPSG:32648", "EPSG:4326", always_xy=True)

Progress = Callable[[int, int], None]


def _project(geom, transformer: Transformer):
    return shapely.transform(geom, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


@lru_cache(maxsize=4)
def load_boundary(path: Path = HANOI_BOUNDARY_FILE):
    """The area's outline (WGS 84) from a GeoJSON FeatureCollection."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return shapely.union_all([shape(f["geometry"]) for f in data["features"]])


@dataclass(frozen=True)
class Place:
    """A location reported on by name: a commune or ward centre."""

    code: str
    name: str
    lat: float
    lon: float


def commune_centres(points: Iterable[PointCandidate]) -> list[Place]:
    """The commune/ward centres: the coordinates of the commune points (2025 unit centres)."""
    return [
        Place(p.code.removeprefix("HN-X"), p.name.removeprefix(_COMMUNE_PREFIX), p.lat, p.lon)
        for p in points if p.tier == COMMUNE_TIER
    ]


def candidate(number: int, lat: float, lon: float, name: str, tier: str, levels: Iterable[str]) -> PointCandidate:
    """A point that does not exist yet, for a what-if: id -number, code NEW-number."""
    return PointCandidate(-number, f"NEW-{number}", name, tier, lat, lon, frozenset(levels))


@dataclass(frozen=True, eq=False)
class Grid:
    """Cells by integer index: cell (ix, iy) spans [x0 + ix·cell_m, x0 + (ix+1)·cell_m) in metres."""

    cell_m: float
    x0: float
    y0: float
    ix: np.ndarray
    iy: np.ndarray
    lats: np.ndarray  # cell centres, WGS 84
    lons: np.ndarray

    def __len__(self) -> int:
        return len(self.ix)

    @property
    def cell_km2(self) -> float:
        return self.cell_m * self.cell_m / 1e6

    def boxes(self, mask: np.ndarray) -> np.ndarray:
        """The selected cells as metric squares; shared edges have identical coordinates."""
        ix, iy = self.ix[mask], self.iy[mask]
        return shapely.box(self.x0 + ix * self.cell_m, self.y0 + iy * self.cell_m,
                           self.x0 + (ix + 1) * self.cell_m, self.y0 + (iy + 1) * self.cell_m)


@lru_cache(maxsize=16)
def make_grid(boundary, cell_m: float) -> Grid:
    if cell_m <= 0:
        raise ValueError("cell_m must be positive")
    metric = _project(boundary, _TO_METRIC)
    shapely.prepare(metric)
    minx, miny, maxx, maxy = metric.bounds
    x0, y0 = np.floor(minx / cell_m) * cell_m, np.floor(miny / cell_m) * cell_m
    nx, ny = int(np.ceil((maxx - x0) / cell_m)), int(np.ceil((maxy - y0) / cell_m))
    ix, iy = (a.ravel() for a in np.meshgrid(np.arange(nx), np.arange(ny)))
    cx, cy = x0 + (ix + 0.5) * cell_m, y0 + (iy + 0.5) * cell_m
    keep = shapely.contains_xy(metric, cx, cy)
    lons, lats = _TO_WGS84.transform(cx[keep], cy[keep])
    return Grid(float(cell_m), float(x0), float(y0), ix[keep], iy[keep], np.asarray(lats), np.asarray(lons))


def _merge(grid: Grid, mask: np.ndarray) -> list:
    """The selected cells merged into polygons (metric), collinear vertices dropped."""
    if not mask.any():
        return []
    merged = shapely.simplify(shapely.coverage_union_all(grid.boxes(mask)), 0.0)
    return list(shapely.get_parts(merged))


def _round(obj, digits: int = 6):
    if isinstance(obj, (list, tuple)):
        return [_round(item, digits) for item in obj]
    return round(obj, digits)


def _geometry(metric_geom) -> dict:
    geometry = mapping(_project(metric_geom, _TO_WGS84))
    geometry["coordinates"] = _round(geometry["coordinates"])
    return geometry


def _num(value: float, digits: int) -> float | None:
    return round(float(value), digits) if np.isfinite(value) else None


@dataclass(frozen=True)
class Catchment:
    point: PointCandidate
    cells: int
    cells_within: int
    cell_km2: float

    def to_dict(self) -> dict:
        p = self.point
        return {
            "code": p.code, "name": p.name, "tier": p.tier, "lat": p.lat, "lon": p.lon,
            "candidate": p.id < 0,
            "catchment_cells": self.cells, "catchment_km2": round(self.cells * self.cell_km2, 2),
            "within_cells": self.cells_within, "within_km2": round(self.cells_within * self.cell_km2, 2),
            "outside_km2": round((self.cells - self.cells_within) * self.cell_km2, 2),
        }


@dataclass(frozen=True)
class CommuneResult:
    place: Place
    point: PointCandidate | None  # nearest eligible point; None when no point is eligible
    distance_km: float
    minutes: float
    within: bool

    def to_dict(self) -> dict:
        p = self.point
        return {
            "unit_code": self.place.code, "name": self.place.name, "lat": self.place.lat, "lon": self.place.lon,
            "nearest_code": p.code if p else None, "nearest_name": p.name if p else None,
            "nearest_tier": p.tier if p else None,
            "distance_km": _num(self.distance_km, 3), "minutes": _num(self.minutes, 1), "within": self.within,
        }


@dataclass(frozen=True, eq=False)
class CoverageResult:
    level: str
    tiers: tuple[str, ...]
    rule: RadiusRule
    model: OfflineTravelModel
    grid: Grid
    boundary: object  # shapely geometry, WGS 84
    network: Network  # the network evaluated, candidates included
    point_index: np.ndarray  # per cell: index in network.points of the nearest eligible point, -1 none
    distance_km: np.ndarray
    minutes: np.ndarray
    within: np.ndarray
    catchments: tuple[Catchment, ...]  # eligible points, in network order
    gaps: tuple  # metric polygons of the cells outside the rule, largest first
    communes: tuple[CommuneResult, ...]
    seconds: float

    @property
    def cells(self) -> int:
        return len(self.grid)

    @property
    def cells_within(self) -> int:
        return int(self.within.sum())

    @property
    def share_within(self) -> float:
        return self.cells_within / self.cells if self.cells else 0.0

    @property
    def km2_total(self) -> float:
        return self.cells * self.grid.cell_km2

    @property
    def km2_within(self) -> float:
        return self.cells_within * self.grid.cell_km2

    @property
    def candidates(self) -> tuple[Catchment, ...]:
        return tuple(c for c in self.catchments if c.point.id < 0)

    def summary(self) -> dict:
        outside = [c for c in self.communes if not c.within]
        speed = self.model.speed_kmh(Mode.MOTORBIKE, None)
        return {
            "level": self.level, "tiers": list(self.tiers), "cell_m": self.grid.cell_m,
            "rule": {"max_km": self.rule.max_km, "max_minutes": self.rule.max_minutes},
            "travel": {"mode": Mode.MOTORBIKE.value, "speed_kmh": speed, "circuity": self.model.circuity},
            "points": len(self.catchments), "candidates": len(self.candidates),
            "cells": self.cells, "cells_within": self.cells_within, "cells_outside": self.cells - self.cells_within,
            "share_within": round(self.share_within, 4),
            "km2_total": round(self.km2_total, 2), "km2_within": round(self.km2_within, 2),
            "km2_outside": round(self.km2_total - self.km2_within, 2),
            "gaps": len(self.gaps),
            "communes": len(self.communes), "communes_within": len(self.communes) - len(outside),
            "communes_outside": len(outside),
            "max_commune_distance_km": _num(max((c.distance_km for c in self.communes), default=0.0), 3),
            "seconds": round(self.seconds, 3),
        }

    def gap_list(self) -> list[dict]:
        km2 = self.grid.cell_km2
        out = []
        for i, gap in enumerate(self.gaps, start=1):
            centre = gap.representative_point()
            lon, lat = _TO_WGS84.transform(centre.x, centre.y)
            out.append({"id": i, "cells": round(gap.area / 1e6 / km2), "area_km2": round(gap.area / 1e6, 2),
                        "lat": round(lat, 6), "lon": round(lon, 6)})
        return out

    def worst_communes(self, n: int = 5) -> list[CommuneResult]:
        return sorted(self.communes, key=lambda c: -c.distance_km)[:n]

    def to_dict(self) -> dict:
        return {
            "summary": self.summary(),
            "points": [c.to_dict() for c in self.catchments],
            "gaps": self.gap_list(),
            "communes": [c.to_dict() for c in self.communes],
        }

    def catchment_polygons(self) -> dict[int, object]:
        """Per network index: the union of its catchment cells (metric). Costs a union per point."""
        return {i: shapely.union_all(parts) for i in np.unique(self.point_index[self.point_index >= 0])
                if (parts := _merge(self.grid, self.point_index == i))}

    def to_geojson(self, catchments: bool = False, boundary: bool = False, communes: bool = True) -> dict:
        """A FeatureCollection; every feature's ``kind``: boundary, catchment, gap, commune, point.
        The summary rides along as a foreign member ``summary``."""
        features: list[dict] = []
        if boundary:
            features.append({"type": "Feature", "geometry": mapping(self.boundary),
                             "properties": {"kind": "boundary"}})
        if catchments:
            km2 = self.grid.cell_km2
            for i, polygon in self.catchment_polygons().items():
                p = self.network.points[i]
                features.append({"type": "Feature", "geometry": _geometry(polygon), "properties": {
                    "kind": "catchment", "code": p.code, "tier": p.tier,
                    "km2": round(polygon.area / 1e6, 2), "cells": round(polygon.area / 1e6 / km2)}})
        for gap, info in zip(self.gaps, self.gap_list(), strict=True):
            features.append({"type": "Feature", "geometry": _geometry(gap), "properties": {
                "kind": "gap", "id": info["id"], "cells": info["cells"], "area_km2": info["area_km2"]}})
        if communes:
            for c in self.communes:
                features.append({"type": "Feature",
                                 "geometry": {"type": "Point", "coordinates": [c.place.lon, c.place.lat]},
                                 "properties": {"kind": "commune", **c.to_dict()}})
        for c in self.catchments:
            features.append({"type": "Feature",
                             "geometry": {"type": "Point", "coordinates": [c.point.lon, c.point.lat]},
                             "properties": {"kind": "point", **c.to_dict()}})
        return {"type": "FeatureCollection", "summary": self.summary(), "features": features}

    def communes_csv(self) -> str:
        """One row per commune centre: its nearest eligible point, distance, minutes, within."""
        columns = ["unit_code", "name", "lat", "lon", "nearest_code", "nearest_name", "nearest_tier",
                   "distance_km", "minutes", "within"]
        return _csv(columns, ([c.to_dict()[k] for k in columns] for c in self.communes))

    def cells_csv(self) -> str:
        """One row per grid cell (centre, metric indices): its nearest eligible point and the rule."""
        codes = np.array([p.code for p in self.network.points] + [""], dtype=object)[self.point_index]
        g = self.grid
        rows = zip(g.ix.tolist(), g.iy.tolist(), np.round(g.lats, 6).tolist(), np.round(g.lons, 6).tolist(),
                   codes.tolist(), np.round(self.distance_km, 3).tolist(), np.round(self.minutes, 1).tolist(),
                   self.within.tolist(), strict=True)
        return _csv(["ix", "iy", "lat", "lon", "nearest_code", "distance_km", "minutes", "within"],
                    ([*r[:5], r[5] if np.isfinite(r[5]) else "", r[6] if np.isfinite(r[6]) else "", r[7]]
                     for r in rows))

    def to_csv(self, rows: str = "communes") -> str:
        if rows not in ("communes", "cells"):
            raise ValueError("rows must be 'communes' or 'cells'")
        return self.communes_csv() if rows == "communes" else self.cells_csv()


def _csv(columns: Sequence[str], rows: Iterable[Sequence]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["true" if v is True else "false" if v is False else "" if v is None else v for v in row])
    return out.getvalue()


def compute_coverage(
    network: Network,
    level: str = DEFAULT_LEVEL,
    tiers: Iterable[str] = DEFAULT_TIERS,
    rule: RadiusRule = RadiusRule(),
    model: OfflineTravelModel | None = None,
    cell_m: float = DEFAULT_CELL_M,
    boundary=None,
    commune_centres: Sequence[Place] = (),
    progress: Progress | None = None,
    extra_points: Iterable[PointCandidate] = (),
) -> CoverageResult:
    started = time.perf_counter()
    model = model or OfflineTravelModel()
    boundary = load_boundary() if boundary is None else boundary
    tiers = tuple(sorted(set(tiers)))
    extra = tuple(extra_points)
    if extra:
        network = Network((*network.points, *extra))
    ctx = RoutingContext(tiers=frozenset(tiers))  # no local time: opening hours play no part
    grid = make_grid(boundary, float(cell_m))
    n = len(grid)
    index, km = np.full(n, -1, dtype=np.int64), np.full(n, np.inf)
    minutes, within = np.full(n, np.inf), np.zeros(n, dtype=bool)
    for start in range(0, n, CHUNK_CELLS):
        stop = min(n, start + CHUNK_CELLS)
        batch = route_batch(grid.lats[start:stop], grid.lons[start:stop], level, network, rule, model, ctx)
        index[start:stop], km[start:stop] = batch.point_index, batch.distance_km
        minutes[start:stop], within[start:stop] = batch.minutes, batch.within
        if progress:
            progress(stop, n)
    if progress and n == 0:
        progress(0, 0)

    eligible = np.flatnonzero(network.masks(level, ctx)[-1][1])
    counts = np.bincount(index[index >= 0], minlength=len(network))
    counts_within = np.bincount(index[within & (index >= 0)], minlength=len(network))
    catchments = tuple(Catchment(network.points[i], int(counts[i]), int(counts_within[i]), grid.cell_km2)
                       for i in eligible)
    gaps = tuple(sorted(_merge(grid, ~within), key=lambda g: -g.area))

    places = tuple(commune_centres)
    communes: tuple[CommuneResult, ...] = ()
    if places:
        batch = route_batch(np.array([p.lat for p in places]), np.array([p.lon for p in places]),
                            level, network, rule, model, ctx)
        communes = tuple(
            CommuneResult(place, network.points[i] if i >= 0 else None, float(d), float(m), bool(w))
            for place, i, d, m, w in zip(places, batch.point_index.tolist(), batch.distance_km,
                                         batch.minutes, batch.within, strict=True)
        )
    return CoverageResult(level, tiers, rule, model, grid, boundary, network, index, km, minutes, within,
                          catchments, gaps, communes, time.perf_counter() - started)


def compare(before: CoverageResult, after: CoverageResult) -> dict:
    """What changed between two runs on the same grid (typically: the network, then with candidates)."""
    if before.grid is not after.grid and (before.grid.cell_m != after.grid.cell_m or before.cells != after.cells):
        raise ValueError("coverage results are on different grids")
    km2 = before.grid.cell_km2
    newly = after.within & ~before.within
    lost = before.within & ~after.within
    was = {c.place.code: c for c in before.communes}
    newly_within = [
        {**c.to_dict(), "distance_km_before": _num(was[c.place.code].distance_km, 3)}
        for c in after.communes if c.within and c.place.code in was and not was[c.place.code].within
    ]
    return {
        "share_within_before": round(before.share_within, 4),
        "share_within_after": round(after.share_within, 4),
        "share_change": round(after.share_within - before.share_within, 4),
        "km2_within_before": round(before.km2_within, 2),
        "km2_within_after": round(after.km2_within, 2),
        "km2_newly_covered": round(int(newly.sum()) * km2, 2),
        "km2_no_longer_covered": round(int(lost.sum()) * km2, 2),
        "cells_newly_covered": int(newly.sum()),
        "gaps_before": len(before.gaps),
        "gaps_after": len(after.gaps),
        "communes_within_before": sum(c.within for c in before.communes),
        "communes_within_after": sum(c.within for c in after.communes),
        "communes_newly_within": newly_within,
        "candidates": [c.to_dict() for c in after.candidates],
    }
