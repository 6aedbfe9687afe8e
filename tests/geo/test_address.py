"""Address → location: offline parsing (vietnamadminunits) and the optional Nominatim adapter."""

from __future__ import annotations

import dataclasses
import logging

import pytest
from geopy.distance import geodesic
from geopy.exc import GeocoderServiceError, GeocoderTimedOut, GeocoderUnavailable
from geopy.geocoders import Nominatim
from geopy.location import Location
from geopy.point import Point

import geo.address
from core.text import fold
from geo.address import SOURCE_2025, SOURCE_LEGACY, AddressLocation, locate_address
from geo.geocoding import NominatimGeocoder, resolve_location

HANOI, HCMC = "Thành phố Hà Nội", "Thành phố Hồ Chí Minh"
POST_OFFICE_HOAN_KIEM = (21.0259, 105.8537)  # 75 Đinh Tiên Hoàng
DICH_VONG_HAU = (21.0318, 105.7849)
CAU_GIAY = (21.0300, 105.7900)
TAY_HO = (21.0650, 105.8200)
PERFUME_PAGODA = (20.6167, 105.7470)  # xã Hương Sơn, Mỹ Đức
BEN_THANH = (10.7725, 106.6980)  # Quận 1, TP Hồ Chí Minh
NAM_TU_LIEM = (21.0125, 105.7650)
BAC_TU_LIEM = (21.0700, 105.7700)
DAI_NGHIA = (20.6877, 105.7413)  # the seat of huyện Mỹ Đức


def km(location: AddressLocation, point: tuple[float, float]) -> float:
    return geodesic((location.lat, location.lon), point).km


@pytest.mark.parametrize("text", [
    "75 Đinh Tiên Hoàng, Hoàn Kiếm, Hà Nội",
    "75 dinh tien hoang, hoan kiem, ha noi",
    "75  Đinh Tiên Hoàng ,  HOÀN KIẾM , HN",
])
def test_a_hanoi_address_with_or_without_accents_gives_its_2025_ward(text):
    found = locate_address(text)
    assert found is not None
    assert (found.ward, found.ward_code, found.province, found.province_code) == (
        "Phường Hoàn Kiếm", "00070", HANOI, "01")
    assert (found.precision, found.source, found.approximate, found.district) == ("ward", SOURCE_2025, True, None)
    assert fold(found.street) == "75 dinh tien hoang"
    assert found.label.endswith("Phường Hoàn Kiếm, Thành phố Hà Nội")
    assert km(found, POST_OFFICE_HOAN_KIEM) < 1.5


@pytest.mark.parametrize("text", [
    "P. Dịch Vọng Hậu, Q. Cầu Giấy, HN",
    "phuong dich vong hau, quan cau giay, ha noi",
    "Phường Dịch Vọng Hậu, Quận Cầu Giấy, Thành phố Hà Nội",
])
def test_an_address_in_the_old_units_gives_the_old_ward_not_the_2025_ward_named_like_its_district(text):
    found = locate_address(text)
    assert (found.ward, found.district, found.province) == ("Phường Dịch Vọng Hậu", "Quận Cầu Giấy", HANOI)
    assert (found.precision, found.source, found.codes) == (
        "ward", SOURCE_LEGACY, {"province": "01", "district": "005", "ward": "00167"})
    assert found.street is None  # "P. Dịch Vọng Hậu" is a unit, not a street
    assert km(found, DICH_VONG_HAU) < 1.5


def test_an_old_ward_merged_away_is_still_found():
    found = locate_address("Phường Phúc Xá, Ba Đình, Hà Nội")  # in Phường Hồng Hà since 2025, not Phường Ba Đình
    assert (found.ward, found.district, found.source) == ("Phường Phúc Xá", "Quận Ba Đình", SOURCE_LEGACY)


@pytest.mark.parametrize(("text", "ward", "centre"), [
    ("phường Cầu Giấy", "Phường Cầu Giấy", CAU_GIAY),
    ("Cầu Giấy, Hà Nội", "Phường Cầu Giấy", CAU_GIAY),
    ("phường Tây Hồ, Hà Nội", "Phường Tây Hồ", TAY_HO),
    ("xã Hương Sơn, Hà Nội", "Xã Hương Sơn", PERFUME_PAGODA),
    ("15 Đội Cấn, P. Ba Đình, Hà Nội", "Phường Ba Đình", (21.0350, 105.8300)),
])
def test_2025_ward_names(text, ward, centre):
    found = locate_address(text)
    assert (found.ward, found.province, found.precision, found.source) == (ward, HANOI, "ward", SOURCE_2025)
    assert km(found, centre) < 3


@pytest.mark.parametrize(("text", "district", "centre"), [
    ("Quận Nam Từ Liêm, Hà Nội", "Quận Nam Từ Liêm", NAM_TU_LIEM),
    ("quan bac tu liem, ha noi", "Quận Bắc Từ Liêm", BAC_TU_LIEM),  # not Phường Từ Liêm, 6 km south
    ("Huyện Mỹ Đức, Hà Nội", "Huyện Mỹ Đức", DAI_NGHIA),  # called a district: not Xã Mỹ Đức
])
def test_legacy_district_only_addresses(text, district, centre):
    found = locate_address(text)
    assert (found.district, found.ward, found.province) == (district, None, HANOI)
    assert (found.precision, found.source, found.ward_code) == ("district", SOURCE_LEGACY, None)
    assert km(found, centre) < 6


def test_an_address_outside_hanoi_is_located_where_it_is():
    found = locate_address("Quận 1, TP Hồ Chí Minh", default_province="Hà Nội")
    assert (found.district, found.province, found.province_code) == ("Quận 1", HCMC, "79")
    assert km(found, BEN_THANH) < 3
    assert locate_address("Phường Bến Thành, TP.HCM", default_province="Hà Nội").province == HCMC


def test_a_province_alone_is_located_at_province_precision():
    found = locate_address("Hà Nội")
    assert (found.precision, found.province, found.ward, found.district, found.label) == (
        "province", HANOI, None, None, HANOI)
    assert locate_address("HN").province == HANOI


@pytest.mark.parametrize("text", ["phường Tây Hồ", "xã Hương Sơn", "Tây Hồ"])
def test_the_default_province_settles_a_name_that_exists_in_several_provinces(text):
    found = locate_address(text, default_province="Hà Nội")
    assert (found.province, found.precision, found.source) == (HANOI, "ward", SOURCE_2025)


def test_a_street_named_after_a_city_does_not_move_the_address_there():
    found = locate_address("12 Nguyễn Huệ, Hoàn Kiếm")  # "Huệ" is also Huế, a province
    assert (found.ward, found.province, found.street) == ("Phường Hoàn Kiếm", HANOI, "12 Nguyễn Huệ")


@pytest.mark.parametrize("text", [
    "", "   ", "!!!", "asdfgh", "qwerty 123", "lorem ipsum dolor sit amet",
    "John Smith",  # "hn" inside "John" is no Hà Nội
    "cowboy bebop",  # "boy" inside "cowboy" is no xã Bờ Y
    "0912345678", "x" * 401,
])
def test_garbage_is_not_located(text):
    assert locate_address(text) is None
    assert locate_address(text, default_province="Hà Nội") is None


def test_a_unit_found_inside_other_words_is_not_trusted():
    found = locate_address("Huyện Mỹ Đức")  # the parser alone reads "huyệN MỸ" as xã Yên Mỹ, Hưng Yên
    assert (found.province, found.district) == (HANOI, "Huyện Mỹ Đức")


def test_a_library_failure_is_not_located_and_the_address_is_not_logged(monkeypatch, caplog):
    def boom(*args, **kwargs):
        raise ValueError("76 Phố Secret, Hoàn Kiếm")

    monkeypatch.setattr(geo.address, "parse_address", boom)
    with caplog.at_level(logging.WARNING, logger="geo.address"):
        assert locate_address("76 Phố Secret, Hoàn Kiếm, Hà Nội") is None
    assert "ValueError" in caplog.text and "Secret" not in caplog.text


def test_parser_results_are_cached_and_results_immutable():
    geo.address._parse.cache_clear()
    first = locate_address("18 Hoàng Quốc Việt, Nghĩa Đô, Cầu Giấy, Hà Nội")
    misses = geo.address._parse.cache_info().misses
    assert locate_address("18 Hoàng Quốc Việt, Nghĩa Đô, Cầu Giấy, Hà Nội") == first
    assert geo.address._parse.cache_info().misses == misses
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.lat = 0


# --- the optional online geocoder (Nominatim through geopy), never called for real ---

def fake_nominatim(monkeypatch, answer):
    """Replace geopy's Nominatim.geocode: return ``answer``, or raise it if it is an exception."""
    calls = []

    def geocode(self, query, **kwargs):
        calls.append((self.api, query, kwargs))
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(Nominatim, "geocode", geocode)
    return calls


def osm_place(lat, lon, rank, name="Bưu điện Hoàn Kiếm, 75, Phố Đinh Tiên Hoàng, Phường Hoàn Kiếm, Hà Nội"):
    return Location(name, Point(lat, lon), {"lat": str(lat), "lon": str(lon), "place_rank": rank})


def test_nominatim_answers_first_when_configured(monkeypatch):
    calls = fake_nominatim(monkeypatch, osm_place(21.02586, 105.85371, 30))
    geocoder = NominatimGeocoder("https://nominatim.example.vn/", "test-agent", timeout=2)
    found = resolve_location("75 Đinh Tiên Hoàng, Hoàn Kiếm, Hà Nội", geocoder)
    assert (found.lat, found.lon, found.precision, found.source, found.approximate) == (
        21.02586, 105.85371, "address", "nominatim", False)
    assert found.label.startswith("Bưu điện Hoàn Kiếm")
    api, query, kwargs = calls[0]
    assert api == "https://nominatim.example.vn/search"
    assert query == "75 Đinh Tiên Hoàng, Hoàn Kiếm, Hà Nội"
    assert kwargs["country_codes"] == "vn" and kwargs["language"] == "vi"
    assert geocoder._nominatim.headers["User-Agent"] == "test-agent"
    assert geocoder._nominatim.timeout == 2


def test_a_self_hosted_nominatim_under_a_path():
    geocoder = NominatimGeocoder("http://10.0.0.5:8080/nominatim", "test-agent")
    assert geocoder._nominatim.api == "http://10.0.0.5:8080/nominatim/search"
    with pytest.raises(ValueError, match="NOMINATIM_URL"):
        NominatimGeocoder("nominatim.example.vn", "test-agent")


@pytest.mark.parametrize("error", [
    GeocoderTimedOut("timed out: https://nominatim.example.vn/search?q=75+Secret"),
    GeocoderServiceError("HTTP 500 for 75 Secret"),
    GeocoderUnavailable("connection refused"),
])
def test_a_failing_nominatim_falls_back_offline_without_logging_the_address(monkeypatch, caplog, error):
    fake_nominatim(monkeypatch, error)
    geocoder = NominatimGeocoder("https://nominatim.example.vn", "test-agent")
    with caplog.at_level(logging.WARNING, logger="geo.geocoding"):
        found = resolve_location("75 Secret, Hoàn Kiếm, Hà Nội", geocoder)
    assert (found.ward, found.source, found.approximate) == ("Phường Hoàn Kiếm", SOURCE_2025, True)
    assert type(error).__name__ in caplog.text
    assert "Secret" not in caplog.text and "Hoàn Kiếm" not in caplog.text


def test_nothing_found_online_falls_back_offline(monkeypatch):
    fake_nominatim(monkeypatch, None)
    found = resolve_location("xã Hương Sơn", NominatimGeocoder("https://n.example.vn", "t"), "Hà Nội")
    assert (found.ward, found.source) == ("Xã Hương Sơn", SOURCE_2025)


def test_a_coarse_nominatim_answer_loses_to_a_finer_offline_one(monkeypatch):
    fake_nominatim(monkeypatch, osm_place(21.0285, 105.8542, 8, name="Thành phố Hà Nội, Việt Nam"))
    geocoder = NominatimGeocoder("https://n.example.vn", "t")
    assert geocoder.geocode("Hà Nội").precision == "province"
    assert geocoder.geocode("Hà Nội").approximate is True
    found = resolve_location("P. Dịch Vọng Hậu, Q. Cầu Giấy, HN", geocoder)
    assert (found.ward, found.source) == ("Phường Dịch Vọng Hậu", SOURCE_LEGACY)


def test_without_a_geocoder_only_the_offline_parser_answers(monkeypatch):
    calls = fake_nominatim(monkeypatch, osm_place(0, 0, 30))
    assert resolve_location("phường Cầu Giấy", None).source == SOURCE_2025
    assert resolve_location("asdfgh", None) is None
    assert calls == []
