"""Opening hours: the subset of OpenStreetMap's ``opening_hours`` syntax the network uses.

Accepted:

- ``24/7``, alone;
- rules separated by ``"; "``, each ``<days> <times>``: days ``Mo Tu We Th Fr Sa Su``, ranges
  ``Mo-Fr`` (wrapping like ``Fr-Mo`` too) and lists ``Mo,We,Fr`` or ``Mo-We,Fr``; times
  ``08:00-12:00``, several ``08:00-11:30,13:30-17:00`` in order and not overlapping, ends up to
  ``24:00``, or ``off``;
- ``PH off`` as the last rule: closed on Vietnamese public holidays.

As in OpenStreetMap, a later rule replaces an earlier one for the days it names
(``Mo-Fr 08:00-17:00; We 08:00-12:00`` closes Wednesday afternoons). A rule that later
rules replace entirely is refused: ``Mo-Fr 08:00-12:00; Mo-Fr 13:00-17:00`` means only the
afternoons, and is almost always meant as ``Mo-Fr 08:00-12:00,13:00-17:00``.

Times are local (Asia/Ho_Chi_Minh) wall-clock times: ``is_open`` takes naive or aware
datetimes and looks only at their weekday and time of day. Pure Python: no Flask.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from marshmallow import ValidationError

DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")  # index = datetime.weekday()
MAX_LENGTH = 200  # the database column
SEARCH_DAYS = 14  # how far next_opening looks ahead

# Fixed English reasons: each has a Vietnamese translation in core.messages.
NOT_A_RULE = "Not a valid opening-hours rule."
BAD_TIME = "Not a valid time (use HH:MM from 00:00 to 24:00)."
CROSSES_MIDNIGHT = "A time range may not cross midnight (split it over two days)."
EMPTY_RANGE = "A time range must end after it starts."
UNORDERED = "Time ranges must be in order and must not overlap."
PH_NOT_LAST = "'PH off' must be the last rule."
ALWAYS_NOT_ALONE = "'24/7' cannot be combined with other rules."
NEVER_OPEN = "The hours never open (give at least one time range)."
HIDDEN_RULE = ("A rule is hidden by later rules for the same days "
               "(list several time ranges in one rule, separated by commas).")
BLANK = "Must not be blank."

_RULE = re.compile(r"(?P<days>[A-Za-z][A-Za-z,\- ]*?)\s+(?P<times>off|\d[\d:,\- ]*)")
_DAY_SPAN = re.compile(r"(?P<first>[A-Z][a-z])(?:-(?P<last>[A-Z][a-z]))?")
_TIME_RANGE = re.compile(r"(\d\d):(\d\d)-(\d\d):(\d\d)")
_DAY_MINUTES = 24 * 60


class OpeningHoursError(ValueError):
    """Bad opening-hours text. ``reason`` is one of the fixed English messages above (for
    translation); ``str()`` adds the offending part, e.g. "Not a valid opening-hours rule:
    'Mo-Fx 08:00-17:00'."."""

    def __init__(self, reason: str, fragment: str | None = None):
        self.reason, self.fragment = reason, fragment
        super().__init__(reason if fragment is None else f"{reason[:-1]}: '{fragment}'.")


def _seconds(local_dt: datetime) -> float:
    """Seconds after local midnight (wall clock)."""
    return local_dt.hour * 3600 + local_dt.minute * 60 + local_dt.second + local_dt.microsecond / 1e6


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class TimeRange:
    """From ``start`` (included) to ``end`` (excluded), in minutes after midnight; end <= 24:00."""

    start: int
    end: int

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


@dataclass(frozen=True)
class DaySpan:
    """One day (``first == last``) or a range of days, wrapping past Sunday when last < first."""

    first: int
    last: int

    @property
    def days(self) -> frozenset[int]:
        return frozenset((self.first + i) % 7 for i in range((self.last - self.first) % 7 + 1))

    def __str__(self) -> str:
        return DAYS[self.first] if self.first == self.last else f"{DAYS[self.first]}-{DAYS[self.last]}"


@dataclass(frozen=True)
class Rule:
    """``<days> <times>``, or ``PH off`` (``public_holiday`` with no days and no ranges)."""

    days: tuple[DaySpan, ...]
    ranges: tuple[TimeRange, ...]  # empty: closed ("off")
    public_holiday: bool = False

    @property
    def weekdays(self) -> frozenset[int]:
        return frozenset().union(*(span.days for span in self.days))

    def __str__(self) -> str:
        days = "PH" if self.public_holiday else ",".join(str(span) for span in self.days)
        times = ",".join(str(r) for r in self.ranges) if self.ranges else "off"
        return f"{days} {times}"


@dataclass(frozen=True)
class OpeningHours:
    rules: tuple[Rule, ...] = ()
    twenty_four_seven: bool = False
    # Derived: the ranges of each weekday after later rules replaced earlier ones.
    _week: tuple[tuple[TimeRange, ...], ...] = field(init=False, repr=False, compare=False)
    _holiday_off: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        week: list[tuple[TimeRange, ...]] = [()] * 7
        if self.twenty_four_seven:
            week = [(TimeRange(0, _DAY_MINUTES),)] * 7
        for rule in self.rules:
            for day in rule.weekdays:
                week[day] = rule.ranges
        object.__setattr__(self, "_week", tuple(week))
        object.__setattr__(self, "_holiday_off", any(r.public_holiday for r in self.rules))

    @property
    def always_open(self) -> bool:
        """Open every minute of every day, public holidays included."""
        full = (TimeRange(0, _DAY_MINUTES),)
        return not self._holiday_off and all(ranges == full for ranges in self._week)

    def ranges_on(self, day: date, is_public_holiday: bool = False) -> tuple[TimeRange, ...]:
        """The opening ranges of a local calendar day."""
        if is_public_holiday and self._holiday_off:
            return ()
        return self._week[day.weekday()]

    def is_open(self, local_dt: datetime, is_public_holiday: bool = False) -> bool:
        """Open at this local wall-clock time? 08:00 is open and 17:00 closed for 08:00-17:00."""
        seconds = _seconds(local_dt)
        return any(r.start * 60 <= seconds < r.end * 60
                   for r in self.ranges_on(local_dt.date(), is_public_holiday))

    def next_opening(
        self, local_dt: datetime, is_public_holiday_fn: Callable[[date], bool] | None = None,
    ) -> datetime | None:
        """The first moment at or after ``local_dt`` when open (``local_dt`` itself when open now),
        looking up to 14 days ahead; None when closed all that time. Keeps ``local_dt``'s tzinfo."""
        holiday = is_public_holiday_fn or (lambda _day: False)
        now = _seconds(local_dt)
        for offset in range(SEARCH_DAYS + 1):
            day = local_dt.date() + timedelta(days=offset)
            for r in self.ranges_on(day, holiday(day)):
                if offset == 0 and now >= r.end * 60:
                    continue
                if offset == 0 and now >= r.start * 60:
                    return local_dt
                return datetime.combine(day, time(r.start // 60, r.start % 60), tzinfo=local_dt.tzinfo)
        return None

    def __str__(self) -> str:
        return "24/7" if self.twenty_four_seven else "; ".join(str(rule) for rule in self.rules)


def parse_hours(text: str) -> OpeningHours:
    """Parse and check opening-hours text; raises ``OpeningHoursError`` (a ``ValueError``)."""
    if not isinstance(text, str) or not text.strip():
        raise OpeningHoursError(BLANK)
    text = text.strip()
    if text == "24/7":
        return OpeningHours(twenty_four_seven=True)
    parts = [part.strip() for part in text.split(";")]
    rules = []
    for part in parts:
        if part == "24/7":
            raise OpeningHoursError(ALWAYS_NOT_ALONE, text)
        if not part:  # "a;;b", a trailing ";"
            raise OpeningHoursError(NOT_A_RULE, text)
        rules.append(_parse_rule(part))
    for i, rule in enumerate(rules):
        if rule.public_holiday and i != len(rules) - 1:
            raise OpeningHoursError(PH_NOT_LAST, text)
        later = frozenset().union(*(r.weekdays for r in rules[i + 1:]))
        if not rule.public_holiday and rule.weekdays <= later:
            raise OpeningHoursError(HIDDEN_RULE, str(rule))
    hours = OpeningHours(tuple(rules))
    if not any(hours._week):
        raise OpeningHoursError(NEVER_OPEN, text)
    return hours


def _parse_rule(part: str) -> Rule:
    match = _RULE.fullmatch(part)
    if match is None:
        raise OpeningHoursError(NOT_A_RULE, part)
    days_text = re.sub(r"\s+", "", match["days"])
    times_text = re.sub(r"\s+", "", match["times"])
    if days_text == "PH":
        if times_text != "off":  # the only public-holiday rule of the subset
            raise OpeningHoursError(NOT_A_RULE, part)
        return Rule((), (), public_holiday=True)
    spans = []
    for item in days_text.split(","):
        span = _DAY_SPAN.fullmatch(item)
        if span is None or span["first"] not in DAYS or (span["last"] and span["last"] not in DAYS):
            raise OpeningHoursError(NOT_A_RULE, part)
        first = DAYS.index(span["first"])
        last = DAYS.index(span["last"]) if span["last"] else first
        if span["last"] and first == last:  # "Mo-Mo"
            raise OpeningHoursError(NOT_A_RULE, part)
        spans.append(DaySpan(first, last))
    ranges = () if times_text == "off" else _parse_ranges(times_text, part)
    return Rule(tuple(spans), ranges)


def _parse_ranges(times_text: str, part: str) -> tuple[TimeRange, ...]:
    ranges: list[TimeRange] = []
    for item in times_text.split(","):
        match = _TIME_RANGE.fullmatch(item)
        if match is None:
            raise OpeningHoursError(NOT_A_RULE, part)
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
            raise OpeningHoursError(BAD_TIME, item)
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if end < start:
            raise OpeningHoursError(CROSSES_MIDNIGHT, item)
        if end == start:
            raise OpeningHoursError(EMPTY_RANGE, item)
        if ranges and start < ranges[-1].end:
            raise OpeningHoursError(UNORDERED, times_text)
        ranges.append(TimeRange(start, end))
    return tuple(ranges)


def validate_hours(value: str) -> None:
    """Marshmallow validator: ``fields.String(validate=validate_hours)``."""
    if isinstance(value, str) and len(value) > MAX_LENGTH:
        raise ValidationError(f"Longer than maximum length {MAX_LENGTH}.")
    try:
        parse_hours(value)
    except OpeningHoursError as exc:
        raise ValidationError(exc.reason) from exc
