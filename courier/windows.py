"""Pickup windows: when the courier may collect results at a service point.

A point's windows are rows of ``pickup_windows`` (weekday 0 = Monday … 6, local start and end
times); a point without rows has the default, ``COURIER_PICKUP_WINDOWS`` on Monday to Friday
(``"10:00-11:00,15:00-16:00"``). Pickups happen on working days only (no weekends, no
Vietnamese public holidays: ``core.calendar``), whatever the rows say. Times are local
(Asia/Ho_Chi_Minh, no daylight saving); slots come out as aware UTC datetimes.

Pure functions over plain data: the working-day test is passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from core.timeutil import LOCAL_TZ, as_utc

WORKING_WEEK = range(5)  # Monday to Friday
SEARCH_DAYS = 60  # enough to cross Tết


@dataclass(frozen=True, order=True)
class Window:
    weekday: int
    start: time
    end: time


@dataclass(frozen=True, order=True)
class Slot:
    start: datetime  # aware UTC
    end: datetime


def parse_ranges(spec: str) -> list[tuple[time, time]]:
    """``"10:00-11:00,15:00-16:00"`` → [(10:00, 11:00), (15:00, 16:00)]; each must end after it starts."""
    ranges = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        start, sep, end = part.partition("-")
        if not sep:
            raise ValueError(f"not a time range: {part!r} (use HH:MM-HH:MM)")
        first, last = time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
        if last <= first:
            raise ValueError(f"a pickup window must end after it starts: {part!r}")
        ranges.append((first, last))
    if not ranges:
        raise ValueError("at least one pickup window is needed")
    return sorted(ranges)


def default_windows(spec: str) -> list[Window]:
    return [Window(day, start, end) for day in WORKING_WEEK for start, end in parse_ranges(spec)]


def slots(windows: Iterable[Window], after: datetime, is_working_day: Callable[[date], bool], *,
          from_day: date | None = None, days: int = SEARCH_DAYS) -> Iterator[Slot]:
    """Slots starting strictly after ``after``, in order, on working days from ``from_day``
    (default: ``after``'s local day) for ``days`` calendar days."""
    by_day: dict[int, list[Window]] = {}
    for window in sorted(windows):
        by_day.setdefault(window.weekday, []).append(window)
    after = as_utc(after)
    day = from_day or after.astimezone(LOCAL_TZ).date()
    for offset in range(days):
        current = day + timedelta(days=offset)
        if current.weekday() not in by_day or not is_working_day(current):
            continue
        for window in by_day[current.weekday()]:
            start = datetime.combine(current, window.start, tzinfo=LOCAL_TZ)
            if as_utc(start) > after:
                yield Slot(as_utc(start), as_utc(datetime.combine(current, window.end, tzinfo=LOCAL_TZ)))


def next_slot(windows: Iterable[Window], after: datetime, is_working_day: Callable[[date], bool], *,
              lead: timedelta = timedelta(0), from_day: date | None = None) -> Slot | None:
    """The first slot that starts at least ``lead`` after ``after`` (the courier needs notice)."""
    return next(slots(windows, as_utc(after) + lead, is_working_day, from_day=from_day), None)


def next_working_day(day: date, is_working_day: Callable[[date], bool]) -> date:
    current = day + timedelta(days=1)
    while not is_working_day(current):
        current += timedelta(days=1)
    return current


def offered(windows: Iterable[Window], after: datetime, is_working_day: Callable[[date], bool], *,
            lead: timedelta, working_days: int) -> list[Slot]:
    """The slots a citizen may choose: those of the next ``working_days`` working days with a slot."""
    chosen: list[Slot] = []
    seen_days: list[date] = []
    for slot in slots(windows, as_utc(after) + lead, is_working_day):
        day = slot.start.astimezone(LOCAL_TZ).date()
        if day not in seen_days:
            if len(seen_days) == working_days:
                break
            seen_days.append(day)
        chosen.append(slot)
    return chosen
