"""The first routing version: nearest eligible point under the 5 km / 30 min rule."""

from __future__ import annotations

import pytest
from geopy.distance import geodesic
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.router import PointCandidate, route
from geo.rules import RadiusRule, RuleHeld, geodesic_km, haversine_km

pytestmark = pytest.mark.smoke
ALL = frozenset({"province", "district", "commune"})


def point(i, lat, lon, levels=ALL, name=None):
    return PointCandidate(i, f"P{i:03d}", name or f"Điểm {i}", "branch", lat, lon, frozenset(levels))


def test_geodesic_matches_geopy_and_haversine_is_close():
    a, b = (21.0259, 105.8537), (20.9636, 105.7776)
    assert geodesic_km(*a, *b) == pytest.approx(geodesic(a, b).km, rel=1e-9)
    assert haversine_km(*a, *b) == pytest.approx(geodesic(a, b).km, rel=0.006)


def test_rule_edges():
    rule = RadiusRule(max_km=5, max_minutes=30, speed_kmh=15, circuity=1.35)
    assert rule.judge(5.0)[1] is RuleHeld.BOTH  # 5 km → 27 min
    assert rule.judge(5.3)[1] is RuleHeld.TRAVEL_TIME  # beyond 5 km, under 30 min
    limit = 30 * 15 / 60 / 1.35  # 5.555… km is exactly 30 minutes
    assert rule.judge(limit)[1] is RuleHeld.TRAVEL_TIME
    assert rule.judge(limit + 0.001)[1] is RuleHeld.NONE
    slow = RadiusRule(speed_kmh=10)  # rush hour: 5 km takes 40 min
    assert slow.judge(5.0)[1] is RuleHeld.DISTANCE


def test_nearest_serving_point_wins_and_levels_are_respected():
    pts = [point(1, 21.03, 105.85, {"commune"}), point(2, 21.05, 105.85, {"province"}), point(3, 21.2, 105.9)]
    decision = route(21.03, 105.85, "province", pts)
    assert decision.chosen.point.code == "P002"
    assert [o.point.code for o in decision.alternatives] == ["P003"]
    assert route(21.03, 105.85, "commune", pts).chosen.point.code == "P001"


def test_no_serving_point_says_so():
    decision = route(21.03, 105.85, "province", [point(1, 21.03, 105.85, {"commune"})])
    assert decision.chosen is None and decision.outside_service_radius
    assert "Không có điểm phục vụ" in decision.explanation_vi


def test_explanation_in_both_languages():
    decision = route(21.0, 105.8, "province", [point(1, 21.0, 105.83, name="Chi nhánh số 2")])
    assert decision.explanation_vi.startswith("Chi nhánh số 2 — 3,1 km, khoảng 17 phút đi xe máy — trong bán kính 5 km")
    assert decision.explanation_en.startswith("Chi nhánh số 2 — 3.1 km, about 17 minutes by motorbike — within 5 km")


@pytest.mark.parametrize("value", [0.04, 3.14159, 5.0, 12.95, 1234.56, 98765.4])
@pytest.mark.parametrize("locale", ["vi", "en"])
def test_distance_format_matches_babel(value, locale):
    from babel.numbers import format_decimal

    from geo.router import _km
    assert _km(value, locale) == format_decimal(round(value, 1), format="#,##0.0", locale=locale)


def test_far_location_is_outside_but_still_routed():
    decision = route(21.5, 105.85, "province", [point(1, 21.0, 105.85)])
    assert decision.chosen.point.code == "P001"
    assert decision.outside_service_radius and decision.chosen.rule_held is RuleHeld.NONE


coords = st.tuples(st.floats(20.55, 21.40), st.floats(105.30, 106.05))


@settings(max_examples=200, deadline=None)
@given(
    here=coords,
    network=st.lists(st.tuples(coords, st.sampled_from(["province", "district", "commune"])),
                     min_size=1, max_size=40),
    level=st.sampled_from(["province", "district", "commune"]),
)
def test_router_equals_a_brute_force_geodesic_oracle(here, network, level):
    pts = [point(i, lat, lon, {lvl}) for i, ((lat, lon), lvl) in enumerate(network)]
    decision = route(*here, level, pts)
    serving = [p for p in pts if level in p.levels]
    if not serving:
        assert decision.chosen is None
        return
    best = min(geodesic(here, (p.lat, p.lon)).km for p in serving)
    assert decision.chosen.distance_km == pytest.approx(best, abs=1e-6)
    ranked = [o.distance_km for o in (decision.chosen, *decision.alternatives)]
    assert ranked == sorted(ranked)
    oracle = sorted(geodesic(here, (p.lat, p.lon)).km for p in serving)[: len(ranked)]
    assert ranked == pytest.approx(oracle, abs=1e-6)
