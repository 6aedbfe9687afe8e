"""GET /api/v1/geocode: an address → a location, offline unless Nominatim is configured."""

from __future__ import annotations

import pytest
from geopy.exc import GeocoderTimedOut
from geopy.geocoders import Nominatim
from geopy.location import Location
from geopy.point import Point

from tests.factories import auth

URL = "/api/v1/geocode"


def test_an_address_is_located_offline_at_its_ward_centre(client, agent_key):
    response = client.get(URL, query_string={"address": "75 Đinh Tiên Hoàng, Hoàn Kiếm, Hà Nội"},
                          headers=auth(agent_key))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body == {
        "lat": 21.032, "lon": 105.85, "precision": "ward", "source": "vietnamadminunits-2025",
        "approximate": True, "province": "Thành phố Hà Nội", "district": None, "ward": "Phường Hoàn Kiếm",
        "street": "75 Đinh Tiên Hoàng", "label": "75 Đinh Tiên Hoàng, Phường Hoàn Kiếm, Thành phố Hà Nội",
        "codes": {"province": "01", "district": None, "ward": "00070"}, "inside_hanoi": True,
    }


def test_accents_are_optional_and_hanoi_is_the_default_province(client, officer_key):
    body = client.get(URL, query_string={"address": "xa huong son"}, headers=auth(officer_key)).get_json()
    assert (body["ward"], body["province"], body["precision"]) == ("Xã Hương Sơn", "Thành phố Hà Nội", "ward")


def test_old_units_give_the_legacy_ward_and_district(client, agent_key):
    body = client.get(URL, query_string={"address": "P. Dịch Vọng Hậu, Q. Cầu Giấy, HN"},
                      headers=auth(agent_key)).get_json()
    assert (body["ward"], body["district"], body["source"]) == (
        "Phường Dịch Vọng Hậu", "Quận Cầu Giấy", "vietnamadminunits-legacy")
    assert body["codes"] == {"province": "01", "district": "005", "ward": "00167"}


def test_an_address_that_cannot_be_located_is_a_422_problem(client, agent_key):
    response = client.get(URL, query_string={"address": "asdfgh qwerty"}, headers=auth(agent_key, **{
        "Accept-Language": "en"}))
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["code"] == "validation_error"
    [error] = problem["errors"]
    assert (error["field"], error["location"], error["message"]) == (
        "address", "query", "The address could not be located.")
    assert error["message_vi"] == "Không xác định được vị trí của địa chỉ này."


@pytest.mark.parametrize("query", [{}, {"address": "HN"}, {"address": "x" * 401}])
def test_the_address_is_required_and_between_3_and_400_characters(client, agent_key, query):
    response = client.get(URL, query_string=query, headers=auth(agent_key))
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["address"]


def test_a_key_is_required(client):
    assert client.get(URL, query_string={"address": "Hà Nội"}).status_code == 401


@pytest.fixture
def nominatim(app, monkeypatch):
    """NOMINATIM_URL set; geopy's Nominatim.geocode answers what the test puts in ``answers``."""
    monkeypatch.setitem(app.config, "NOMINATIM_URL", "https://nominatim.example.vn")
    answers: list = []

    def geocode(self, query, **kwargs):
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(Nominatim, "geocode", geocode)
    return answers


def test_a_configured_nominatim_answers_first(client, agent_key, nominatim):
    nominatim.append(Location("75 Phố Đinh Tiên Hoàng, Phường Hoàn Kiếm, Hà Nội", Point(21.02586, 105.85371),
                              {"place_rank": 30}))
    body = client.get(URL, query_string={"address": "75 Đinh Tiên Hoàng, Hà Nội"}, headers=auth(agent_key)).get_json()
    assert (body["lat"], body["lon"], body["precision"], body["source"], body["approximate"]) == (
        21.02586, 105.85371, "address", "nominatim", False)


def test_a_failing_nominatim_falls_back_to_the_offline_parser(client, agent_key, nominatim):
    nominatim.append(GeocoderTimedOut("timed out"))
    body = client.get(URL, query_string={"address": "phường Tây Hồ"}, headers=auth(agent_key)).get_json()
    assert (body["ward"], body["source"], body["approximate"]) == (
        "Phường Tây Hồ", "vietnamadminunits-2025", True)
