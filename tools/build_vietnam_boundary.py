"""Build an approximate offline polygon of Vietnam's territory.

Dev-time tool only: the application never imports or runs this script. It
regenerates ``geo/data/vietnam_boundary.geojson``, which the app can load to
answer "do these coordinates lie in Vietnam?" without network access.

Method: take the bounding box of every legacy ward (``admin_units_legacy``,
column ``wardBounds``) from the SQLite dataset bundled with the
``vietnamadminunits`` package, drop malformed or implausible boxes, union the
rest, close narrow gaps (a dilate-then-erode "closing"), buffer slightly to
close the remaining small gaps between neighbouring boxes, fill holes,
simplify, and write a GeoJSON FeatureCollection holding a single MultiPolygon
feature.

The closing step matters in mountainous areas (e.g. western Nghệ An), where
many ward boxes are only a few hundred metres wide because the geocoder
returned a village rather than the whole commune; without it the outline has
inlets reaching deep into Vietnamese territory. It only fills gaps narrower
than twice its radius, so it does not push the outline outwards.

A few island districts (Bạch Long Vĩ, Cồn Cỏ, Lý Sơn, Côn Đảo) have no wards,
so their row carries no ``wardBounds``; the district's own box is used there.
Boxes that merely repeat the whole province's box are geocoder fallbacks (for
example the "Trường Sa" rows, which point at mainland Khánh Hòa) and are
skipped. The result is a generous outline built from rectangles, so it
overshoots land borders and coasts (and still misses some thinly covered
border areas); it is meant for coarse checks only.

Usage (from the repository root):

    .venv/bin/python tools/build_vietnam_boundary.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sqlite3
from contextlib import closing
from importlib import metadata
from pathlib import Path

import shapely
import vietnamadminunits
from shapely.geometry import MultiPolygon, Polygon, box, mapping

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO_ROOT / "geo" / "data" / "vietnam_boundary.geojson"
DATASET_PATH = Path(vietnamadminunits.__file__).parent / "data" / "dataset.db"
EN_DASH = "\u2013"  # separator used in the *Bounds columns

# Sanity limits for a single box, in degrees.
MAX_BOX_SIDE = 1.5
LON_RANGE = (100.0, 118.0)
LAT_RANGE = (6.0, 24.0)

DEFAULT_CLOSE = 0.05
DEFAULT_BUFFER = 0.02
DEFAULT_TOLERANCE = 0.01
DECIMALS = 4

Box = tuple[float, float, float, float]  # (min_lon, min_lat, max_lon, max_lat)


def parse_bounds(text: str | None) -> Box | None:
    """Parse "lat1,lon1 <en dash> lat2,lon2" into a box; None if malformed."""
    if not text:
        return None
    try:
        first, second = text.split(EN_DASH)
        lat1, lon1 = (float(v) for v in first.split(","))
        lat2, lon2 = (float(v) for v in second.split(","))
    except ValueError:
        return None
    return min(lon1, lon2), min(lat1, lat2), max(lon1, lon2), max(lat1, lat2)


def is_plausible(bounds: Box) -> bool:
    """Reject degenerate, oversized or out-of-region boxes."""
    min_lon, min_lat, max_lon, max_lat = bounds
    width, height = max_lon - min_lon, max_lat - min_lat
    if not (0 < width <= MAX_BOX_SIDE and 0 < height <= MAX_BOX_SIDE):
        return False
    in_lon = LON_RANGE[0] <= min_lon and max_lon <= LON_RANGE[1]
    in_lat = LAT_RANGE[0] <= min_lat and max_lat <= LAT_RANGE[1]
    return in_lon and in_lat


def load_boxes(db_path: Path) -> tuple[list[Polygon], dict[str, int]]:
    """Return one box polygon per usable ward, plus counters for reporting."""
    stats = {"rows": 0, "ward": 0, "district": 0, "fallback": 0, "rejected": 0}
    boxes: list[Polygon] = []
    query = (
        "SELECT ward, wardBounds, districtBounds, provinceBounds "
        "FROM admin_units_legacy"
    )
    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
        rows = conn.execute(query).fetchall()
    for ward, ward_bounds, district_bounds, province_bounds in rows:
        stats["rows"] += 1
        # Ward-less district rows (island districts): use the district box.
        source, raw = ("ward", ward_bounds) if ward else ("district", district_bounds)
        if raw and raw == province_bounds:
            stats["fallback"] += 1
            continue
        bounds = parse_bounds(raw)
        if bounds is None or not is_plausible(bounds):
            stats["rejected"] += 1
            continue
        stats[source] += 1
        boxes.append(box(*bounds))
    return boxes, stats


def build_boundary(
    boxes: list[Polygon], close_deg: float, buffer_deg: float, tolerance: float
) -> MultiPolygon:
    """Union, close, buffer, fill holes and simplify into one MultiPolygon."""
    merged = shapely.union_all(boxes)
    # Mitre joins keep the outline rectilinear (few extra vertices) and make
    # the erosion undo the dilation exactly wherever no gap was filled.
    if close_deg > 0:
        merged = merged.buffer(close_deg, join_style="mitre")
        merged = merged.buffer(-close_deg, join_style="mitre")
    merged = merged.buffer(buffer_deg, join_style="mitre")
    parts = shapely.get_parts(merged)
    merged = shapely.union_all([Polygon(part.exterior) for part in parts])
    merged = merged.simplify(tolerance, preserve_topology=True)
    # Snap to the output grid so rounding cannot create invalid rings.
    merged = shapely.set_precision(merged, 10**-DECIMALS)
    if isinstance(merged, Polygon):
        merged = MultiPolygon([merged])
    if not merged.is_valid or merged.is_empty:
        raise RuntimeError("resulting boundary is empty or invalid")
    return merged


def round_coords(obj):
    """Recursively round every float in a GeoJSON coordinate structure."""
    if isinstance(obj, (list, tuple)):
        return [round_coords(item) for item in obj]
    return round(obj, DECIMALS)


def to_feature_collection(
    geom: MultiPolygon, close_deg: float, buffer_deg: float, tolerance: float
) -> dict:
    """Wrap the geometry in a GeoJSON FeatureCollection with provenance."""
    version = metadata.version("vietnamadminunits")
    source = (
        f"vietnamadminunits {version} legacy ward bounding boxes, unioned, "
        f"buffered {buffer_deg:g}°, simplified {tolerance:g}°"
    )
    geometry = mapping(geom)
    geometry["coordinates"] = round_coords(geometry["coordinates"])
    feature = {
        "type": "Feature",
        "properties": {
            "name": "Vietnam (approximate)",
            "source": source,
            "note": (
                f"Gaps narrower than {2 * close_deg:g}° closed before "
                "buffering; district boxes used for ward-less island "
                "districts; boxes equal to the province box (geocoder "
                "fallbacks) skipped. Approximate: built from rectangles, so "
                "it overshoots land borders and coasts."
            ),
            "generated": dt.date.today().isoformat(),
        },
        "geometry": geometry,
    }
    return {"type": "FeatureCollection", "features": [feature]}


def main() -> None:
    """Build the boundary and write it to the GeoJSON file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--close", type=float, default=DEFAULT_CLOSE)
    parser.add_argument("--buffer", type=float, default=DEFAULT_BUFFER)
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE)
    args = parser.parse_args()

    boxes, stats = load_boxes(DATASET_PATH)
    geom = build_boundary(boxes, args.close, args.buffer, args.tolerance)
    collection = to_feature_collection(geom, args.close, args.buffer, args.tolerance)

    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", encoding="utf-8") as fh:
        json.dump(collection, fh, ensure_ascii=False, separators=(",", ":"))
        fh.write("\n")

    vertices = shapely.get_num_coordinates(geom)
    size_kb = args.output.stat().st_size / 1024
    print(
        f"rows={stats['rows']} ward_boxes={stats['ward']} "
        f"district_boxes={stats['district']} fallbacks_skipped={stats['fallback']} "
        f"rejected={stats['rejected']}"
    )
    print(
        f"polygons={len(geom.geoms)} vertices={vertices} "
        f"size={size_kb:.1f} KB -> {args.output}"
    )


if __name__ == "__main__":
    main()
