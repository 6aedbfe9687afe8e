"""Build an approximate offline outline of Hà Nội (the city-province) for coverage maps.

Dev-time tool only: the application never imports or runs this script. It
regenerates ``geo/data/hanoi_boundary.geojson``, the area over which
``geo/coverage.py`` lays its grid, and the outline the coverage page draws when
no tile server is configured.

Method (as ``tools/build_vietnam_boundary.py``, at the scale of one city): take the
bounding box of each of Hà Nội's 526 legacy wards (``admin_units_legacy``,
``provinceCode`` '01', column ``wardBounds``) from the SQLite dataset bundled with
the ``vietnamadminunits`` package, skip malformed or implausible boxes and boxes
that merely repeat the city's own box (geocoder fallbacks), union the rest, close
gaps narrower than about 2 km (dilate then erode, mitre joins), fill holes (the
Red River and lakes belong to the city too), simplify, and write a GeoJSON
FeatureCollection holding one feature.

Built from rectangles, the outline overshoots the real border by a few hundred
metres here and there: its area (measured in WGS 84 / UTM 48N) is about 7% above
the 3,360 km² of the city's 126 units of 2025 (``admin_units.wardAreaKm2`` in the
same dataset); the script prints both figures.

Usage (from the repository root):

    .venv/bin/python tools/build_hanoi_boundary.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sqlite3
from contextlib import closing
from importlib import metadata
from pathlib import Path

import numpy as np
import shapely
from build_vietnam_boundary import DATASET_PATH, is_plausible, parse_bounds, round_coords
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon, box, mapping

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO_ROOT / "geo" / "data" / "hanoi_boundary.geojson"
HANOI_CODE = "01"

DEFAULT_CLOSE = 0.01  # degrees (~1 km): closes gaps narrower than ~2 km
DEFAULT_TOLERANCE = 0.002  # degrees (~200 m)

_TO_METRIC = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)


def load_boxes(db_path: Path, province_code: str = HANOI_CODE) -> tuple[list[Polygon], dict[str, int], str]:
    """One box polygon per usable ward of the province, counters, and the province's name."""
    stats = {"rows": 0, "ward": 0, "fallback": 0, "rejected": 0}
    query = "SELECT province, wardBounds, provinceBounds FROM admin_units_legacy WHERE provinceCode = ?"
    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
        rows = conn.execute(query, (province_code,)).fetchall()
    if not rows:
        raise SystemExit(f"no legacy wards with provinceCode {province_code!r} in {db_path}")
    boxes: list[Polygon] = []
    for _, ward_bounds, province_bounds in rows:
        stats["rows"] += 1
        if ward_bounds and ward_bounds == province_bounds:
            stats["fallback"] += 1
            continue
        bounds = parse_bounds(ward_bounds)
        if bounds is None or not is_plausible(bounds):
            stats["rejected"] += 1
            continue
        stats["ward"] += 1
        boxes.append(box(*bounds))
    return boxes, stats, rows[0][0]


def official_area_km2(db_path: Path, province_code: str = HANOI_CODE) -> float:
    """The sum of the areas of the province's 2025 units, as the dataset states them."""
    query = "SELECT SUM(wardAreaKm2) FROM admin_units WHERE provinceCode = ?"
    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
        return float(conn.execute(query, (province_code,)).fetchone()[0] or 0.0)


def build_outline(boxes: list[Polygon], close_deg: float, tolerance: float) -> MultiPolygon:
    merged = shapely.union_all(boxes)
    if close_deg > 0:
        merged = merged.buffer(close_deg, join_style="mitre").buffer(-close_deg, join_style="mitre")
    merged = shapely.union_all([Polygon(part.exterior) for part in shapely.get_parts(merged)])
    merged = merged.simplify(tolerance, preserve_topology=True)
    merged = shapely.set_precision(merged, 10 ** -4)  # the output grid: rounding cannot break rings
    if isinstance(merged, Polygon):
        merged = MultiPolygon([merged])
    if not merged.is_valid or merged.is_empty:
        raise RuntimeError("resulting outline is empty or invalid")
    return merged


def metric_area_km2(geom) -> float:
    projected = shapely.transform(geom, lambda xy: np.column_stack(_TO_METRIC.transform(xy[:, 0], xy[:, 1])))
    return projected.area / 1e6


def to_feature_collection(geom: MultiPolygon, name: str, area_km2: float, official_km2: float,
                          close_deg: float, tolerance: float) -> dict:
    version = metadata.version("vietnamadminunits")
    geometry = mapping(geom)
    geometry["coordinates"] = round_coords(geometry["coordinates"])
    feature = {
        "type": "Feature",
        "properties": {
            "name": f"{name} (approximate)",
            "province_code": HANOI_CODE,
            "area_km2": round(area_km2, 1),
            "units_area_km2": round(official_km2, 1),  # the 126 units of 2025, as the dataset states
            "source": (f"vietnamadminunits {version} legacy ward bounding boxes (provinceCode {HANOI_CODE}), "
                       f"unioned, gaps under {2 * close_deg:g}° closed, holes filled, simplified {tolerance:g}°"),
            "note": "Approximate: built from rectangles, it overshoots the city's border by a few hundred metres.",
            "generated": dt.date.today().isoformat(),
        },
        "geometry": geometry,
    }
    return {"type": "FeatureCollection", "features": [feature]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--close", type=float, default=DEFAULT_CLOSE)
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE)
    args = parser.parse_args()

    boxes, stats, name = load_boxes(DATASET_PATH)
    geom = build_outline(boxes, args.close, args.tolerance)
    area = metric_area_km2(geom)
    official = official_area_km2(DATASET_PATH)
    collection = to_feature_collection(geom, name, area, official, args.close, args.tolerance)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", encoding="utf-8") as fh:
        json.dump(collection, fh, ensure_ascii=False, separators=(",", ":"))
        fh.write("\n")

    size_kb = args.output.stat().st_size / 1024
    print(f"{name}: rows={stats['rows']} ward_boxes={stats['ward']} "
          f"fallbacks_skipped={stats['fallback']} rejected={stats['rejected']}")
    print(f"polygons={len(geom.geoms)} vertices={shapely.get_num_coordinates(geom)} "
          f"area={area:,.1f} km2 ({area / official - 1:+.1%} vs the units' {official:,.1f}) "
          f"size={size_kb:.1f} KB -> {args.output}")


if __name__ == "__main__":
    main()
