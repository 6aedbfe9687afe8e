"""Time helpers: stored in UTC, shown in Asia/Ho_Chi_Minh; and the platform's one clock.

Every "now" the platform uses comes from :func:`utcnow`, which asks the installed :class:`Clock`
(the system's by default). Tests install a :class:`FrozenClock` (the ``clock`` fixture in
tests/conftest.py) to run at a chosen instant and move time on by hand, instead of patching modules.
The clock is process-wide on purpose: the in-process outbox thread and a test's live server see the
same time as the test. Plain Python: no Flask, so pure modules may use it.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class Clock:
    """The system's clock: real time, in UTC."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FrozenClock(Clock):
    """A clock that says what it was set to, until it is set again or advanced (thread-safe)."""

    def __init__(self, at: datetime):
        self._lock = threading.Lock()
        self._at = _aware(at)

    @property
    def at(self) -> datetime:
        """The instant, in the time zone it was set in."""
        with self._lock:
            return self._at

    def now(self) -> datetime:
        return as_utc(self.at)

    def set(self, at: datetime) -> datetime:
        with self._lock:
            self._at = _aware(at)
            return self._at

    def advance(self, delta: timedelta | None = None, **parts: float) -> datetime:
        """Move time on by ``delta`` or by ``timedelta(**parts)`` (e.g. ``advance(minutes=5)``)."""
        step = (delta or timedelta()) + timedelta(**parts)
        if step < timedelta():
            raise ValueError("a clock does not go back: use set() for that")
        with self._lock:
            self._at += step
            return self._at


SYSTEM_CLOCK = Clock()
_clock: Clock = SYSTEM_CLOCK


def use_clock(clock: Clock | None) -> Clock:
    """Install ``clock`` (None: the system's) as the platform's clock; returns the one it replaces."""
    global _clock
    previous, _clock = _clock, clock or SYSTEM_CLOCK
    return previous


def current_clock() -> Clock:
    return _clock


def utcnow() -> datetime:
    """Now, in UTC, by the platform's clock."""
    return _clock.now()


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("a clock is set to an aware datetime (UTC or LOCAL_TZ), not a naive one")
    return value


def as_utc(value: datetime) -> datetime:
    """Attach UTC to naive datetimes read back from SQLite."""
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def to_local(value: datetime) -> datetime:
    return as_utc(value).astimezone(LOCAL_TZ)
