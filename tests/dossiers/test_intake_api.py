"""Registering dossiers through the API, as a partner's system does."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from core.extensions import db
from dossiers import codes
from dossiers.models import Dossier, DossierCounter, DossierEvent
from tests.factories import auth, create_dossier, dossier_body

pytestmark = pytest.mark.usefixtures("clock")  # routing sees the office hours
# Circular 01/2018/TT-VPCP Art. 19: V1V2V3.Z1Z2.Y1Y2.MX1X2-YYMMDD-XXXX, Hanoi's level-1 code H26.
NUMBER = re.compile(r"^(?P<agency>\d{3}\.\d{2}\.\d{2}\.H26)-(?P<day>\d{6})-(?P<seq>\d{4})$")


def _post(client, key, body, idem="k-1", **headers):
    return client.post("/api/v1/dossiers", json=body, headers=auth(key, **{"Idempotency-Key": idem}, **headers))


def _counts(app):
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(m))
                     for m in (Dossier, DossierEvent, DossierCounter))


@pytest.mark.smoke  # the registration statement differs on SQLite
def test_register_numbers_routes_and_schedules_a_dossier(client, agent_key):
    response = _post(client, agent_key, dossier_body())
    assert response.status_code == 201
    data = response.get_json()
    match = NUMBER.match(data["number"])
    assert match, data["number"]
    point = data["service_point"]["service_point_code"]
    assert match["agency"] == data["agency_code"] == codes.agency_code_for(point) != point
    assert match["day"] == data["received_at"][2:10].replace("-", "")  # the clock's morning: same day in UTC
    assert match["seq"] == "0001"
    assert response.headers["Location"].endswith(f"/api/v1/dossiers/{data['number']}")
    assert data["status"] == "routed"
    assert data["citizen"]["phone"] == "+84912345678"  # stored in E.164
    assert data["routing"]["chosen_by"] == "router"
    assert data["routing"]["outside_service_radius"] is False
    assert "km" in data["routing"]["explanation_vi"] and "phút" in data["routing"]["explanation_vi"]
    assert [e["to_status"] for e in data["events"]] == ["received", "routed"]
    assert data["events"][0]["actor"] == "org:VNPOST-HN"
    assert data["deadline_at"] > data["received_at"]
    assert data["allowed_transitions"] == ["accepted", "rejected", "cancelled"]


def test_an_agent_users_personal_key_records_the_agent(client, app):
    from tests import factories
    with app.app_context():
        org = factories.create_org()
        key = factories.user_key(factories.create_user("agent", email="lan@buudien.vn", org=org))
    data = create_dossier(client, key, agent_reference="Quầy 3")
    assert data["events"][0]["actor"] == "user:lan@buudien.vn (Quầy 3)"
    assert data["agent_reference"] == "Quầy 3"
    with app.app_context():
        stored = db.session.scalar(select(Dossier))
        assert stored.agent_user_id is not None and stored.organisation_id == org.id


def test_the_201_response_is_exactly_what_was_stored(client, agent_key):
    created = create_dossier(client, agent_key, delivery={"method": "courier", "address": "5 Lý Thái Tổ"},
                             note="Công dân cần bản sao", agent_reference="Quầy 1")
    stored = client.get(f"/api/v1/dossiers/{created['number']}", headers=auth(agent_key)).get_json()
    assert stored == created


@pytest.mark.smoke  # the registration statement differs on SQLite
def test_same_key_and_body_returns_the_same_dossier(client, app, agent_key):
    first = _post(client, agent_key, dossier_body(), idem="same")
    again = _post(client, agent_key, dossier_body(), idem="same")
    assert first.status_code == 201 and again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["number"] == first.get_json()["number"]
    assert _counts(app)[0] == 1


@pytest.mark.smoke  # the registration statement differs on SQLite
def test_same_key_with_another_body_is_refused(client, app, agent_key):
    assert _post(client, agent_key, dossier_body(), idem="k").status_code == 201
    other = _post(client, agent_key, dossier_body(note="khác"), idem="k")
    assert other.status_code == 422
    assert other.mimetype == "application/problem+json"
    assert other.get_json()["code"] == "idempotency_key_reused"
    assert _counts(app)[0] == 1
    # The refused duplicate's number was rolled back with it: no gap.
    assert create_dossier(client, agent_key)["number"].endswith("-0002")


def test_keys_are_per_organisation(client, agent_key, other_agent_key):
    a = _post(client, agent_key, dossier_body(), idem="shared")
    b = _post(client, other_agent_key, dossier_body(), idem="shared")
    assert a.status_code == b.status_code == 201
    assert a.get_json()["number"] != b.get_json()["number"]


def test_idempotency_key_header_is_required(client, app, agent_key):
    response = client.post("/api/v1/dossiers", json=dossier_body(), headers=auth(agent_key))
    assert response.status_code == 422
    error = response.get_json()["errors"][0]
    assert (error["field"], error["location"]) == ("Idempotency-Key", "headers")
    assert error["message_vi"] == "Thiếu tiêu đề Idempotency-Key."
    assert _counts(app) == (0, 0, 0)


@pytest.mark.parametrize(("override", "field", "message_en", "message_vi"), [
    ({"citizen": {"cccd": "12345"}}, "citizen.cccd", "Must be exactly 12 digits.", "Phải gồm đúng 12 chữ số."),
    ({"citizen": {"cccd": "00109001234a"}}, "citizen.cccd", "Must be exactly 12 digits.", None),
    ({"citizen": {"cccd": "999090012345"}}, "citizen.cccd",
     "The first three digits are not a Vietnamese province code.", None),
    ({"citizen": {"phone": "12345"}}, "citizen.phone", "Not a valid phone number.", "Số điện thoại không hợp lệ."),
    ({"citizen": {"phone": "02438256789"}}, "citizen.phone", "Must be a mobile number that can receive SMS.", None),
    ({"citizen": {"full_name": ""}}, "citizen.full_name", "Must not be blank.", "Không được để trống."),
    ({"location": {"lat": 17.9757, "lon": 102.6331}}, "location.lat", "The location is not in Vietnam.",
     "Vị trí không nằm trong lãnh thổ Việt Nam."),
    ({"location": {"lat": 95, "lon": 105.8}}, "location.lat",
     "Must be greater than or equal to -90 and less than or equal to 90.", "Phải từ -90 đến 90."),
    ({"delivery": {"method": "courier"}}, "delivery.address",
     "Required when the result is delivered by courier.", "Bắt buộc khi trả kết quả qua bưu chính."),
    ({"delivery": {"method": "drone"}}, "delivery.method", "Must be one of: collect, courier.", None),
    ({"procedure_code": "NO-SUCH"}, "procedure_code", "Unknown or inactive procedure.",
     "Thủ tục không tồn tại hoặc đã ngừng áp dụng."),
    ({"service_point_code": "HN-NOPE", "choice_reason": "gần nhà"}, "service_point_code",
     "Unknown or inactive service point.", None),
    ({"service_point_code": "HN-CN01"}, "choice_reason", "Required when choosing another service point.", None),
    ({"surprise": 1}, "surprise", "Unknown field.", "Trường không được hỗ trợ."),
])
@pytest.mark.smoke  # the registration statement differs on SQLite
def test_bad_input_names_the_field_in_both_languages_and_writes_nothing(
    client, app, agent_key, override, field, message_en, message_vi
):
    response = _post(client, agent_key, dossier_body(**override))
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 422 and problem["title_vi"] and problem["title_en"]
    errors = {e["field"]: e for e in problem["errors"]}
    assert field in errors, problem
    assert errors[field]["message_en"] == message_en
    if message_vi:
        assert errors[field]["message_vi"] == message_vi
    assert _counts(app) == (0, 0, 0)


def test_problem_title_follows_accept_language(client, agent_key):
    body = dossier_body(citizen={"cccd": "1"})
    vi = _post(client, agent_key, body).get_json()
    en = _post(client, agent_key, body, **{"Accept-Language": "en-GB,en;q=0.9"}).get_json()
    assert vi["title"] == "Dữ liệu không hợp lệ" and en["title"] == "Invalid input"
    assert en["errors"][0]["message"] == "Must be exactly 12 digits."


def test_agent_may_choose_another_point_with_a_reason(client, agent_key):
    data = create_dossier(client, agent_key, service_point_code="HN-CN01", choice_reason="Công dân làm việc gần đó")
    assert data["number"].startswith("000.01.98.H26-")  # Branch 1's agency code, not the router's choice
    assert data["service_point"]["service_point_code"] == "HN-CN01"
    assert data["routing"]["chosen_by"] == "agent"
    assert data["routing"]["choice_reason"] == "Công dân làm việc gần đó"
    assert data["routing"]["router_choice"]["service_point_code"] != "HN-CN01"
    assert "Công dân làm việc gần đó" in data["events"][1]["reason"]


def test_without_gps_the_citizens_address_is_located_offline(client, agent_key):
    body = dossier_body(citizen={"address": "85 Dịch Vọng Hậu, phường Cầu Giấy, Hà Nội"})
    del body["location"]
    response = _post(client, agent_key, body)
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["location"]["source"] == "address"
    assert data["routing"]["location"]["approximate"] is True
    assert "Cầu Giấy" in data["routing"]["location"]["label"]
    assert abs(data["location"]["lat"] - 21.03) < 0.03 and abs(data["location"]["lon"] - 105.79) < 0.03


def test_no_location_and_no_address_or_an_unknown_one_is_refused(client, app, agent_key):
    body = dossier_body(citizen={"address": None})
    del body["location"]
    response = _post(client, agent_key, body)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "location"
    assert response.get_json()["errors"][0]["message_vi"] == "Bắt buộc nếu không có địa chỉ của công dân."
    body["citizen"]["address"] = "xqzv wprt kkkk"
    response = _post(client, agent_key, body, idem="k-2")
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "citizen.address"
    assert _counts(app) == (0, 0, 0)


@pytest.mark.parametrize(("where", "field"), [
    ({"location": {"lat": 10.7769, "lon": 106.7009}}, "location"),  # Hồ Chí Minh City, by GPS
    ({"address": "12 Lê Lợi, Phường Bến Nghé, Quận 1, TP Hồ Chí Minh"}, "citizen.address"),
    ({"address": "Thị trấn Sa Pa, Huyện Sa Pa, Tỉnh Lào Cai"}, "citizen.address"),
])
def test_a_location_outside_hanoi_is_refused(client, app, agent_key, where, field):
    body = dossier_body(location=where.get("location"))
    if "address" in where:
        body["citizen"]["address"] = where["address"]
    response = _post(client, agent_key, body, **{"Accept-Language": "en"})
    assert response.status_code == 422, response.get_json()
    problem = response.get_json()
    assert problem["code"] == "outside_hanoi"
    assert problem["errors"][0]["field"] == field
    assert "ngoài Hà Nội" in problem["errors"][0]["message_vi"]
    assert "outside Hanoi" in problem["errors"][0]["message_en"]
    assert "ngoài Hà Nội" in problem["detail_vi"] and "outside Hanoi" in problem["detail"]
    assert _counts(app) == (0, 0, 0)


def test_outside_hanoi_with_a_reason_is_registered_flagged_and_audited(client, agent_key):
    data = create_dossier(client, agent_key, location={"lat": 10.7769, "lon": 106.7009},
                          outside_hanoi_reason="Công dân tạm trú tại Hà Nội, nộp hộ")
    assert data["outside_service_radius"] is True
    assert data["routing"]["outside_hanoi"] is True
    assert data["routing"]["outside_hanoi_reason"] == "Công dân tạm trú tại Hà Nội, nộp hộ"
    assert "ngoài bán kính phục vụ" in data["routing"]["explanation_vi"]
    received = data["events"][0]
    assert "outside Hanoi" in received["reason"] and "Công dân tạm trú tại Hà Nội" in received["reason"]
    assert received["actor"] == "org:VNPOST-HN" and received["actor_role"] == "agent"


def test_a_blank_override_reason_does_not_override(client, agent_key):
    body = dossier_body(location={"lat": 10.7769, "lon": 106.7009}, outside_hanoi_reason="  ")
    assert _post(client, agent_key, body).get_json()["code"] == "outside_hanoi"


def test_inside_hanoi_is_not_flagged(client, agent_key):
    data = create_dossier(client, agent_key)
    assert data["routing"]["outside_hanoi"] is False and data["routing"]["outside_hanoi_reason"] is None


def test_routing_and_geocode_apis_answer_outside_hanoi(client, agent_key):
    far = "/api/v1/routing?lat=10.7769&lon=106.7009&procedure=HN-HT-201"
    refused = client.get(far, headers=auth(agent_key))
    assert refused.status_code == 422 and refused.get_json()["code"] == "outside_hanoi"
    assert refused.get_json()["errors"][0]["field"] == "lat"
    assert refused.get_json()["errors"][0]["location"] == "query"
    allowed = client.get(far + "&outside_hanoi_reason=nộp+hộ", headers=auth(agent_key)).get_json()
    assert allowed["outside_hanoi"] is True and allowed["chosen"] is not None
    near = client.get("/api/v1/routing?lat=21.0259&lon=105.8537&procedure=HN-HT-201", headers=auth(agent_key))
    assert near.status_code == 200 and near.get_json()["outside_hanoi"] is False
    hcm = client.get("/api/v1/geocode?address=12 Lê Lợi, Phường Bến Nghé, Quận 1, TP Hồ Chí Minh",
                     headers=auth(agent_key)).get_json()
    assert hcm["inside_hanoi"] is False
    hn = client.get("/api/v1/geocode?address=75 Đinh Tiên Hoàng, Hoàn Kiếm", headers=auth(agent_key)).get_json()
    assert hn["inside_hanoi"] is True


def test_province_level_procedure_never_goes_to_a_commune_point(client, agent_key):
    data = create_dossier(client, agent_key, procedure_code="HN-TP-001")
    assert data["service_point"]["tier"] in {"branch", "district_point"}


def test_organisations_see_only_their_own_dossiers(client, agent_key, other_agent_key):
    mine = create_dossier(client, agent_key)["number"]
    theirs = create_dossier(client, other_agent_key)["number"]
    assert client.get(f"/api/v1/dossiers/{mine}", headers=auth(agent_key)).status_code == 200
    foreign = client.get(f"/api/v1/dossiers/{theirs}", headers=auth(agent_key))
    assert foreign.status_code == 404 and foreign.mimetype == "application/problem+json"
    listed = client.get("/api/v1/dossiers", headers=auth(agent_key)).get_json()
    assert [d["number"] for d in listed] == [mine]


def test_list_filters_by_status_and_paginates(client, agent_key, officer_key):
    numbers = [create_dossier(client, agent_key)["number"] for _ in range(3)]
    client.post(f"/api/v1/dossiers/{numbers[0]}/transitions", json={"to": "accepted"}, headers=auth(officer_key))
    page = client.get("/api/v1/dossiers?page=1&page_size=2", headers=auth(agent_key))
    assert len(page.get_json()) == 2
    assert '"total": 3' in page.headers["X-Pagination"]
    accepted = client.get("/api/v1/dossiers?status=accepted", headers=auth(agent_key)).get_json()
    assert [d["number"] for d in accepted] == [numbers[0]]
    bad = client.get("/api/v1/dossiers?status=flying", headers=auth(agent_key))
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["location"] == "query"


@pytest.mark.smoke  # the registration statement differs on SQLite
def test_numbers_run_per_unit_and_day(client, agent_key):
    first = create_dossier(client, agent_key)["number"]
    second = create_dossier(client, agent_key)["number"]
    elsewhere = create_dossier(client, agent_key, location={"lat": 20.9636, "lon": 105.7776})["number"]
    assert first[-4:] == "0001" and second[-4:] == "0002"
    assert second[:-5] == first[:-5]
    assert elsewhere[:-12] != first[:-12] and elsewhere.endswith("-0001")


def test_routing_api_explains_and_takes_mode_and_tiers(client, agent_key):
    base = "/api/v1/routing?lat=21.0259&lon=105.8537&procedure=HN-HT-201"
    default = client.get(base, headers=auth(agent_key)).get_json()
    assert default["travel"]["source"] == "offline" and default["chosen"]["tier"] == "commune_point"
    walking = client.get(base + "&mode=walking&tiers=branch", headers=auth(agent_key)).get_json()
    assert walking["chosen"]["tier"] == "branch" and walking["travel"]["mode"] == "walking"
    assert "đi bộ" in walking["explanation_vi"] and "on foot" in walking["explanation_en"]
    bad = client.get(base + "&mode=boat", headers=auth(agent_key))
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "mode"
