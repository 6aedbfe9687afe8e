"""The routing engine: spatial index, eligibility, travel time, choice, explanation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

import pytest
from geopy.distance import geodesic
from hypothesis import given, settings
from hypothesis import strategies as st

from core.timeutil import LOCAL_TZ
from geo.router import Network, PointCandidate, RoutingContext, rank_key, route
from geo.rules import RadiusRule, RuleHeld, geodesic_km, haversine_km
from geo.travel import Mode, OfflineTravelModel, OfflineTravelTime

ALL = frozenset({"province", "district", "commune"})
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=LOCAL_TZ)  # off-peak, a working day


@dataclass(frozen=True)
class Hours:
    """A stand-in opening-hours rule: open from..to every day."""

    opens: time
    closes: time

    def is_open(self, local, holiday=False):
        return not holiday and self.opens <= local.time() < self.closes

    def __str__(self):
        return f"Mo-Su {self.opens:%H:%M}-{self.closes:%H:%M}"


OFFICE = Hours(time(8), time(17))


def point(i, lat, lon, levels=ALL, name=None, **kw):
    return PointCandidate(i, f"P{i:03d}", name or f"Điểm {i}", kw.pop("tier", "branch"), lat, lon,
                          frozenset(levels), **kw)


def ctx(**kw):
    return RoutingContext(local=kw.pop("local", MONDAY_10), **kw)


def test_geodesic_matches_geopy_and_haversine_is_close():
    a, b = (21.0259, 105.8537), (20.9636, 105.7776)
    assert geodesic_km(*a, *b) == pytest.approx(geodesic(a, b).km, rel=1e-9)
    assert haversine_km(*a, *b) == pytest.approx(geodesic(a, b).km, rel=0.006)


def test_rule_edges_at_5_km_and_30_minutes():
    rule = RadiusRule(max_km=5, max_minutes=30)
    assert rule.judge(5.0, 27.0) is RuleHeld.BOTH
    assert rule.judge(5.0, 40.0) is RuleHeld.DISTANCE  # rush hour: 5 km takes longer than 30 min
    assert rule.judge(5.3, 30.0) is RuleHeld.TRAVEL_TIME  # exactly 30 minutes still counts
    assert rule.judge(5.0001, 30.0001) is RuleHeld.NONE


def test_travel_model_speeds_by_mode_and_time_band():
    model = OfflineTravelModel()
    assert model.minutes(5.0, Mode.MOTORBIKE, MONDAY_10) == pytest.approx(27.0)  # 5 × 1.35 / 15 h
    rush = datetime(2026, 3, 2, 17, 30, tzinfo=LOCAL_TZ)
    assert model.minutes(5.0, Mode.MOTORBIKE, rush) == pytest.approx(5 * 1.35 / 11 * 60)
    saturday_rush = datetime(2026, 3, 7, 17, 30, tzinfo=LOCAL_TZ)
    assert not model.is_rush(saturday_rush)
    assert model.minutes(1.0, Mode.WALKING, rush) == pytest.approx(18.0)


def test_nearest_serving_point_wins_and_levels_are_respected():
    pts = [point(1, 21.03, 105.85, {"commune"}), point(2, 21.05, 105.85, {"province"}), point(3, 21.2, 105.9)]
    decision = route(21.03, 105.85, "province", pts, ctx=ctx())
    assert decision.chosen.point.code == "P002"
    assert [o.point.code for o in decision.alternatives] == ["P003"]
    assert route(21.03, 105.85, "commune", pts, ctx=ctx()).chosen.point.code == "P001"


def test_no_serving_point_says_so():
    decision = route(21.03, 105.85, "province", [point(1, 21.03, 105.85, {"commune"})], ctx=ctx())
    assert decision.chosen is None and decision.outside_service_radius
    assert "Không có điểm phục vụ" in decision.explanation_vi


def test_closed_point_is_skipped_by_date():
    pts = [point(1, 21.03, 105.85, active_to=date(2026, 3, 1)), point(2, 21.06, 105.85)]
    assert route(21.03, 105.85, "province", pts, ctx=ctx()).chosen.point.code == "P002"
    reopened = [point(1, 21.03, 105.85, active_from=date(2026, 3, 2)), point(2, 21.06, 105.85)]
    assert route(21.03, 105.85, "province", reopened, ctx=ctx()).chosen.point.code == "P001"


def test_full_point_gives_way_until_every_point_is_full():
    pts = [point(1, 21.03, 105.85, daily_capacity=10), point(2, 21.05, 105.85, daily_capacity=10)]
    assert route(21.03, 105.85, "province", pts, ctx=ctx(loads={"P001": 10})).chosen.point.code == "P002"
    both_full = route(21.03, 105.85, "province", pts, ctx=ctx(loads={"P001": 10, "P002": 12}))
    assert both_full.chosen.point.code == "P001" and both_full.relaxed == ("capacity",)
    assert "chỉ tiêu" in both_full.explanation_vi and "capacity" in both_full.explanation_en


def test_opening_hours_at_the_time_of_routing():
    pts = [point(1, 21.03, 105.85, hours=OFFICE), point(2, 21.10, 105.85)]  # the second is always open
    assert route(21.03, 105.85, "province", pts, ctx=ctx()).chosen.point.code == "P001"
    night = ctx(local=datetime(2026, 3, 2, 21, 0, tzinfo=LOCAL_TZ))
    assert route(21.03, 105.85, "province", pts, ctx=night).chosen.point.code == "P002"
    only_office = route(21.03, 105.85, "province", [pts[0]], ctx=night)
    # After hours with no load, only the opening hours are given up, and only they are named.
    assert only_office.chosen.point.code == "P001" and only_office.relaxed == ("opening_hours",)
    assert "ngoài giờ" in only_office.explanation_vi and "chỉ tiêu" not in only_office.explanation_vi
    assert "closed" in only_office.explanation_en and "capacity" not in only_office.explanation_en


def test_rules_are_given_up_one_at_a_time_then_both():
    office = point(1, 21.03, 105.85, hours=OFFICE, daily_capacity=10)
    night = ctx(local=datetime(2026, 3, 2, 21, 0, tzinfo=LOCAL_TZ), loads={"P001": 10})
    both = route(21.03, 105.85, "province", [office], ctx=night)
    assert both.chosen.point.code == "P001" and both.relaxed == ("capacity", "opening_hours")
    assert "chỉ tiêu" in both.explanation_vi and "ngoài giờ" in both.explanation_vi
    # An open point that is full is preferred to a closed one with room: capacity is given up first.
    open_full = point(2, 21.10, 105.85, daily_capacity=10)
    day = ctx(local=datetime(2026, 3, 2, 21, 0, tzinfo=LOCAL_TZ), loads={"P002": 10})
    first = route(21.03, 105.85, "province", [point(1, 21.03, 105.85, hours=OFFICE), open_full], ctx=day)
    assert first.chosen.point.code == "P002" and first.relaxed == ("capacity",)


def test_ties_in_travel_time_go_to_the_less_loaded_point():
    # Two points 10 m apart: the same whole minute of travel.
    pts = [point(1, 21.0300, 105.8500, daily_capacity=100), point(2, 21.0301, 105.8500, daily_capacity=100)]
    assert route(21.0250, 105.8500, "province", pts, ctx=ctx(loads={"P001": 50, "P002": 5})).chosen.point.code \
        == "P002"


def test_red_river_banks_are_measured_not_guessed():
    # Long Biên (east bank) and Hoàn Kiếm (west bank) are ~3 km apart across the river;
    # the offline model pads every straight line by the same circuity, bridges or not.
    pts = [point(1, 21.0285, 105.8542, name="Hoàn Kiếm"), point(2, 21.0465, 105.8852, name="Long Biên")]
    decision = route(21.0400, 105.8750, "province", pts, ctx=ctx())  # on the east bank
    assert decision.chosen.point.name == "Long Biên"
    assert decision.chosen.minutes == pytest.approx(decision.chosen.distance_km * 1.35 / 15 * 60)


def test_explanation_in_both_languages():
    decision = route(21.0, 105.8, "province", [point(1, 21.0, 105.83, name="Chi nhánh số 2")], ctx=ctx())
    assert decision.explanation_vi.startswith("Chi nhánh số 2 — 3,1 km, khoảng 17 phút đi xe máy — trong bán kính 5 km")
    assert decision.explanation_en.startswith("Chi nhánh số 2 — 3.1 km, about 17 minutes by motorbike — within 5 km")


def test_explanation_counts_take_the_plural_form_of_their_language():
    # ~150 m away: about one minute by motorbike, under a one-minute rule (and within 1 km).
    pts = [point(1, 21.0, 105.8014, name="Điểm 1")]
    decision = route(21.0, 105.8, "province", pts, rule=RadiusRule(max_km=1, max_minutes=1), ctx=ctx())
    assert round(decision.chosen.minutes) == 1
    assert ", about 1 minute by motorbike — within 1 km and under 1 minute" in decision.explanation_en
    assert ", khoảng 1 phút đi xe máy — trong bán kính 1 km và dưới 1 phút" in decision.explanation_vi
    far = route(21.0, 105.8, "province", [point(2, 21.0, 105.8030)], rule=RadiusRule(max_km=0.1, max_minutes=1),
                ctx=ctx())
    assert " — outside the service radius (0.1 km / 1 minute) — " in far.explanation_en


@pytest.mark.parametrize("precision, vi, en", [
    ("building", "vị trí điểm theo đúng tòa nhà", "the point's position is its building"),
    ("street", "vị trí điểm ước lượng theo tuyến phố", "the point's position is estimated from its street"),
    ("ward_centre", "vị trí điểm ước lượng theo tâm phường",
     "the point's position is estimated from the ward's centre"),
    ("unit_centre", "vị trí điểm ước lượng theo tâm xã, phường (đơn vị từ 1/7/2025)",
     "the point's position is estimated from the centre of its commune or ward (as of 1/7/2025)"),
    ("district_mean", "vị trí điểm ước lượng theo trung bình tâm các phường, xã của quận, huyện cũ",
     "the point's position is estimated as the mean of its former district's ward centres"),
    ("unknown", "chưa rõ vị trí điểm chính xác đến đâu", "how precise the point's position is, is not known"),
])
def test_explanation_says_what_the_chosen_points_position_stands_on(precision, vi, en):
    near = point(1, 21.0, 105.83, name="Chi nhánh số 2", coord_precision=precision)
    other = point(2, 21.0, 105.9, coord_precision="building" if precision != "building" else "unknown")
    decision = route(21.0, 105.8, "province", [near, other], ctx=ctx())
    assert decision.chosen.point.code == "P001"
    assert decision.explanation_vi == ("Chi nhánh số 2 — 3,1 km, khoảng 17 phút đi xe máy — "
                                       f"trong bán kính 5 km và dưới 30 phút — {vi}")
    assert decision.explanation_en == ("Chi nhánh số 2 — 3.1 km, about 17 minutes by motorbike — "
                                       f"within 5 km and under 30 minutes — {en}")


def test_the_precision_comes_after_what_was_given_up():
    closed = point(1, 21.0, 105.83, hours=OFFICE, coord_precision="ward_centre")
    evening = route(21.0, 105.8, "province", [closed], ctx=ctx(local=MONDAY_10.replace(hour=20)))
    assert evening.relaxed == ("opening_hours",)
    assert evening.explanation_en.endswith(
        "(the points are closed at this hour) — the point's position is estimated from the ward's centre")
    assert evening.explanation_vi.endswith(
        "(các điểm đang ngoài giờ làm việc) — vị trí điểm ước lượng theo tâm phường")


def test_a_point_without_a_precision_is_said_to_be_of_unknown_precision():
    decision = route(21.0, 105.8, "province", [point(1, 21.0, 105.83)], ctx=ctx())
    assert decision.chosen.point.coord_precision == "unknown"
    assert decision.explanation_en.endswith(" — how precise the point's position is, is not known")


@pytest.mark.parametrize("value", [0.04, 3.14159, 5.0, 12.95, 1234.56, 98765.4])
@pytest.mark.parametrize("locale", ["vi", "en"])
def test_distance_format_matches_babel(value, locale):
    from babel.numbers import format_decimal

    from geo.router import _km
    assert _km(value, locale) == format_decimal(round(value, 1), format="#,##0.0", locale=locale)


def test_far_location_is_outside_but_still_routed():
    decision = route(21.5, 105.85, "province", [point(1, 21.0, 105.85)], ctx=ctx())
    assert decision.chosen.point.code == "P001"
    assert decision.outside_service_radius and decision.chosen.rule_held is RuleHeld.NONE


def test_tier_filter():
    pts = [point(1, 21.03, 105.85, tier="commune_point"), point(2, 21.06, 105.85, tier="branch")]
    decision = route(21.03, 105.85, "province", pts, ctx=ctx(tiers=frozenset({"branch", "district_point"})))
    assert decision.chosen.point.code == "P002"


coords = st.tuples(st.floats(20.55, 21.40), st.floats(105.30, 106.05))
levels = st.sampled_from(["province", "district", "commune"])


@st.composite
def networks(draw):
    n = draw(st.integers(1, 40))
    pts = []
    for i in range(n):
        (lat, lon), level = draw(coords), draw(levels)
        pts.append(point(
            i, lat, lon, {level},
            daily_capacity=draw(st.sampled_from([None, 1, 50])),
            hours=draw(st.sampled_from([None, OFFICE])),
            active_to=draw(st.sampled_from([None, date(2026, 1, 1)])),
        ))
    loads = {p.code: draw(st.integers(0, 60)) for p in pts if draw(st.booleans())}
    return pts, loads


@settings(max_examples=250, deadline=None)
@given(here=coords, drawn=networks(), level=levels,
       hour=st.sampled_from([MONDAY_10, datetime(2026, 3, 2, 20, 0, tzinfo=LOCAL_TZ)]),
       use_tree=st.booleans())
def test_router_equals_a_brute_force_oracle(here, drawn, level, hour, use_tree):
    pts, loads = drawn
    context = ctx(local=hour, loads=loads, travel=OfflineTravelTime())
    network = Network(pts)
    if use_tree:  # the STRtree path that large networks take
        network.SCAN_BELOW = 0
    decision = route(*here, level, network, RadiusRule(), context)

    model = OfflineTravelModel()
    active = [p for p in pts if level in p.levels and p.is_active_on(hour.date())]
    open_ = [p for p in active if p.is_open(hour, False)]
    free = [p for p in open_ if p.daily_capacity is None or loads.get(p.code, 0) < p.daily_capacity]
    roomy = [p for p in active if p.daily_capacity is None or loads.get(p.code, 0) < p.daily_capacity]
    pool = free or open_ or roomy or active  # one rule given up at a time: capacity, then hours, then both
    if not pool:
        assert decision.chosen is None
        return

    def key(p):
        km = geodesic(here, (p.lat, p.lon)).km
        minutes = model.minutes(km, Mode.MOTORBIKE, hour)
        ratio = loads.get(p.code, 0) / p.daily_capacity if p.daily_capacity else 0.0
        return (round(minutes), ratio, km, p.code)

    oracle = sorted(pool, key=key)[:4]
    assert [o.point.code for o in (decision.chosen, *decision.alternatives)] == [p.code for p in oracle]
    assert decision.chosen.distance_km == pytest.approx(geodesic(here, (oracle[0].lat, oracle[0].lon)).km, abs=1e-6)
    assert rank_key(decision.chosen) <= rank_key(decision.alternatives[0]) if decision.alternatives else True


@settings(max_examples=60, deadline=None)
@given(drawn=networks(), level=levels, here=st.lists(coords, min_size=1, max_size=30))
def test_batch_routing_equals_the_geodesic_nearest(drawn, level, here):
    import numpy as np

    from geo.router import route_batch
    pts, _ = drawn
    network = Network(pts)
    result = route_batch(np.array([h[0] for h in here]), np.array([h[1] for h in here]), level, network,
                         ctx=ctx(local=MONDAY_10))
    pool = [p for p in pts if level in p.levels and p.is_active_on(MONDAY_10.date()) and p.is_open(MONDAY_10, False)]
    for i, h in enumerate(here):
        if not pool:
            assert result.point_index[i] == -1
            continue
        best = min(geodesic(h, (p.lat, p.lon)).km for p in pool)
        assert result.distance_km[i] == pytest.approx(best, abs=1e-6)
        assert result.within[i] == (best <= 5 or best * 1.35 / 15 * 60 <= 30)


def test_exactly_5_km_is_within_by_distance_at_rush_hour():
    from geo.rules import WGS84
    lon, lat, _ = WGS84.fwd(105.85, 21.03, 90.0, 5000.0)  # exactly 5 km east
    rush = ctx(local=datetime(2026, 3, 2, 17, 30, tzinfo=LOCAL_TZ))  # 5 km takes ~37 minutes
    decision = route(21.03, 105.85, "province", [point(1, lat, lon)], ctx=rush)
    assert decision.chosen.distance_km == pytest.approx(5.0, abs=1e-9)
    assert decision.chosen.rule_held is RuleHeld.DISTANCE and not decision.outside_service_radius


def test_exactly_30_minutes_is_within_by_travel_time():
    from geo.rules import WGS84
    km = 30 / 60 * 15 / 1.35  # 5.555… km off-peak on a motorbike
    lon, lat, _ = WGS84.fwd(105.85, 21.03, 0.0, km * 1000)
    decision = route(21.03, 105.85, "province", [point(1, lat, lon)], ctx=ctx())
    assert decision.chosen.minutes == pytest.approx(30.0, abs=1e-9)
    assert decision.chosen.rule_held is RuleHeld.TRAVEL_TIME
