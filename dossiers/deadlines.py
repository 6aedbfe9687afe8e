"""Legal deadlines in working days (Asia/Ho_Chi_Minh), skipping weekends and
Vietnamese public holidays (the ``holidays`` package, Tết and 2/9 included).

A dossier received on a working day before the end of office hours counts that
day as received; the deadline is the end of office hours (17:00 local) of the
N-th following working day. Received on a weekend, a holiday or after hours, the
count starts from the next working day.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from core.calendar import is_working_day
from core.timeutil import LOCAL_TZ, as_utc

__all__ = ["add_working_days", "deadline_for", "is_working_day"]

OFFICE_CLOSES = time(17, 0)


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
