"""Pickup windows: the next one on a working day, holidays skipped, a point's own rows, the offered slots."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from core.calendar import is_working_day
from core.extensions import db
from core.timeutil import LOCAL_TZ
from courier import service, windows
from courier.models import PickupWindow
from geo import service as geo
from tests.courier.conftest import local

DEFAULT = windows.default_windows("10:00-11:00,15:00-16:00")
LEAD = timedelta(minutes=30)


def _next(after):
    slot = windows.next_slot(DEFAULT, after, is_working_day, lead=LEAD)
    return slot.start.astimezone(LOCAL_TZ), slot.end.astimezone(LOCAL_TZ)


def test_friday_afternoon_after_the_window_is_monday_morning():
    friday = date(2027, 3, 12)
    assert friday.weekday() == 4 and is_working_day(friday)
    assert _next(local(friday, 16, 5)) == (local(date(2027, 3, 15), 10), local(date(2027, 3, 15), 11))
    # Inside the lead time of the afternoon window: too late for it as well.
    assert _next(local(friday, 14, 45))[0] == local(date(2027, 3, 15), 10)
    # Earlier on Friday: the afternoon window, then the morning one.
    assert _next(local(friday, 11, 0))[0] == local(friday, 15)
    assert _next(local(friday, 7, 0))[0] == local(friday, 10)


def test_public_holidays_are_skipped_national_day():
    # 2/9/2027 is a Thursday; 2 and 3 September are holidays, then the weekend.
    wednesday = date(2027, 9, 1)
    assert not is_working_day(date(2027, 9, 2)) and not is_working_day(date(2027, 9, 3))
    assert _next(local(wednesday, 15, 40))[0] == local(date(2027, 9, 6), 10)


def test_public_holidays_are_skipped_tet_2027():
    # Tết Đinh Mùi: 4 to 10 February 2027 are holidays; the next pickup after Wednesday 3rd is Thursday 11th.
    assert [is_working_day(date(2027, 2, d)) for d in range(4, 12)] == [False] * 7 + [True]
    assert _next(local(date(2027, 2, 3), 16, 30))[0] == local(date(2027, 2, 11), 10)


def test_slots_are_utc_and_the_next_working_day_after_a_failure():
    slot = windows.next_slot(DEFAULT, local(date(2027, 3, 12), 9), is_working_day, lead=LEAD)
    assert slot.start.utcoffset() == timedelta(0) and slot.start.hour == 3  # 10:00 in Hà Nội is 03:00 UTC
    assert windows.next_working_day(date(2027, 9, 1), is_working_day) == date(2027, 9, 6)
    after_failure = windows.next_slot(DEFAULT, local(date(2027, 3, 12), 9), is_working_day, lead=LEAD,
                                      from_day=windows.next_working_day(date(2027, 3, 12), is_working_day))
    assert after_failure.start.astimezone(LOCAL_TZ) == local(date(2027, 3, 15), 10)


def test_offered_slots_cover_the_next_working_days():
    offered = windows.offered(DEFAULT, local(date(2027, 9, 1), 12), is_working_day, lead=LEAD, working_days=3)
    assert [s.start.astimezone(LOCAL_TZ) for s in offered] == [
        local(date(2027, 9, 1), 15), local(date(2027, 9, 6), 10), local(date(2027, 9, 6), 15),
        local(date(2027, 9, 7), 10), local(date(2027, 9, 7), 15)]


@pytest.mark.parametrize("spec", ["", "10:00", "11:00-10:00", "25:00-26:00"])
def test_bad_default_windows_are_refused(spec):
    with pytest.raises(ValueError):
        windows.default_windows(spec)


def test_a_point_with_rows_uses_its_own_windows_and_the_others_the_default(app):
    with app.app_context():
        point = geo.list_points()[0]
        other = geo.list_points()[1]
        db.session.add_all([PickupWindow(service_point_id=point.id, weekday=day, start_time=time(8, 30),
                                         end_time=time(9, 0)) for day in (0, 2, 5)])
        db.session.commit()
        assert [w.weekday for w in service.point_windows(point.id)] == [0, 2, 5]
        assert service.point_windows(other.id) == DEFAULT
        # A Saturday row is never used: pickups happen on working days only.
        slot = service.next_pickup(point.id, local(date(2027, 3, 10), 9))  # Wednesday after 08:30
        assert slot.start.astimezone(LOCAL_TZ) == local(date(2027, 3, 15), 8, 30)
