"""The routing-engine provider (geo/engines.py) against recorded OSRM and Valhalla responses.

No engine runs here: requests' transport adapter is replaced by a replay of the files in
fixtures/, so routingpy's own URL building, request body and response parsing run for
real, and so does requests' session machinery down to the adapter.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from core.timeutil import LOCAL_TZ
from geo.engines import DEFAULT_OSRM_PROFILES, EngineTravelTime, engine_provider
from geo.router import PointCandidate, RoutingContext, route
from geo.rules import RadiusRule, RuleHeld, geodesic_km
from geo.travel import Mode, OfflineTravelTime

FIXTURES = Path(__file__).parent / "fixtures"
OSRM_URL = "http://osrm.test:5000"
VALHALLA_URL = "http://valhalla.test:8002"
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=LOCAL_TZ)

HOAN_KIEM = (21.0259, 105.8537)  # (lat, lon), as the router passes them
CAU_GIAY, TAY_HO, HA_DONG = (21.0340, 105.7850), (21.0597, 105.8041), (20.9636, 105.7777)
DESTINATIONS = [CAU_GIAY, TAY_HO, HA_DONG]
DISTANCES = [geodesic_km(*HOAN_KIEM, *d) for d in DESTINATIONS]
OFFLINE = OfflineTravelTime()


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


class Replay:
    """Stands in for requests' HTTP adapter: records each request and answers from a queue."""

    def __init__(self):
        self.sent: list[tuple[requests.PreparedRequest, dict]] = []
        self.answers: list = []

    def reply(self, body: str, status: int = 200, content_type: str = "application/json;charset=utf-8"):
        self.answers.append((status, body, content_type))
        return self

    def fail(self, error: Exception):
        self.answers.append(error)
        return self

    def send(self, adapter, request, **kwargs):
        self.sent.append((request, kwargs))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, body, content_type = answer
        response = requests.Response()
        response.status_code = status
        response.reason = {200: "OK", 400: "Bad Request"}.get(status, "Error")
        response._content = body.encode("utf-8")
        response.headers = CaseInsensitiveDict({"Content-Type": content_type})
        response.encoding = "utf-8"
        response.url = request.url
        response.request = request
        return response

    @property
    def request(self) -> requests.PreparedRequest:
        assert len(self.sent) == 1, f"expected one request, got {len(self.sent)}"
        return self.sent[0][0]


@pytest.fixture
def replay(monkeypatch):
    transport = Replay()
    def send(adapter, request, **kwargs):  # a plain function, so that it binds as a method
        return transport.send(adapter, request, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
    return transport


def osrm(**kw) -> EngineTravelTime:
    return EngineTravelTime("osrm", OSRM_URL, 2.0, OFFLINE, **kw)


def valhalla(**kw) -> EngineTravelTime:
    return EngineTravelTime("valhalla", VALHALLA_URL, 2.0, OFFLINE, **kw)


def estimate(provider, mode=Mode.MOTORBIKE, destinations=DESTINATIONS, distances=DISTANCES):
    return provider.estimate(HOAN_KIEM, destinations, distances, mode, MONDAY_10)


def offline_minutes(mode=Mode.MOTORBIKE, distances=DISTANCES):
    return OFFLINE.estimate(HOAN_KIEM, DESTINATIONS, distances, mode, MONDAY_10).minutes


# -- OSRM ---------------------------------------------------------------------------------


def test_osrm_one_table_request_for_all_candidates(replay):
    replay.reply(fixture("osrm_table_ok.json"), content_type="application/json; charset=UTF-8")
    result = estimate(osrm())

    request, kwargs = replay.request, replay.sent[0][1]
    url = urlsplit(request.url)
    assert request.method == "GET"
    assert f"{url.scheme}://{url.netloc}" == OSRM_URL
    # [lon, lat] pairs, origin first; a motorbike takes the car profile on a stock OSRM
    assert url.path == "/table/v1/car/105.8537,21.0259;105.785,21.034;105.8041,21.0597;105.7777,20.9636"
    assert parse_qs(url.query) == {"sources": ["0"], "destinations": ["1;2;3"],
                                   "annotations": ["duration,distance"]}
    assert kwargs["timeout"] == 2.0

    assert result.source == "osrm"
    assert result.fallback_reason is None
    assert result.minutes == pytest.approx((1094.3 / 60, 987.6 / 60, 1507.9 / 60))
    assert result.road_km == pytest.approx((9.4126, 8.2671, 13.9814))


@pytest.mark.parametrize(("mode", "profile"), [(Mode.MOTORBIKE, "car"), (Mode.CAR, "car"), (Mode.WALKING, "foot")])
def test_osrm_profile_per_mode(replay, mode, profile):
    replay.reply(fixture("osrm_table_ok.json"))
    estimate(osrm(), mode)
    assert urlsplit(replay.request.url).path.startswith(f"/table/v1/{profile}/105.8537,21.0259;")


def test_osrm_profiles_are_configurable(replay):
    replay.reply(fixture("osrm_table_ok.json"))
    provider = osrm(profiles={Mode.MOTORBIKE: "motorbike"})
    estimate(provider)
    assert urlsplit(replay.request.url).path.startswith("/table/v1/motorbike/")
    assert provider.profiles[Mode.WALKING] == DEFAULT_OSRM_PROFILES[Mode.WALKING] == "foot"


def test_osrm_no_route_to_one_point_mixes_engine_and_offline(replay):
    replay.reply(fixture("osrm_table_unreachable.json"))
    result = estimate(osrm())
    assert result.source == "osrm"
    assert result.fallback_reason == "osrm: no route to 1 of 3 points"
    assert result.minutes == pytest.approx((1094.3 / 60, 987.6 / 60, offline_minutes()[2]))
    assert result.road_km == pytest.approx((9.4126, 8.2671, DISTANCES[2] * OFFLINE.model.circuity))


def test_osrm_no_route_to_any_point_is_the_offline_answer(replay):
    body = json.loads(fixture("osrm_table_ok.json"))
    body["durations"], body["distances"] = [[None, None, None]], [[None, None, None]]
    replay.reply(json.dumps(body))
    result = estimate(osrm())
    assert result.source == "offline"
    assert result.minutes == pytest.approx(offline_minutes())
    assert result.fallback_reason == "osrm: no route to 3 of 3 points"


def test_osrm_error_response_falls_back(replay, caplog):
    replay.reply(fixture("osrm_error_invalid_query.json"), status=400)
    with caplog.at_level(logging.WARNING, logger="geo.engines"):
        result = estimate(osrm())
    assert result.source == "offline"
    assert result.minutes == pytest.approx(offline_minutes())
    assert result.road_km is None
    assert result.fallback_reason == "osrm: HTTP 400 InvalidQuery"
    assert "osrm: HTTP 400 InvalidQuery" in caplog.text


# -- Valhalla -----------------------------------------------------------------------------


def test_valhalla_one_sources_to_targets_request(replay):
    replay.reply(fixture("valhalla_sources_to_targets_ok.json"))
    result = estimate(valhalla())

    request, kwargs = replay.request, replay.sent[0][1]
    assert request.method == "POST"
    assert request.url == f"{VALHALLA_URL}/sources_to_targets"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {
        "costing": "motor_scooter",
        "sources": [{"lon": 105.8537, "lat": 21.0259}],
        "targets": [{"lon": 105.785, "lat": 21.034}, {"lon": 105.8041, "lat": 21.0597},
                    {"lon": 105.7777, "lat": 20.9636}],
    }
    assert kwargs["timeout"] == 2.0

    assert result.source == "valhalla"
    assert result.fallback_reason is None
    assert result.minutes == pytest.approx((1312 / 60, 1185 / 60, 1840 / 60))
    assert result.road_km == pytest.approx((9.358, 8.19, 13.874), abs=0.0015)  # routingpy keeps whole metres


@pytest.mark.parametrize(("mode", "costing"),
                         [(Mode.MOTORBIKE, "motor_scooter"), (Mode.CAR, "auto"), (Mode.WALKING, "pedestrian")])
def test_valhalla_costing_per_mode(replay, mode, costing):
    replay.reply(fixture("valhalla_sources_to_targets_ok.json"))
    estimate(valhalla(), mode)
    assert json.loads(replay.request.body)["costing"] == costing


def test_valhalla_single_target_is_still_a_list(replay):
    body = json.loads(fixture("valhalla_sources_to_targets_ok.json"))
    body["sources_to_targets"] = [body["sources_to_targets"][0][1:2]]
    body["targets"] = body["targets"][1:2]
    replay.reply(json.dumps(body))
    result = estimate(valhalla(), destinations=[TAY_HO], distances=DISTANCES[1:2])
    assert json.loads(replay.request.body)["targets"] == [{"lon": 105.8041, "lat": 21.0597}]
    assert result.minutes == pytest.approx((1185 / 60,))


def test_valhalla_null_time_for_one_target_mixes_engine_and_offline(replay):
    replay.reply(fixture("valhalla_sources_to_targets_unreachable.json"))
    result = estimate(valhalla())
    assert result.source == "valhalla"
    assert result.fallback_reason == "valhalla: no route to 1 of 3 points"
    assert result.minutes == pytest.approx((1312 / 60, offline_minutes()[1], 1840 / 60))
    assert result.road_km == pytest.approx((9.358, DISTANCES[1] * OFFLINE.model.circuity, 13.874), abs=0.0015)


def test_valhalla_error_code_is_recorded(replay):
    replay.reply(fixture("valhalla_error_no_path.json"), status=400)
    result = estimate(valhalla())
    assert result.source == "offline"
    assert result.fallback_reason == "valhalla: HTTP 400 (error 442)"


def test_valhalla_concise_format_is_malformed_for_routingpy(replay):
    # Valhalla's "verbose": false answer; routingpy 1.3 reads only the verbose one.
    body = {"sources_to_targets": {"durations": [[1312, 1185, 1840]], "distances": [[9.358, 8.19, 13.874]]},
            "units": "kilometers", "algorithm": "timedistancematrix"}
    replay.reply(json.dumps(body))
    result = estimate(valhalla())
    assert result.source == "offline"
    assert result.fallback_reason.startswith("valhalla: malformed response")


# -- failures -----------------------------------------------------------------------------


def test_timeout_falls_back_to_offline_and_logs_no_coordinates(replay, caplog):
    replay.fail(requests.exceptions.ReadTimeout("Read timed out. (read timeout=2.0)"))
    with caplog.at_level(logging.WARNING, logger="geo.engines"):
        result = estimate(osrm())
    assert result.source == "offline"
    assert result.minutes == pytest.approx(offline_minutes())
    assert result.fallback_reason == "osrm: timeout after 2.0 s"
    assert "timeout after 2.0 s" in caplog.text
    assert "105.8" not in caplog.text and "21.02" not in caplog.text


def test_connection_error_falls_back_without_logging_the_url(replay, caplog):
    url = f"{OSRM_URL}/table/v1/car/105.8537,21.0259;105.785,21.034"
    replay.fail(requests.exceptions.ConnectionError(f"Max retries exceeded with url: {url}"))
    with caplog.at_level(logging.WARNING, logger="geo.engines"):
        result = estimate(osrm())
    assert result.fallback_reason == "osrm: not reachable"
    assert "105.8" not in caplog.text and "21.02" not in caplog.text


def test_http_500_falls_back(replay):
    replay.reply("Internal Server Error", status=500, content_type="text/plain")
    result = estimate(valhalla())
    assert result.source == "offline"
    assert result.minutes == pytest.approx(offline_minutes())
    assert result.fallback_reason == "valhalla: HTTP 500"


@pytest.mark.filterwarnings("ignore:Server down:UserWarning")
def test_http_503_is_not_retried(replay):
    replay.reply("Service Unavailable", status=503, content_type="text/plain")
    result = estimate(osrm())
    assert len(replay.sent) == 1
    assert result.fallback_reason == "osrm: HTTP 503"


def test_http_429_is_not_retried(replay):
    replay.reply('{"message": "Too Many Requests"}', status=429)
    result = estimate(osrm())
    assert len(replay.sent) == 1
    assert result.fallback_reason == "osrm: HTTP 429"


def test_malformed_json_falls_back(replay):
    replay.reply("<html><body>502 Bad Gateway</body></html>", status=200)
    result = estimate(osrm())
    assert result.source == "offline"
    assert result.fallback_reason == "osrm: malformed response (not JSON)"


@pytest.mark.parametrize("body", [
    {"code": "Ok"},  # no durations
    {"code": "Ok", "durations": [[1094.3, 987.6]], "distances": [[9412.6, 8267.1]]},  # one column short
    {"code": "Ok", "durations": [[1094.3, "soon", 1507.9]]},
    {"code": "Ok", "durations": [[1094.3, -1, 1507.9]]},
    {"code": "NoTable", "durations": [[1, 2, 3]]},
    [1, 2, 3],
])
def test_unexpected_json_falls_back(replay, body):
    replay.reply(json.dumps(body))
    result = estimate(osrm())
    assert result.source == "offline"
    assert result.minutes == pytest.approx(offline_minutes())
    assert result.fallback_reason.startswith("osrm: ")


def test_osrm_without_distances_keeps_durations(replay):
    body = json.loads(fixture("osrm_table_ok.json"))
    del body["distances"]
    replay.reply(json.dumps(body))
    result = estimate(osrm())
    assert result.source == "osrm"
    assert result.road_km is None
    assert result.minutes == pytest.approx((1094.3 / 60, 987.6 / 60, 1507.9 / 60))


def test_no_destinations_sends_nothing(replay):
    result = estimate(osrm(), destinations=[], distances=[])
    assert result.minutes == ()
    assert replay.sent == []


# -- circuit breaker ----------------------------------------------------------------------


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_circuit_breaker_skips_the_engine_then_tries_again(replay):
    clock = Clock()
    provider = osrm(failure_threshold=3, cooldown_s=60, clock=clock)
    for _ in range(3):
        replay.fail(requests.exceptions.ReadTimeout())
        assert estimate(provider).fallback_reason == "osrm: timeout after 2.0 s"
    assert len(replay.sent) == 3

    skipped = estimate(provider)
    assert len(replay.sent) == 3  # the engine was not asked
    assert skipped.source == "offline"
    assert skipped.minutes == pytest.approx(offline_minutes())
    assert skipped.fallback_reason == "osrm: skipped after 3 failures"

    clock.now += 59.9
    assert estimate(provider).fallback_reason == "osrm: skipped after 3 failures"
    clock.now += 0.2
    replay.reply(fixture("osrm_table_ok.json"))
    back = estimate(provider)
    assert len(replay.sent) == 4
    assert back.source == "osrm" and back.fallback_reason is None

    # the count starts again from zero after a success
    for _ in range(2):
        replay.fail(requests.exceptions.ReadTimeout())
        estimate(provider)
    replay.reply(fixture("osrm_table_ok.json"))
    assert estimate(provider).source == "osrm"


def test_circuit_breaker_reopens_when_the_trial_request_fails(replay):
    clock = Clock()
    provider = osrm(failure_threshold=2, cooldown_s=30, clock=clock)
    for _ in range(2):
        replay.fail(requests.exceptions.ConnectionError())
        estimate(provider)
    clock.now += 31
    replay.fail(requests.exceptions.ConnectionError())
    assert estimate(provider).fallback_reason == "osrm: not reachable"
    assert estimate(provider).fallback_reason == "osrm: skipped after 3 failures"
    assert len(replay.sent) == 3


def test_refused_requests_do_not_trip_the_breaker(replay):
    provider = osrm(failure_threshold=2, cooldown_s=30, clock=Clock())
    for _ in range(3):
        replay.reply(fixture("osrm_error_invalid_query.json"), status=400)
        assert estimate(provider).fallback_reason == "osrm: HTTP 400 InvalidQuery"
    replay.reply(fixture("osrm_table_ok.json"))
    assert estimate(provider).source == "osrm"
    assert len(replay.sent) == 4


# -- construction -------------------------------------------------------------------------


def test_engine_provider_builds_either_engine():
    provider = engine_provider(" OSRM ", "http://osrm.test:5000/", 1.5, OFFLINE)
    assert isinstance(provider, EngineTravelTime)
    assert provider.name == "osrm"
    assert provider.url == "http://osrm.test:5000"
    assert provider.timeout_s == 1.5
    assert provider.router.client.timeout == 1.5
    assert provider.router.client.retry_over_query_limit is False
    assert engine_provider("valhalla", VALHALLA_URL, 2, OFFLINE).name == "valhalla"


@pytest.mark.parametrize(("engine", "url", "timeout_s"), [
    ("graphhopper", OSRM_URL, 2.0),
    ("", OSRM_URL, 2.0),
    ("osrm", "", 2.0),
    ("valhalla", "   ", 2.0),
    ("osrm", OSRM_URL, 0),
])
def test_engine_provider_rejects_bad_settings(engine, url, timeout_s):
    with pytest.raises(ValueError):
        engine_provider(engine, url, timeout_s, OFFLINE)


# -- through the router -------------------------------------------------------------------


def test_router_records_the_engine_and_its_fallback(replay):
    tay_ho = PointCandidate(1, "P001", "Chi nhánh Tây Hồ", "branch", *TAY_HO, frozenset({"commune"}))
    body = json.loads(fixture("osrm_table_ok.json"))
    body["durations"], body["distances"] = [[987.6]], [[8267.1]]
    body["destinations"] = body["destinations"][1:2]
    replay.reply(json.dumps(body))
    rule = RadiusRule(5, 30)
    decision = route(*HOAN_KIEM, "commune", [tay_ho], rule, RoutingContext(local=MONDAY_10, travel=osrm()))
    assert decision.travel_source == "osrm" and decision.fallback_reason is None
    assert decision.chosen.minutes == pytest.approx(987.6 / 60)
    assert decision.chosen.rule_held is RuleHeld.TRAVEL_TIME  # 6.4 km, but 16 minutes by road

    replay.fail(requests.exceptions.ReadTimeout())
    decision = route(*HOAN_KIEM, "commune", [tay_ho], rule, RoutingContext(local=MONDAY_10, travel=osrm()))
    assert decision.travel_source == "offline"
    assert decision.fallback_reason == "osrm: timeout after 2.0 s"
    assert decision.chosen.rule_held is RuleHeld.NONE  # the offline model: about 34 minutes
