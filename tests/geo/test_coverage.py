"""Coverage: the grid, the share within the rule, catchments, gaps, communes, what-ifs, outputs, HTTP."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from geo.coverage import (
    HANOI_BOUNDARY_FILE,
    Place,
    candidate,
    commune_centres,
    compare,
    compute_coverage,
    load_boundary,
    make_grid,
)
from geo.router import Network, PointCandidate
from geo.rules import RadiusRule
from geo.travel import Mode, OfflineTravelModel
from tests.factories import auth

_TO_METRIC = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)
_TO_WGS84 = Transformer.from_crs("EPSG:32648", "EPSG:4326", always_xy=True)
CENTRE_LAT, CENTRE_LON = 21.0, 105.8
CX, CY = _TO_METRIC.transform(CENTRE_LON, CENTRE_LAT)
RULE, MODEL = RadiusRule(max_km=5.0, max_minutes=30.0), OfflineTravelModel()
REACH_KM = MODEL.max_straight_km(30.0, Mode.MOTORBIKE, None)  # 30 min at 15 km/h ÷ 1.35 ≈ 5.56 km
ALL_LEVELS = frozenset({"province", "district", "commune"})


def at(dx_km: float, dy_km: float) -> tuple[float, float]:
    """(lat, lon) of a point dx, dy km from the square's centre, in UTM metres."""
    lon, lat = _TO_WGS84.transform(CX + dx_km * 1000, CY + dy_km * 1000)
    return lat, lon


def square(half_km: float = 10.0):
    """A 20 km square (in UTM 48N) around the centre, as a WGS 84 polygon."""
    metric = shapely.box(CX - half_km * 1000, CY - half_km * 1000, CX + half_km * 1000, CY + half_km * 1000)
    metric = shapely.segmentize(metric, 500)
    return shapely.transform(metric, lambda xy: np.column_stack(_TO_WGS84.transform(xy[:, 0], xy[:, 1])))


def point(pid: int, code: str, lat_lon: tuple[float, float], tier: str = "branch") -> PointCandidate:
    return PointCandidate(pid, code, f"Point {code}", tier, *lat_lon, levels=ALL_LEVELS)


BOUNDARY = square()
NEAR = Place("00001", "Phường Gần", *at(2.0, 0.0))
FAR = Place("00002", "Xã Xa", *at(-8.0, -8.0))


def run(points, cell_m=250, **kwargs):
    return compute_coverage(Network(points), "province", ("branch", "district_point"), RULE, MODEL, cell_m,
                            BOUNDARY, kwargs.pop("communes", (NEAR, FAR)), **kwargs)


# --- the grid ------------------------------------------------------------------------------------

def test_grid_cells_have_their_centre_inside_and_add_up_to_the_area():
    grid = make_grid(BOUNDARY, 500.0)
    assert len(grid) == 40 * 40  # 20 km / 500 m, aligned cells
    assert all(BOUNDARY.contains(shapely.Point(lon, lat)) for lat, lon in zip(grid.lats, grid.lons, strict=True))
    assert grid.cell_km2 == pytest.approx(0.25)


def test_grid_is_cached_per_boundary_and_size():
    assert make_grid(BOUNDARY, 500.0) is make_grid(BOUNDARY, 500.0)
    with pytest.raises(ValueError):
        make_grid(BOUNDARY, 0)


# --- one point in the middle ---------------------------------------------------------------------

def test_share_within_is_the_disc_over_the_square():
    result = run([point(1, "MID", at(0, 0))])
    disc = math.pi * REACH_KM ** 2
    assert result.cells == 80 * 80
    assert result.km2_total == pytest.approx(400.0)
    assert result.share_within == pytest.approx(disc / 400.0, rel=0.03)
    assert result.km2_within == pytest.approx(disc, rel=0.03)


def test_catchment_of_the_only_point_is_the_whole_square():
    result = run([point(1, "MID", at(0, 0)), point(2, "OFF", at(1, 1), tier="commune_point")])
    assert [c.point.code for c in result.catchments] == ["MID"]  # commune points are not counted by default
    mid = result.catchments[0].to_dict()
    assert mid["catchment_cells"] == result.cells
    assert mid["within_cells"] == result.cells_within
    assert mid["outside_km2"] == pytest.approx(result.km2_total - result.km2_within, abs=0.01)


def test_two_points_split_the_square():
    result = run([point(1, "WEST", at(-5, 0)), point(2, "EAST", at(5, 0))])
    west, east = (c.cells for c in result.catchments)
    assert west + east == result.cells
    assert west == pytest.approx(east, rel=0.05)


def test_gap_is_the_square_less_the_disc():
    result = run([point(1, "MID", at(0, 0))])
    assert len(result.gaps) == 1
    (gap,) = result.gap_list()
    assert gap["area_km2"] == pytest.approx(400.0 - result.km2_within, abs=0.01)
    assert gap["cells"] == result.cells - result.cells_within


def test_communes_get_their_nearest_point_distance_minutes_and_the_rule():
    result = run([point(1, "MID", at(0, 0))])
    near, far = result.communes
    assert near.point.code == far.point.code == "MID"
    assert near.distance_km == pytest.approx(2.0, rel=0.01)
    assert near.minutes == pytest.approx(2.0 * 1.35 / 15.0 * 60.0, rel=0.01)
    assert near.within and not far.within
    assert far.distance_km == pytest.approx(8.0 * math.sqrt(2), rel=0.01)
    assert result.worst_communes(1)[0].place.code == "00002"
    assert result.summary()["communes_outside"] == 1


def test_opening_hours_play_no_part():
    class ClosedAlways:
        def is_open(self, local, holiday):
            return False

    closed = PointCandidate(1, "MID", "Closed point", "branch", *at(0, 0), levels=ALL_LEVELS, hours=ClosedAlways())
    assert run([closed]).share_within == pytest.approx(run([point(1, "MID", at(0, 0))]).share_within)


def test_far_points_leave_everything_a_gap():
    result = run([point(1, "FAR", at(40, 40))])
    assert result.cells_within == 0
    assert len(result.gaps) == 1
    assert result.gap_list()[0]["area_km2"] == pytest.approx(400.0)
    assert not any(c.within for c in result.communes)


def test_no_eligible_point_is_reported_without_infinities():
    result = run([point(1, "X1", at(0, 0), tier="commune_point")])
    assert result.catchments == () and result.cells_within == 0
    assert result.communes[0].point is None
    json.dumps(result.to_dict(), allow_nan=False)
    json.dumps(result.to_geojson(catchments=True), allow_nan=False)
    assert "inf" not in result.cells_csv()


def test_progress_is_reported_per_chunk_up_to_the_total():
    calls = []
    result = run([point(1, "MID", at(0, 0))], cell_m=100, progress=lambda done, total: calls.append((done, total)))
    assert len(calls) > 1
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert calls[-1] == (result.cells, result.cells)


# --- what-if -------------------------------------------------------------------------------------

def test_adding_a_candidate_increases_the_share_and_compare_says_so():
    network = [point(1, "CORNER", at(-9, -9))]
    before = run(network)
    extra = candidate(1, *at(2.5, 0), "Điểm dự kiến", "district_point", ["province", "district", "commune"])
    after = run(network, extra_points=[extra])
    assert extra.id == -1 and extra.code == "NEW-1"
    assert after.share_within > before.share_within
    diff = compare(before, after)
    assert diff["share_change"] == pytest.approx(after.share_within - before.share_within, abs=1e-4)
    assert diff["km2_newly_covered"] > 50
    assert diff["km2_no_longer_covered"] == 0
    assert [c["unit_code"] for c in diff["communes_newly_within"]] == ["00001"]
    assert diff["communes_newly_within"][0]["nearest_code"] == "NEW-1"
    assert [c["code"] for c in diff["candidates"]] == ["NEW-1"]
    assert diff["candidates"][0]["candidate"] is True


def test_compare_refuses_different_grids():
    network = [point(1, "MID", at(0, 0))]
    with pytest.raises(ValueError):
        compare(run(network, cell_m=250), run(network, cell_m=500))


# --- outputs -------------------------------------------------------------------------------------

def test_geojson_is_valid_and_serialisable():
    result = run([point(1, "WEST", at(-5, 0)), point(2, "EAST", at(5, 0))])
    collection = result.to_geojson(catchments=True, boundary=True)
    json.dumps(collection, allow_nan=False)
    assert collection["type"] == "FeatureCollection"
    kinds = [f["properties"]["kind"] for f in collection["features"]]
    assert kinds.count("boundary") == 1 and kinds.count("catchment") == 2 and kinds.count("point") == 2
    assert kinds.count("gap") == len(result.gaps) and kinds.count("commune") == 2
    for feature in collection["features"]:
        assert feature["type"] == "Feature" and isinstance(feature["properties"], dict)
        assert feature["geometry"]["type"] in {"Point", "Polygon", "MultiPolygon"}
        assert feature["geometry"]["coordinates"]
    catchments = [f["properties"]["km2"] for f in collection["features"] if f["properties"]["kind"] == "catchment"]
    assert sum(catchments) == pytest.approx(400.0, rel=0.001)
    assert collection["summary"]["cells"] == result.cells


def test_csv_outputs_have_a_header_and_one_row_per_commune_or_cell():
    result = run([point(1, "MID", at(0, 0))], cell_m=1000)
    communes = list(csv.reader(io.StringIO(result.to_csv("communes"))))
    assert communes[0][:2] == ["unit_code", "name"] and len(communes) == 1 + 2
    assert communes[1][communes[0].index("within")] == "true"
    cells = list(csv.reader(io.StringIO(result.to_csv("cells"))))
    assert cells[0] == ["ix", "iy", "lat", "lon", "nearest_code", "distance_km", "minutes", "within"]
    assert len(cells) == 1 + result.cells == 1 + 400
    with pytest.raises(ValueError):
        result.to_csv("points")


# --- Hà Nội ------------------------------------------------------------------------------------

def test_hanoi_outline_is_small_and_about_the_right_area():
    assert HANOI_BOUNDARY_FILE.stat().st_size < 100 * 1024
    metric = shapely.transform(load_boundary(),
                               lambda xy: np.column_stack(_TO_METRIC.transform(xy[:, 0], xy[:, 1])))
    assert metric.area / 1e6 == pytest.approx(3359, rel=0.10)
    assert load_boundary().contains(shapely.Point(105.8537, 21.0259))  # Hoàn Kiếm


def test_commune_centres_come_from_the_commune_points():
    points = [point(1, "HN-CN01", at(0, 0)),
              PointCandidate(2, "HN-X00004", "Điểm phục vụ hành chính công Phường Ba Đình", "commune_point",
                             21.0386, 105.838)]
    assert commune_centres(points) == [Place("00004", "Phường Ba Đình", 21.0386, 105.838)]


# --- HTTP ----------------------------------------------------------------------------------------

def test_api_coverage_json(client, agent_key):
    response = client.get("/api/v1/coverage", headers=auth(agent_key))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    summary = body["summary"]
    assert summary["tiers"] == ["branch", "district_point"] and summary["level"] == "province"
    assert summary["cells"] > 10_000 and 0 < summary["share_within"] < 1
    assert summary["communes"] == len(body["communes"]) == 126
    # Province level today: the three placed branches (the former-district points closed on 30/6/2025).
    assert summary["points"] == len(body["points"]) == 3
    assert summary["gaps"] == len(body["gaps"])


def test_api_coverage_geojson_and_csv(client, agent_key):
    response = client.get("/api/v1/coverage?format=geojson&cell_m=1000", headers=auth(agent_key))
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    assert json.loads(response.get_data(as_text=True))["type"] == "FeatureCollection"
    response = client.get("/api/v1/coverage?format=csv", headers=auth(agent_key))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][0] == "unit_code" and len(rows) == 1 + 126
    response = client.get("/api/v1/coverage?format=cells_csv&cell_m=2000&tiers=branch", headers=auth(agent_key))
    assert response.status_code == 200
    assert response.get_data(as_text=True).startswith("ix,iy,lat,lon")


def test_api_coverage_needs_a_key_and_valid_parameters(client, agent_key):
    assert client.get("/api/v1/coverage").status_code == 401
    assert client.get("/api/v1/coverage?cell_m=100", headers=auth(agent_key)).status_code == 422
    assert client.get("/api/v1/coverage?tiers=branch,kiosk", headers=auth(agent_key)).status_code == 422


WHAT_IF = {"points": [{"lat": 21.06, "lon": 105.34, "name": "Điểm dự kiến Ba Vì"}], "cell_m": 1000}


def test_what_if_is_for_officers_and_admins(client, agent_key, officer_key):
    assert client.post("/api/v1/coverage/what-if", json=WHAT_IF, headers=auth(agent_key)).status_code == 403
    response = client.post("/api/v1/coverage/what-if", json=WHAT_IF, headers=auth(officer_key))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["after"]["share_within"] > body["before"]["share_within"]
    assert body["compare"]["candidates"][0]["code"] == "NEW-1"
    assert "09700" in [c["unit_code"] for c in body["compare"]["communes_newly_within"]]  # Xã Ba Vì


def test_what_if_refuses_points_outside_vietnam_and_uncounted_tiers(client, officer_key):
    bangkok = {"points": [{"lat": 13.7563, "lon": 100.5018}]}
    response = client.post("/api/v1/coverage/what-if", json=bangkok, headers=auth(officer_key))
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "points.0.lat"
    commune = {"points": [{"lat": 21.06, "lon": 105.34, "tier": "commune_point"}]}
    assert client.post("/api/v1/coverage/what-if", json=commune, headers=auth(officer_key)).status_code == 422
    too_many = {"points": [{"lat": 21.0, "lon": 105.8}] * 21}
    assert client.post("/api/v1/coverage/what-if", json=too_many, headers=auth(officer_key)).status_code == 422


def test_map_page_states_the_rule_with_the_plural_form_of_each_language(app, client, monkeypatch):
    def words():
        return " ".join(client.get("/coverage").get_data(as_text=True).split())

    assert "or under 30 minutes by motorbike" in words()
    monkeypatch.setitem(app.config, "SERVICE_RADIUS_MINUTES", 1.0)
    page = words()
    assert "or under 1 minute by motorbike" in page and "dưới 1 phút đi xe máy" in page


def test_map_page_uses_no_external_asset(client):
    response = client.get("/coverage")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "http://" not in page and "https://" not in page
    assert "/assets/leaflet/leaflet.js" in page and "/assets/leaflet/leaflet.css" in page
    assert "Chú giải" in page and "Legend" in page


def test_map_page_adds_tiles_only_when_configured(app, client):
    saved = app.config.get("MAP_TILE_URL", "")
    app.config["MAP_TILE_URL"] = "https://tiles.example.vn/{z}/{x}/{y}.png"
    try:
        assert 'data-tile-url="https://tiles.example.vn/{z}/{x}/{y}.png"' in client.get("/coverage").get_data(
            as_text=True)
    finally:
        app.config["MAP_TILE_URL"] = saved


def test_map_assets_and_data(client):
    for path in ("/assets/leaflet/leaflet.js", "/assets/leaflet/leaflet.css", "/coverage/static/coverage.js"):
        response = client.get(path)
        assert response.status_code == 200, path
        response.close()
    response = client.get("/coverage.geojson")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    kinds = {f["properties"]["kind"] for f in json.loads(response.get_data(as_text=True))["features"]}
    assert {"boundary", "gap", "point", "commune"} <= kinds


def test_coverage_report_counts_dossiers_routed_outside_the_radius(client, agent_key):
    from tests.factories import auth as _auth
    from tests.factories import create_dossier

    create_dossier(client, agent_key)  # Hoàn Kiếm: within
    create_dossier(client, agent_key, location={"lat": 10.7769, "lon": 106.7009},  # Hồ Chí Minh City: outside
                   outside_hanoi_reason="test")
    report = client.get("/api/v1/coverage", headers=_auth(agent_key)).get_json()["dossiers_routed"]
    assert report["dossiers"] == 2 and report["outside_service_radius"] == 1
    assert report["by_point"][0]["outside_service_radius"] == 1
