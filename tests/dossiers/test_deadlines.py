"""Working-day deadlines in Asia/Ho_Chi_Minh around weekends, Tết and 2/9."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from core.timeutil import LOCAL_TZ
from dossiers.deadlines import add_working_days, deadline_for, is_working_day


def local(y, m, d, h=9, minute=0):
    return datetime(y, m, d, h, minute, tzinfo=LOCAL_TZ)


def due_local(received, days):
    return deadline_for(received.astimezone(timezone.utc), days).astimezone(LOCAL_TZ)


def test_tet_2026_is_skipped():
    # Tết Bính Ngọ: Mon 16/2 – Fri 20/2/2026 are holidays, 14–15 and 21–22 are weekends.
    assert not any(is_working_day(date(2026, 2, d)) for d in range(14, 23))
    due = due_local(local(2026, 2, 13), 1)  # Friday before Tết
    assert due == local(2026, 2, 23, 17)  # the Monday after


def test_national_day_2026_is_skipped():
    # 2/9/2026 falls on a Wednesday; 31/8 (substitute), 1/9 and 2/9 are days off.
    assert [is_working_day(date(2026, 8, 31) + timedelta(days=i)) for i in range(4)] == [False, False, False, True]
    assert due_local(local(2026, 8, 28), 2) == local(2026, 9, 4, 17)


def test_weekend_and_after_hours_start_the_clock_next_working_day():
    assert due_local(local(2026, 3, 6, 10), 1) == local(2026, 3, 9, 17)  # Friday → Monday
    assert due_local(local(2026, 3, 7, 10), 1) == local(2026, 3, 10, 17)  # Saturday → Monday is day zero
    assert due_local(local(2026, 3, 4, 16, 59), 1) == local(2026, 3, 5, 17)
    assert due_local(local(2026, 3, 4, 17, 0), 1) == local(2026, 3, 6, 17)


def test_deadline_uses_vietnam_time_not_utc():
    # 23:30 UTC on Tuesday is 06:30 Wednesday in Hanoi: received Wednesday.
    received = datetime(2026, 3, 3, 23, 30, tzinfo=timezone.utc)
    assert deadline_for(received, 1).astimezone(LOCAL_TZ) == local(2026, 3, 5, 17)


@settings(max_examples=300, deadline=None)
@given(
    received=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 1),
                          timezones=st.just(timezone.utc)),
    days=st.integers(min_value=1, max_value=60),
)
def test_deadline_is_a_working_day_exactly_n_working_days_on(received, days):
    due = deadline_for(received, days).astimezone(LOCAL_TZ)
    assert due.hour == 17 and due.minute == 0
    assert is_working_day(due.date())
    start = received.astimezone(LOCAL_TZ).date()
    between = [start + timedelta(days=i) for i in range(1, (due.date() - start).days + 1)]
    counted = sum(is_working_day(d) for d in between)
    assert counted in (days, days + 1)  # +1 when received outside a working day's hours
    assert add_working_days(due.date(), 0) == due.date()
