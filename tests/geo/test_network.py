"""The shipped Hanoi network (geo/data/hanoi_service_points.csv) as the router sees it: every level is
routed from anywhere in Hanoi after the reform of 1/7/2025 without the retired former-district points,
and every answer says how precisely the chosen point is placed."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from app.demo import POINTS_CSV
from core.timeutil import LOCAL_TZ
from geo import service
from geo.models import CoordPrecision
from geo.points_import import LEVELS, import_points_csv
from geo.router import PRECISION_WORDS
from geo.territory import in_hanoi
from tests.factories import auth, create_dossier

pytestmark = pytest.mark.usefixtures("clock")  # 10 March 2026, 09:00 in Hanoi: the network open
PROVINCE_PROCEDURE, COMMUNE_PROCEDURE = "HN-TP-001", "HN-HT-201"
BA_VI = (21.18, 105.39)  # the far west: the former Ba Vì district's reception point is the nearest point
UNPLACED = ["HN-CN03", "HN-CN04", "HN-CN05", "HN-CN06", "HN-CN08", "HN-CN09", "HN-CN10", "HN-CN11", "HN-CN12"]


def hanoi_grid(step: float = 0.04) -> list[tuple[float, float]]:
    """Locations every ~4 km over Hanoi's outline: every part of the city, the far rural communes too."""
    return [(float(lat), float(lon)) for lat in np.arange(20.55, 21.40, step) for lon in np.arange(105.28, 106.02, step)
            if in_hanoi(lat, lon)]


def test_every_level_is_routed_from_anywhere_in_hanoi_without_the_former_district_points(app):
    grid = hanoi_grid()
    assert len(grid) > 150
    with app.app_context():
        communes = [(p.lat, p.lon) for p in service.list_points("commune_point")]
        assert len(communes) == 126
        for level in LEVELS:
            chosen = [service.route(lat, lon, level).chosen for lat, lon in grid + communes]
            assert all(c is not None for c in chosen), level
            tiers = {c.point.tier for c in chosen}
            assert "district_point" not in tiers, level
            assert tiers == {"branch"} if level == "province" else tiers == {"commune_point", "branch"}, level
            assert all(c.point.coord_precision in {p.value for p in CoordPrecision} - {"unknown"} for c in chosen)


def test_the_former_district_points_received_until_30_june_2025(app, clock):
    with app.app_context():
        clock.set(datetime(2025, 6, 30, 10, 0, tzinfo=LOCAL_TZ))  # a Monday, the last day of the districts
        before = service.route(*BA_VI, "province")
        clock.set(datetime(2025, 7, 1, 10, 0, tzinfo=LOCAL_TZ))
        after = service.route(*BA_VI, "province")
    assert before.chosen.point.code == "HN-D271" and before.chosen.point.coord_precision == "district_mean"
    assert "trung bình tâm các phường, xã của quận, huyện cũ" in before.explanation_vi
    assert after.chosen.point.tier == "branch" and after.outside_service_radius
    assert after.chosen.point.code != "HN-D271" and all(o.point.tier != "district_point" for o in after.alternatives)


def test_the_routing_answer_carries_the_precision_and_says_it(client, agent_key):
    response = client.get(f"/api/v1/routing?lat=21.0301&lon=105.8501&procedure={PROVINCE_PROCEDURE}",
                          headers=auth(agent_key))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["chosen"]["tier"] == "branch" and body["chosen"]["coord_precision"] == "ward_centre"
    assert body["explanation_vi"].endswith(" — vị trí điểm ước lượng theo tâm phường")
    assert body["explanation_en"].endswith(" — the point's position is estimated from the ward's centre")
    assert body["alternatives"] and all(o["coord_precision"] in PRECISION_WORDS for o in body["alternatives"])

    # Next to Tây Hồ's commune point: its office address is known, but offline it sits at the ward's centre.
    response = client.get(f"/api/v1/routing?lat=21.058&lon=105.8201&procedure={COMMUNE_PROCEDURE}",
                          headers=auth(agent_key))
    body = response.get_json()
    assert body["chosen"]["service_point_code"] == "HN-X00103" and body["chosen"]["coord_precision"] == "unit_centre"
    assert body["explanation_vi"].endswith(PRECISION_WORDS["unit_centre"][0])
    assert body["explanation_en"].endswith(PRECISION_WORDS["unit_centre"][1])


def test_a_dossier_keeps_the_precision_it_was_routed_on(client, agent_key):
    dossier = create_dossier(client, agent_key, procedure_code=PROVINCE_PROCEDURE)
    routing = dossier["routing"]
    assert routing["chosen"]["coord_precision"] == "ward_centre"
    assert "tâm phường" in routing["explanation_vi"] and "ward's centre" in routing["explanation_en"]


def test_the_service_points_api_says_where_each_position_comes_from(client, agent_key):
    branches = client.get("/api/v1/service-points?tier=branch", headers=auth(agent_key)).get_json()
    assert [b["code"] for b in branches] == ["HN-CN01", "HN-CN02", "HN-CN07"]  # the branches whose office was found
    assert all(b["coord_precision"] == "ward_centre" and b["source_url"].startswith("https://") for b in branches)
    districts = client.get("/api/v1/service-points?tier=district_point", headers=auth(agent_key)).get_json()
    assert len(districts) == 30
    assert {(d["coord_precision"], d["active_to"]) for d in districts} == {("district_mean", "2025-06-30")}


def test_the_shipped_file_lists_the_branches_it_could_not_place(app):
    with app.app_context():
        report = import_points_csv(POINTS_CSV.read_text(encoding="utf-8"))  # the session's data again: no change
        codes = {p.code for p in service.list_points()}
    assert report.rejected == [] and report.created == 0
    assert [u["code"] for u in report.unplaced] == UNPLACED
    assert all(u["source_url"].startswith("https://") and u["note"] for u in report.unplaced)
    assert not codes & set(UNPLACED)
