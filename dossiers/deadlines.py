"""Legal deadlines in working days (Asia/Ho_Chi_Minh), skipping weekends and
Vietnamese public holidays (the ``holidays`` package, Tết and 2/9 included).

A dossier received on a working day before the end of office hours counts that
day as received; the deadline is the end of office hours (17:00 local) of the
N-th following working day. Received on a weekend, a holiday or after hours, the
count starts from the next working day.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache

import holidays

from core.timeutil import LOCAL_TZ, as_utc

OFFICE_CLOSES = time(17, 0)


@lru_cache(maxsize=64)
def _holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("VN", years=year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (start itself not counted)."""
    current, left = start, days
    while left > 0:
        current += timedelta(days=1)
        if is_working_day(current):
            left -= 1
    return current


def deadline_for(received_at: datetime, working_days: int) -> datetime:
    """Deadline (UTC) for a procedure of ``working_days`` received at ``received_at``."""
    local = as_utc(received_at).astimezone(LOCAL_TZ)
    day = local.date()
    if not is_working_day(day) or local.time() >= OFFICE_CLOSES:
        # Not received within a working day: the clock starts next working day,
        # which is then day zero.
        day = add_working_days(day, 1)
    due = add_working_days(day, working_days)
    return datetime.combine(due, OFFICE_CLOSES, tzinfo=LOCAL_TZ).astimezone(timezone.utc)
