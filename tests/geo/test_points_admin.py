"""Managing points through the admin API: validation, access, close/reopen/move seen by the
router at once, CSV export and import.

The reference data (the network) is shared by every test of the session: each test deletes
the points it created (``new_codes``) and never closes a demo point.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import delete

from core import versions
from core.extensions import db
from core.timeutil import to_local, utcnow
from geo.models import ServicePoint
from tests import factories
from tests.factories import auth

pytestmark = pytest.mark.usefixtures("clock")  # routing sees the office hours

BASE = "/api/v1/admin/service-points"
SPOT = {"lat": 21.0300, "lon": 105.8500}  # Hoàn Kiếm, about 600 m north of the post office
NEXT_TO_SPOT = "/api/v1/routing?lat=21.0301&lon=105.8501&procedure=HN-TP-001"  # a province-level procedure


@pytest.fixture
def admin_key(app):
    with app.app_context():
        return factories.user_key(factories.create_user("admin"))


@pytest.fixture
def new_codes(app):
    """Codes of points a test creates: deleted afterwards, with the network's version bumped."""
    codes: list[str] = []
    yield codes
    with app.app_context():
        db.session.rollback()
        result = db.session.execute(delete(ServicePoint).where(ServicePoint.code.in_(codes)))
        if result.rowcount:
            versions.bump(versions.SERVICE_POINTS)
        db.session.commit()


def point_body(code: str, **overrides) -> dict:
    return {"code": code, "tier": "commune_point", "name": "Điểm tiếp nhận thử nghiệm",
            "address": "1 Tràng Tiền, Hoàn Kiếm, Hà Nội", **SPOT, **overrides}


@pytest.fixture
def create(client, admin_key, new_codes):
    def _create(code: str, expect: int = 201, **overrides):
        new_codes.append(code)
        response = client.post(BASE, json=point_body(code, **overrides), headers=auth(admin_key))
        assert response.status_code == expect, response.get_json()
        return response.get_json()
    return _create


def chosen_code(client, key) -> str:
    response = client.get(NEXT_TO_SPOT, headers=auth(key))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["chosen"]["service_point_code"]


def network_version(app) -> int:
    with app.app_context():
        return versions.current(versions.SERVICE_POINTS)


def error_fields_of(body: dict) -> list[str]:
    return [e["field"] for e in body["errors"]]


def error_fields(response) -> list[str]:
    return error_fields_of(response.get_json())


def test_created_point_is_listed_with_its_tier_defaults(app, client, agent_key, create):
    before = network_version(app)
    body = create("TEST-ADM-001", opening_hours="Mo-Fr 08:00-17:00;Sa 08:00-12:00", unit_code="")
    assert body["opening_hours"] == "Mo-Fr 08:00-17:00; Sa 08:00-12:00"  # stored in canonical form
    assert body["levels"] == ["commune"] and body["daily_capacity"] == 80  # commune-point defaults
    assert body["unit_code"] is None and body["active_to"] is None
    assert network_version(app) == before + 1
    listed = client.get("/api/v1/service-points?tier=commune_point", headers=auth(agent_key)).get_json()
    assert [p for p in listed if p["code"] == "TEST-ADM-001"] == [body]


def test_a_point_outside_vietnam_is_refused_naming_lat(client, admin_key, create):
    body = create("TEST-ADM-002", expect=422, lat=13.7563, lon=100.5018)  # Bangkok
    assert body["code"] == "validation_error" and error_fields_of(body) == ["lat"]
    assert body["errors"][0]["message_en"] == "The location is not in Vietnam."


@pytest.mark.parametrize("hours, reason", [
    ("Mo-Fx 08:00-17:00", "Not a valid opening-hours rule."),
    ("Mo-Fr 22:00-02:00", "A time range may not cross midnight (split it over two days)."),
])
def test_bad_opening_hours_are_refused_naming_opening_hours(create, hours, reason):
    body = create("TEST-ADM-003", expect=422, opening_hours=hours)
    assert error_fields_of(body) == ["opening_hours"]
    assert body["errors"][0]["message_en"] == reason


@pytest.mark.parametrize("overrides, field", [
    ({"code": "hn-lower"}, "code"),
    ({"levels": []}, "levels"),
    ({"levels": ["province", "ward"]}, "levels.1"),
    ({"daily_capacity": 0}, "daily_capacity"),
    ({"tier": "kiosk"}, "tier"),
    ({"active_from": "2026-03-01", "active_to": "2026-02-28"}, "active_to"),
])
def test_other_rules(client, admin_key, new_codes, overrides, field):
    new_codes.append("TEST-ADM-004")
    response = client.post(BASE, json={**point_body("TEST-ADM-004"), **overrides}, headers=auth(admin_key))
    assert response.status_code == 422
    assert error_fields(response) == [field]


def test_a_duplicate_code_is_a_conflict(client, admin_key, create):
    create("TEST-ADM-005")
    body = create("TEST-ADM-005", expect=409)
    assert body["code"] == "conflict" and error_fields_of(body) == ["code"]
    response = client.post(BASE, json=point_body("HN-CN01"), headers=auth(admin_key))  # a demo point
    assert response.status_code == 409


@pytest.mark.parametrize("key_fixture", ["agent_key", "officer_key"])
@pytest.mark.parametrize("method, path", [
    ("post", ""), ("patch", "/HN-CN01"), ("post", "/HN-CN01/close"), ("post", "/HN-CN01/reopen"),
    ("get", "/export.csv"), ("post", "/import"),
])
def test_only_administrators(request, client, key_fixture, method, path):
    key = request.getfixturevalue(key_fixture)
    response = getattr(client, method)(BASE + path, json={}, headers=auth(key))
    assert response.status_code == 403 and response.get_json()["code"] == "forbidden"


def test_close_and_reopen_take_effect_on_the_next_request(app, client, admin_key, agent_key, create):
    create("TEST-ADM-CLOSE", tier="district_point", opening_hours="24/7",
           levels=["province", "commune"])
    assert chosen_code(client, agent_key) == "TEST-ADM-CLOSE"

    missing_reason = client.post(f"{BASE}/TEST-ADM-CLOSE/close", json={"reason": "  "}, headers=auth(admin_key))
    assert missing_reason.status_code == 422 and error_fields(missing_reason) == ["reason"]

    before = network_version(app)
    closed = client.post(f"{BASE}/TEST-ADM-CLOSE/close", json={"reason": "Sửa chữa trụ sở"}, headers=auth(admin_key))
    assert closed.status_code == 200, closed.get_json()
    today = to_local(utcnow()).date()
    assert closed.get_json()["active_to"] == (today - timedelta(days=1)).isoformat()  # closed from today
    assert network_version(app) == before + 1
    decision = client.get(NEXT_TO_SPOT, headers=auth(agent_key)).get_json()
    assert "TEST-ADM-CLOSE" not in [decision["chosen"]["service_point_code"],
                                    *(o["service_point_code"] for o in decision["alternatives"])]

    reopened = client.post(f"{BASE}/TEST-ADM-CLOSE/reopen", headers=auth(admin_key))
    assert reopened.status_code == 200 and reopened.get_json()["active_to"] is None
    assert chosen_code(client, agent_key) == "TEST-ADM-CLOSE"


def test_closing_from_a_later_day_keeps_the_point_until_then(client, admin_key, agent_key, create):
    create("TEST-ADM-LATER", tier="district_point", opening_hours="24/7")
    on = to_local(utcnow()).date() + timedelta(days=30)
    response = client.post(f"{BASE}/TEST-ADM-LATER/close", json={"on": on.isoformat(), "reason": "Sáp nhập"},
                           headers=auth(admin_key))
    assert response.get_json()["active_to"] == (on - timedelta(days=1)).isoformat()
    assert chosen_code(client, agent_key) == "TEST-ADM-LATER"


def test_moving_a_point_takes_effect_and_is_checked_against_the_stored_coordinates(
        app, client, admin_key, agent_key, create):
    create("TEST-ADM-MOVE", tier="district_point", opening_hours="24/7")
    assert chosen_code(client, agent_key) == "TEST-ADM-MOVE"
    before = network_version(app)
    moved = client.patch(f"{BASE}/TEST-ADM-MOVE", json={"lat": 20.9700, "lon": 105.7800},  # Hà Đông, ~9 km away
                         headers=auth(admin_key))
    assert moved.status_code == 200 and moved.get_json()["lat"] == 20.97
    assert network_version(app) == before + 1
    assert chosen_code(client, agent_key) != "TEST-ADM-MOVE"

    outside = client.patch(f"{BASE}/TEST-ADM-MOVE", json={"lat": 30.0}, headers=auth(admin_key))  # lon stays
    assert outside.status_code == 422 and error_fields(outside) == ["lat"]
    hidden = client.patch(f"{BASE}/TEST-ADM-MOVE", json={"opening_hours": "Mo-Fr 08:00-12:00; Mo-Fr 13:00-17:00"},
                          headers=auth(admin_key))
    assert hidden.status_code == 422 and error_fields(hidden) == ["opening_hours"]

    same = client.patch(f"{BASE}/TEST-ADM-MOVE", json={"lat": 20.97}, headers=auth(admin_key))
    assert same.status_code == 200 and network_version(app) == before + 1  # nothing changed, no bump


@pytest.mark.parametrize("body, field", [
    ({"code": "TEST-ADM-X"}, "code"), ({"active_to": "2030-01-01"}, "active_to"), ({"name": None}, "name"),
])
def test_patch_refuses_what_it_may_not_change(client, admin_key, create, body, field):
    create("TEST-ADM-PATCH")
    response = client.patch(f"{BASE}/TEST-ADM-PATCH", json=body, headers=auth(admin_key))
    assert response.status_code == 422 and error_fields(response) == [field]


def test_unknown_points_are_404(client, admin_key):
    assert client.patch(f"{BASE}/NO-SUCH", json={"name": "Không có"}, headers=auth(admin_key)).status_code == 404
    assert client.post(f"{BASE}/NO-SUCH/reopen", headers=auth(admin_key)).status_code == 404
    response = client.post(f"{BASE}/NO-SUCH/close", json={"reason": "x"}, headers=auth(admin_key))
    assert response.status_code == 404


def _upload(client, key, content: bytes):
    return client.post(f"{BASE}/import", data={"file": (io.BytesIO(content), "points.csv")},
                       headers=auth(key), content_type="multipart/form-data")


def test_export_then_import_changes_nothing(app, client, admin_key):
    exported = client.get(f"{BASE}/export.csv", headers=auth(admin_key))
    assert exported.status_code == 200
    assert exported.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert exported.headers["Content-Disposition"].startswith('attachment; filename="service-points-')
    text = exported.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert list(rows[0]) == ["code", "tier", "name", "address", "unit_code", "lat", "lon", "coord_source",
                             "coord_precision", "source_url", "opening_hours", "levels", "daily_capacity",
                             "active_from", "active_to"]
    assert len(rows) >= 159 and all(r["opening_hours"] and r["levels"] for r in rows)

    before = network_version(app)
    report = _upload(client, admin_key, exported.get_data())
    assert report.status_code == 200, report.get_json()
    assert report.get_json() == {"created": 0, "updated": len(rows), "rejected": [], "unplaced": []}
    assert network_version(app) == before  # no actual change, no bump
    assert client.get(f"{BASE}/export.csv", headers=auth(admin_key)).get_data(as_text=True) == text


def test_import_keeps_good_rows_and_reports_bad_ones(client, admin_key, agent_key, new_codes):
    new_codes.append("TEST-ADM-IMP")
    content = ("code,tier,name,address,unit_code,lat,lon,coord_source,opening_hours\n"
               "TEST-ADM-IMP,commune_point,Điểm nhập thử,1 Hàng Bài,,21.02,105.85,test,Mo-Fr 08:00-17:00\n"
               "TEST-ADM-BAD,commune_point,Điểm ngoài lãnh thổ,Bangkok,,13.75,100.5,test,\n")
    report = _upload(client, admin_key, content.encode())
    assert report.status_code == 200
    body = report.get_json()
    assert body["created"] == 1 and body["updated"] == 0
    assert [(r["line"], r["code"], [e["field"] for e in r["errors"]]) for r in body["rejected"]] == [
        (3, "TEST-ADM-BAD", ["lat"])]
    codes = [p["code"] for p in client.get("/api/v1/service-points", headers=auth(agent_key)).get_json()]
    assert "TEST-ADM-IMP" in codes and "TEST-ADM-BAD" not in codes


@pytest.mark.parametrize("content, message", [
    (b"", "The file is empty."),
    ("code,name\nHN-X001,Đông Anh\n".encode("cp1258"), "The file must be UTF-8 encoded CSV."),  # Excel's "CSV"
])
def test_import_wants_a_utf8_file(client, admin_key, content, message):
    response = _upload(client, admin_key, content)
    assert response.status_code == 422 and error_fields(response) == ["file"]
    assert response.get_json()["errors"][0]["message_en"] == message


def test_import_refuses_bad_opening_hours(client, admin_key, new_codes):
    """Needs geo.hours.validate_hours on points_import's opening_hours column: the router parses
    every point's hours, so one bad value stored would break routing for everyone."""
    new_codes.append("TEST-ADM-HRS")
    content = ("code,tier,name,address,lat,lon,coord_source,opening_hours\n"
               "TEST-ADM-HRS,commune_point,Điểm giờ sai,1 Hàng Bài,21.02,105.85,test,Mo-Fr 22:00-02:00\n")
    body = _upload(client, admin_key, content.encode()).get_json()
    assert body["created"] == 0
    assert [e["field"] for e in body["rejected"][0]["errors"]] == ["opening_hours"]


def test_every_new_message_has_its_vietnamese_text():
    """Needs the pairs of this feature in core.messages."""
    from core.messages import to_vietnamese
    from geo import admin, hours

    messages = [hours.NOT_A_RULE, hours.BAD_TIME, hours.CROSSES_MIDNIGHT, hours.EMPTY_RANGE, hours.UNORDERED,
                hours.PH_NOT_LAST, hours.ALWAYS_NOT_ALONE, hours.HIDDEN_RULE, hours.NEVER_OPEN,
                admin.DUPLICATE_CODE, admin.TO_BEFORE_FROM, admin.FROM_AFTER_TO, admin.CLOSE_BEFORE_FROM,
                admin.NOT_UTF8]
    assert [m for m in messages if to_vietnamese(m) == m] == []


def test_import_records_precision_and_source_and_lists_unplaced_rows(client, admin_key, agent_key, new_codes):
    new_codes.extend(["TEST-ADM-PRC", "TEST-ADM-NOPLACE"])
    content = ("code,tier,name,address,unit_code,lat,lon,coord_source,coord_precision,source_url\n"
               "TEST-ADM-PRC,commune_point,Điểm có nguồn,12 Hàng Bài,,21.02,105.85,geocoded,street,"
               "https://example.vn/diem\n"
               "TEST-ADM-NOPLACE,branch,Chi nhánh chưa rõ địa chỉ,,,,,named in a report,unknown,"
               "https://example.vn/bao-cao\n"
               "TEST-ADM-BADPRC,commune_point,Điểm sai độ chính xác,1 Hàng Bài,,21.02,105.85,x,exact,\n"
               "TEST-ADM-BADURL,commune_point,Điểm sai nguồn,1 Hàng Bài,,21.02,105.85,x,street,not a url\n")
    body = _upload(client, admin_key, content.encode()).get_json()
    assert body["created"] == 1
    assert body["unplaced"] == [{"line": 3, "code": "TEST-ADM-NOPLACE", "name": "Chi nhánh chưa rõ địa chỉ",
                                 "source_url": "https://example.vn/bao-cao", "note": "named in a report"}]
    assert [(r["code"], [e["field"] for e in r["errors"]]) for r in body["rejected"]] == [
        ("TEST-ADM-BADPRC", ["coord_precision"]), ("TEST-ADM-BADURL", ["source_url"])]
    points = {p["code"]: p for p in client.get("/api/v1/service-points", headers=auth(agent_key)).get_json()}
    assert "TEST-ADM-NOPLACE" not in points  # no coordinates invented
    assert (points["TEST-ADM-PRC"]["coord_precision"], points["TEST-ADM-PRC"]["source_url"]) == (
        "street", "https://example.vn/diem")


def test_a_file_without_the_precision_columns_keeps_them(client, admin_key, agent_key, new_codes):
    new_codes.extend(["TEST-ADM-KEEP", "TEST-ADM-NEW"])
    _upload(client, admin_key, ("code,tier,name,address,lat,lon,coord_source,coord_precision,source_url\n"
                                "TEST-ADM-KEEP,commune_point,Điểm giữ,1 Hàng Bài,21.02,105.85,x,building,"
                                "https://example.vn/a\n").encode())
    body = _upload(client, admin_key, ("code,tier,name,address,lat,lon,coord_source\n"  # an older file
                                       "TEST-ADM-KEEP,commune_point,Điểm giữ,1 Hàng Bài,21.021,105.85,x\n"
                                       "TEST-ADM-NEW,commune_point,Điểm mới,1 Hàng Bài,21.02,105.85,x\n").encode()
                   ).get_json()
    assert (body["created"], body["updated"], body["rejected"]) == (1, 1, [])
    points = {p["code"]: p for p in client.get("/api/v1/service-points", headers=auth(agent_key)).get_json()}
    assert (points["TEST-ADM-KEEP"]["lat"], points["TEST-ADM-KEEP"]["coord_precision"],
            points["TEST-ADM-KEEP"]["source_url"]) == (21.021, "building", "https://example.vn/a")
    assert (points["TEST-ADM-NEW"]["coord_precision"], points["TEST-ADM-NEW"]["source_url"]) == ("unknown", None)


def test_an_administrator_sets_the_precision_and_the_router_says_it(client, admin_key, agent_key, create):
    create("TEST-ADM-PREC", tier="branch", opening_hours="24/7", coord_precision="building",
           source_url="https://example.vn/toa-nha", lat=21.0301, lon=105.8501)
    body = client.get(NEXT_TO_SPOT, headers=auth(agent_key)).get_json()
    assert body["chosen"]["service_point_code"] == "TEST-ADM-PREC" and body["chosen"]["coord_precision"] == "building"
    assert body["explanation_vi"].endswith(" — vị trí điểm theo đúng tòa nhà")
    response = client.patch(f"{BASE}/TEST-ADM-PREC", json={"coord_precision": "street"}, headers=auth(admin_key))
    assert response.status_code == 200 and response.get_json()["coord_precision"] == "street"
    assert client.get(NEXT_TO_SPOT, headers=auth(agent_key)).get_json()["explanation_en"].endswith(
        " — the point's position is estimated from its street")
    response = client.patch(f"{BASE}/TEST-ADM-PREC", json={"coord_precision": "exact"}, headers=auth(admin_key))
    assert response.status_code == 422 and error_fields(response) == ["coord_precision"]
