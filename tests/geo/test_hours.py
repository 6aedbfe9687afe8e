"""Opening hours: the OpenStreetMap subset, its checks, and open/closed at the edges."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from core.timeutil import LOCAL_TZ
from geo import hours
from geo.hours import DAYS, parse_hours, validate_hours
from geo.points_import import TIER_DEFAULTS

MONDAY = date(2026, 1, 5)  # 2026-01-05 is a Monday; no Vietnamese public holiday that week


def at(day_offset: int, hh: int, mm: int = 0, ss: int = 0, tz=None) -> datetime:
    day = MONDAY + timedelta(days=day_offset)
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=tz)


def test_office_hours_edges():
    h = parse_hours("Mo-Fr 08:00-17:00")
    assert not h.is_open(at(0, 7, 59, 59))
    assert h.is_open(at(0, 8, 0))  # opening time is open
    assert h.is_open(at(0, 16, 59, 59))
    assert not h.is_open(at(0, 17, 0))  # closing time is closed
    assert h.is_open(at(4, 12))  # Friday
    assert not h.is_open(at(5, 10))  # Saturday
    assert not h.is_open(at(6, 10))  # Sunday
    assert h.is_open(at(0, 8, 0, tz=LOCAL_TZ))  # aware local times: same wall clock
    assert not h.always_open


def test_lunch_break_saturday_and_public_holidays():
    h = parse_hours("Mo-Fr 08:00-11:30,13:30-17:00; Sa 08:00-12:00; PH off")
    assert h.is_open(at(0, 11, 29)) and not h.is_open(at(0, 11, 30)) and not h.is_open(at(0, 13, 29))
    assert h.is_open(at(0, 13, 30))
    assert h.is_open(at(5, 9)) and not h.is_open(at(5, 12))
    assert not h.is_open(at(0, 9), is_public_holiday=True)
    assert parse_hours("Mo-Fr 08:00-17:00").is_open(at(0, 9), is_public_holiday=True)  # no PH rule


def test_24_7_is_always_open_holidays_included():
    h = parse_hours("24/7")
    assert h.always_open and str(h) == "24/7"
    assert all(h.is_open(at(d, hh, 30), is_public_holiday=True) for d in range(7) for hh in (0, 12, 23))
    assert parse_hours("Mo-Su 00:00-24:00").always_open
    assert not parse_hours("Mo-Su 00:00-24:00; PH off").always_open


def test_later_rules_replace_earlier_ones_for_their_days():
    h = parse_hours("Mo-Fr 08:00-17:00; We 08:00-12:00")
    assert h.is_open(at(1, 14)) and not h.is_open(at(2, 14)) and h.is_open(at(2, 9))
    assert not parse_hours("Mo-Su 08:00-17:00; Su off").is_open(at(6, 9))


def test_end_at_midnight_and_wrapping_day_ranges():
    h = parse_hours("Fr-Mo 20:00-24:00")
    assert h.is_open(at(6, 23, 59, 59)) and not h.is_open(at(0, 0, 0))  # Sunday night, then Monday 00:00
    assert h.is_open(at(0, 20)) and not h.is_open(at(2, 21))  # Monday yes, Wednesday no


@pytest.mark.parametrize("text, canonical", [
    ("Mo-Fr 08:00-17:00;Sa 08:00-12:00", "Mo-Fr 08:00-17:00; Sa 08:00-12:00"),
    ("  Mo , We-Fr  08:00 - 11:30 , 13:30-17:00 ;  PH off ", "Mo,We-Fr 08:00-11:30,13:30-17:00; PH off"),
    (" 24/7 ", "24/7"),
])
def test_spacing_is_normalised(text, canonical):
    assert str(parse_hours(text)) == canonical


@pytest.mark.parametrize("text, reason, fragment", [
    ("Mo-Fx 08:00-17:00", hours.NOT_A_RULE, "Mo-Fx 08:00-17:00"),
    ("mo-fr 08:00-17:00", hours.NOT_A_RULE, "mo-fr 08:00-17:00"),
    ("Mo-Fr 8:00-17:00", hours.NOT_A_RULE, "Mo-Fr 8:00-17:00"),
    ("Mo-Fr", hours.NOT_A_RULE, "Mo-Fr"),
    ("08:00-17:00", hours.NOT_A_RULE, "08:00-17:00"),
    ("Mo-Mo 08:00-17:00", hours.NOT_A_RULE, "Mo-Mo 08:00-17:00"),
    ("PH 08:00-12:00", hours.NOT_A_RULE, "PH 08:00-12:00"),
    ("Mo-Fr 08:00-17:00;", hours.NOT_A_RULE, "Mo-Fr 08:00-17:00;"),
    ("Mo-Fr 22:00-02:00", hours.CROSSES_MIDNIGHT, "22:00-02:00"),
    ("Mo-Fr 08:00-08:00", hours.EMPTY_RANGE, "08:00-08:00"),
    ("Mo-Fr 08:00-24:30", hours.BAD_TIME, "08:00-24:30"),
    ("Mo-Fr 24:00-24:00", hours.BAD_TIME, "24:00-24:00"),
    ("Mo-Fr 08:60-17:00", hours.BAD_TIME, "08:60-17:00"),
    ("Mo-Fr 13:00-17:00,08:00-12:00", hours.UNORDERED, "13:00-17:00,08:00-12:00"),
    ("Mo-Fr 08:00-12:00,11:00-17:00", hours.UNORDERED, "08:00-12:00,11:00-17:00"),
    ("PH off; Mo-Fr 08:00-17:00", hours.PH_NOT_LAST, "PH off; Mo-Fr 08:00-17:00"),
    ("24/7; PH off", hours.ALWAYS_NOT_ALONE, "24/7; PH off"),
    ("Mo-Fr 08:00-12:00; Mo-Fr 13:00-17:00", hours.HIDDEN_RULE, "Mo-Fr 08:00-12:00"),
    ("Mo-Su off", hours.NEVER_OPEN, "Mo-Su off"),
    ("PH off", hours.NEVER_OPEN, "PH off"),
])
def test_bad_rules_say_why(text, reason, fragment):
    with pytest.raises(ValueError) as info:
        parse_hours(text)
    assert info.value.reason == reason
    assert str(info.value) == f"{reason[:-1]}: '{fragment}'."


def test_the_issue_example_message_and_blank():
    with pytest.raises(ValueError, match=r"^Not a valid opening-hours rule: 'Mo-Fx 08:00-17:00'\.$"):
        parse_hours("Mo-Fx 08:00-17:00")
    with pytest.raises(ValueError, match="Must not be blank"):
        parse_hours("  ")


def test_marshmallow_validator_gives_the_fixed_reason():
    validate_hours("Mo-Fr 08:00-17:00; PH off")
    with pytest.raises(ValidationError) as info:
        validate_hours("Mo-Fr 22:00-02:00")
    assert info.value.messages == [hours.CROSSES_MIDNIGHT]
    with pytest.raises(ValidationError) as info:
        validate_hours("Mo " + ",".join(["08:00-08:01"] * 30))
    assert info.value.messages == ["Longer than maximum length 200."]


def test_the_tier_defaults_are_valid_and_canonical():
    for defaults in TIER_DEFAULTS.values():
        assert str(parse_hours(defaults["opening_hours"])) == defaults["opening_hours"]


def test_next_opening():
    h = parse_hours("Mo-Fr 08:00-17:00; Sa 08:00-12:00; PH off")
    assert h.next_opening(at(0, 9, 15)) == at(0, 9, 15)  # open now
    assert h.next_opening(at(0, 7, 0)) == at(0, 8)
    assert h.next_opening(at(0, 17, 0)) == at(1, 8)
    assert h.next_opening(at(5, 12, 0)) == at(7, 8)  # Saturday noon → Monday
    assert h.next_opening(at(5, 13, 0, tz=LOCAL_TZ)) == at(7, 8, tz=LOCAL_TZ)
    monday_holiday = {MONDAY + timedelta(days=7)}
    assert h.next_opening(at(5, 13), monday_holiday.__contains__) == at(8, 8)
    assert h.next_opening(at(0, 9), lambda _day: True) is None  # a fortnight of holidays
    assert parse_hours("24/7").next_opening(at(3, 3)) == at(3, 3)


# --- round trip of generated canonical rules -------------------------------------------------

def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def day_spans(draw) -> tuple[str, frozenset[int]]:
    first, length = draw(st.integers(0, 6)), draw(st.integers(0, 6))
    days = frozenset((first + i) % 7 for i in range(length + 1))
    text = DAYS[first] if length == 0 else f"{DAYS[first]}-{DAYS[(first + length) % 7]}"
    return text, days


@st.composite
def time_ranges(draw) -> str:
    count = draw(st.integers(1, 3))
    bounds = sorted(draw(st.sets(st.integers(0, 24 * 60), min_size=2 * count, max_size=2 * count)))
    return ",".join(f"{_hhmm(a)}-{_hhmm(b)}" for a, b in zip(bounds[::2], bounds[1::2], strict=True))


@st.composite
def opening_hours_texts(draw) -> str:
    if draw(st.integers(0, 9)) == 0:
        return "24/7"
    rules = []
    for _ in range(draw(st.integers(1, 4))):
        spans = draw(st.lists(day_spans(), min_size=1, max_size=3))
        times = draw(st.one_of(time_ranges(), st.just("off")))
        rules.append([",".join(t for t, _ in spans), frozenset().union(*(d for _, d in spans)), times])
    kept, later = [], frozenset()
    for rule in reversed(rules):  # drop rules that later ones replace entirely
        if not rule[1] <= later:
            kept.insert(0, rule)
            later |= rule[1]
    if all(times == "off" for _, _, times in kept):
        kept[-1][2] = draw(time_ranges())
    texts = [f"{days} {times}" for days, _, times in kept]
    if draw(st.booleans()):
        texts.append("PH off")
    return "; ".join(texts)


@settings(max_examples=300, deadline=None)
@given(opening_hours_texts())
def test_canonical_text_round_trips(text):
    parsed = parse_hours(text)
    assert str(parsed) == text
    assert parse_hours(str(parsed)) == parsed


@settings(max_examples=200, deadline=None)
@given(opening_hours_texts(), st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31)),
       st.booleans())
def test_next_opening_is_an_open_moment_not_before_now(text, when, holidays_on_weekends):
    h = parse_hours(text)
    is_holiday = (lambda d: d.weekday() >= 5) if holidays_on_weekends else (lambda _d: False)
    found = h.next_opening(when, is_holiday)
    if found is not None:
        assert found >= when and h.is_open(found, is_holiday(found.date()))
        assert (found == when) == h.is_open(when, is_holiday(when.date()))
