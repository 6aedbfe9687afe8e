"""The coverage map page: Hà Nội, its gaps and its service points, drawn with Leaflet.

Public: coverage of public offices holds no personal data. Every asset is served by
this app (Leaflet from the XStatic-Leaflet package, the page's script from
``geo/static``): no CDN. A tile layer is added only when ``MAP_TILE_URL`` is set;
without one the page draws Hà Nội's outline so the map stays readable.
"""

from __future__ import annotations

from pathlib import Path

import xstatic.pkg.leaflet as xstatic_leaflet
from flask import Blueprint, Response, current_app, render_template, send_from_directory

from core.auth import public
from core.plural import count
from geo.coverage import DEFAULT_CELL_M, DEFAULT_LEVEL, DEFAULT_TIERS
from geo.coverage_service import default_geojson_text

bp = Blueprint("coverage_page", __name__, template_folder="templates")
# An explicit, @public route rather than the blueprint's static_folder: Flask's own
# static endpoint would carry no access rule, and unruled routes are refused.
STATIC_DIR = Path(__file__).with_name("static")
LEAFLET_DIR = Path(xstatic_leaflet.BASE_DIR)


@bp.get("/coverage")
@public
def coverage_page():
    cfg = current_app.config
    return render_template(
        "geo/coverage.html",
        tile_url=cfg.get("MAP_TILE_URL", ""),
        tile_attribution=cfg.get("MAP_TILE_ATTRIBUTION", ""),
        cell_m=DEFAULT_CELL_M, level=DEFAULT_LEVEL, tiers=DEFAULT_TIERS,
        max_km=cfg["SERVICE_RADIUS_KM"], max_minutes=cfg["SERVICE_RADIUS_MINUTES"],
        minutes_en=count(round(cfg["SERVICE_RADIUS_MINUTES"]), "minute", "minutes"),
        leaflet_version=xstatic_leaflet.VERSION,
    )


@bp.get("/coverage.geojson")
@public
def coverage_geojson():
    """Default coverage (500 m, province level, branches and reception points) with the outline."""
    return Response(default_geojson_text(), mimetype="application/geo+json")


@bp.get("/coverage/static/<path:filename>")
@public
def coverage_static(filename: str):
    return send_from_directory(STATIC_DIR, filename, max_age=3600)


@bp.get("/assets/leaflet/<path:filename>")
@public
def leaflet_asset(filename: str):
    """Leaflet's files from the XStatic-Leaflet package."""
    return send_from_directory(LEAFLET_DIR, filename, max_age=86400)
