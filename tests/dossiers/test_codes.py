"""Legal dossier numbers (Circular 01/2018/TT-VPCP Art. 19): the code table, the format, the
per-agency, per-day running number, and every lookup that takes a number."""

from __future__ import annotations

import csv
import re
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from core.accounts import authenticate_key
from core.extensions import db
from core.timeutil import LOCAL_TZ
from dossiers import codes, repository, service
from dossiers.models import Dossier
from tests.factories import auth, create_dossier, dossier_body
from tests.tracking.conftest import token_for

pytestmark = pytest.mark.usefixtures("clock")  # 10 March 2026, 09:00 in Hanoi: routing sees the network open
NETWORK = Path(__file__).resolve().parents[2] / "geo" / "data" / "hanoi_service_points.csv"
ELSEWHERE = {"lat": 20.9636, "lon": 105.7776}  # Hà Đông: another point than Hoàn Kiếm's


# --- The code table ------------------------------------------------------------------------------

def test_the_table_gives_every_point_of_the_network_its_own_valid_code():
    table = codes.table()
    with NETWORK.open(encoding="utf-8") as fh:
        points = [row["code"] for row in csv.DictReader(fh)]
    assert len(table) >= 159 and len({e.agency_code for e in table.values()}) == len(table)
    for point in points:
        code = codes.agency_code_for(point)
        assert code is not None and re.fullmatch(codes.AGENCY_CODE, code) and code.endswith(".H26"), point
    for entry in table.values():
        assert entry.status in ("official", "derived") and entry.source
        if entry.status == "derived":  # a derived row says so and follows the documented rule
            assert entry.source.startswith("derived:") and entry.agency_code == codes.derive(entry.point_code)


def test_derived_codes_by_tier():
    assert codes.agency_code_for("HN-CN01") == "000.01.98.H26"
    assert codes.agency_code_for("HN-D001") == "001.99.98.H26"
    assert codes.agency_code_for("HN-X00070") == "000.70.97.H26"
    # A point added later (not in the table) is derived by the same rule; an odd code keeps the old format.
    assert codes.agency_code_for("HN-X10105") == "101.05.97.H26"
    assert codes.agency_code_for("TEST-POINT") is None
    assert codes.number_prefix("TEST-POINT", date(2026, 3, 10)) == "TEST-POINT-260310-"


@pytest.mark.parametrize("point", ["HN-CN01", "HN-CN07", "HN-D250", "HN-X00004", "HN-X10105", "HN-X00200"])
def test_a_counter_key_maps_back_to_its_point(point):
    assert codes.point_code_of(codes.counter_key(point)) == point
    assert codes.point_code_of(point) == point  # a counter of the former format is the point's already


# --- The format ------------------------------------------------------------------------------------

@pytest.mark.parametrize("number", [
    "000.02.98.H26-261203-0001", "000.70.97.h26-261203-0042 ",
    "001.99.98.H26-280229-12345",  # 29 Feb 2028, and a fifth digit on a very busy day
    "HN-CN02-261124-0001", "HN-X00126-261124-0001",  # the former format stays valid
])
def test_numbers_in_either_format_are_recognised(number):
    assert codes.is_dossier_number(number)


@pytest.mark.parametrize("number", [
    "", "000.02.98.H26", "000.02.98.H26-261324-0001", "000.02.98.H26-261203-01", "00.02.98.H26-261203-0001",
    "000.02.98.H26 261203 0001", "000.02.98.H26-261203-0001-X", "000.02.98-261203"])
def test_malformed_numbers_are_not(number):
    assert not codes.is_dossier_number(number)


def test_parse_tells_the_parts_and_the_format():
    assert codes.parse("000.02.98.H26-261203-0007") == {
        "agency": "000.02.98.H26", "day": "261203", "sequence": 7, "format": "circular_01_2018"}
    assert codes.parse("HN-CN02-261124-0001")["format"] == "legacy"


# --- Numbering ---------------------------------------------------------------------------------------

@pytest.mark.smoke  # the registration statement differs on SQLite
def test_the_running_number_is_per_agency_and_resets_each_day(app, client, agent_key, clock):
    first = create_dossier(client, agent_key)
    second = create_dossier(client, agent_key)
    elsewhere = create_dossier(client, agent_key, location=ELSEWHERE)
    point = first["service_point"]["service_point_code"]
    agency = codes.agency_code_for(point)
    assert first["number"] == f"{agency}-260310-0001" and second["number"] == f"{agency}-260310-0002"
    assert first["agency_code"] == agency
    other = elsewhere["service_point"]["service_point_code"]
    assert other != point and elsewhere["number"] == f"{codes.agency_code_for(other)}-260310-0001"
    # The day's load the router weighs is still counted per point.
    with app.app_context():
        loads = repository.loads_on(date(2026, 3, 10))
    assert loads[point] == 2 and loads[other] == 1

    clock.set(datetime(2026, 3, 11, 9, 0, tzinfo=LOCAL_TZ))  # the next working day
    assert create_dossier(client, agent_key)["number"] == f"{agency}-260311-0001"
    assert create_dossier(client, agent_key, location=ELSEWHERE)["number"].endswith("-260311-0001")


@pytest.mark.smoke
def test_a_refused_replay_burns_no_number(client, agent_key):
    body_key = "same-key"
    first = create_dossier(client, agent_key, idempotency_key=body_key)
    refused = client.post("/api/v1/dossiers", json=dossier_body(note="khác"),
                          headers=auth(agent_key, **{"Idempotency-Key": body_key}))
    assert refused.status_code == 422
    assert create_dossier(client, agent_key)["number"] == first["number"][:-4] + "0002"


# --- Lookups -------------------------------------------------------------------------------------------

def test_the_api_finds_a_dossier_by_its_legal_number_typed_in_any_case(client, agent_key):
    created = create_dossier(client, agent_key)
    number = created["number"]
    assert "." in number and number.endswith("-0001")
    for typed in (number, number.lower()):
        found = client.get(f"/api/v1/dossiers/{typed}", headers=auth(agent_key))
        assert found.status_code == 200 and found.get_json()["number"] == number
    listed = client.get("/api/v1/dossiers", headers=auth(agent_key)).get_json()
    assert [(d["number"], d["agency_code"], d["service_point_code"]) for d in listed] == [
        (number, created["agency_code"], created["service_point"]["service_point_code"])]
    assert client.get(f"/api/v1/dossiers/{number[:-1]}9", headers=auth(agent_key)).status_code == 404


def test_a_dossier_numbered_in_the_former_format_is_still_found(app, client, agent_key):
    created = create_dossier(client, agent_key)
    point = created["service_point"]["service_point_code"]
    legacy = f"{point}-260310-0001"
    with app.app_context():
        db.session.execute(update(Dossier).where(Dossier.number == created["number"])
                           .values(number=legacy, agency_code=None))
        db.session.commit()
    found = client.get(f"/api/v1/dossiers/{legacy}", headers=auth(agent_key))
    assert found.status_code == 200
    assert found.get_json()["number"] == legacy and found.get_json()["agency_code"] is None


def test_the_portal_search_finds_a_legal_number_whole_or_by_its_start(app, client, agent_key):
    created = create_dossier(client, agent_key)
    create_dossier(client, agent_key, location=ELSEWHERE)
    number = created["number"]
    with app.app_context():
        principal = authenticate_key(agent_key)
        for query in (number, number.lower(), number[:13], number[:20]):
            assert [d.number for d in service.search(principal, query)] == [number], query


def test_the_tracking_page_shows_the_legal_number(app, client, agent_key):
    created = create_dossier(client, agent_key)
    page = client.get(f"/t/{token_for(app, created['number'])}")
    assert page.status_code == 200 and created["number"] in page.get_data(as_text=True)
    with app.app_context():
        stored = db.session.scalar(select(Dossier).where(Dossier.number == created["number"]))
        assert stored.agency_code == created["agency_code"]


def test_the_openapi_document_describes_the_legal_number(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    dossier = spec["components"]["schemas"]["Dossier"]["properties"]
    assert "agency_code" in dossier and "Art. 19" in dossier["number"]["description"]
    assert codes.is_dossier_number(dossier["number"]["example"])
