"""People's words for the tracking page's codes (Vietnamese via the translation catalogue)."""

from __future__ import annotations

import re
from functools import lru_cache

from flask_babel import lazy_gettext as _l

TIMELINESS = {
    ("on_time", False): _l("On schedule"),
    ("late", False): _l("Past the deadline"),
    ("on_time", True): _l("Result ready on time"),
    ("late", True): _l("Result ready late"),
}
DELIVERY_METHODS = {"courier": _l("Returned by post"), "collect": _l("Collected at the service point")}
ATTEMPT_OUTCOMES = {"failed": _l("Not delivered"), "delivered": _l("Delivered")}


def timeliness_label(code: str | None, final: bool) -> str | None:
    return None if code is None else str(TIMELINESS[(code, final)])


def delivery_method_label(code: str) -> str:
    return str(DELIVERY_METHODS[code])


def courier_status_label(code: str, given: str | None = None) -> str:
    """The courier's own label (courier.service.delivery_summary gives it in the reader's language)."""
    return given or code


def attempt_outcome_label(code: str) -> str:
    return str(ATTEMPT_OUTCOMES.get(code, code))


_DAY_NAMES = {
    "vi": {"Mo": "Thứ 2", "Tu": "Thứ 3", "We": "Thứ 4", "Th": "Thứ 5", "Fr": "Thứ 6", "Sa": "Thứ 7", "Su": "Chủ nhật"},
    "en": {"Mo": "Mon", "Tu": "Tue", "We": "Wed", "Th": "Thu", "Fr": "Fri", "Sa": "Sat", "Su": "Sun"},
}
_HOURS_WORDS = {
    "vi": {"24/7": "Mở cửa cả tuần, 24 giờ", "PH off": "nghỉ các ngày lễ", "off": "nghỉ"},
    "en": {"24/7": "Open every day, 24 hours", "PH off": "closed on public holidays", "off": "closed"},
}
_HOURS_TOKEN = re.compile(r"24/7|PH off|\boff\b|\b(?:Mo|Tu|We|Th|Fr|Sa|Su)\b|(?<=\d)-(?=\d)|(?<=[a-z])-(?=[A-Z])")


@lru_cache(maxsize=256)
def opening_hours_text(rule: str, lang: str) -> str:
    """An opening-hours rule (OpenStreetMap syntax, geo/hours.py) in words people read:
    "Mo-Fr 08:00-17:00; PH off" → "Thứ 2–Thứ 6 08:00–17:00; nghỉ các ngày lễ"."""
    days, words = _DAY_NAMES.get(lang, _DAY_NAMES["en"]), _HOURS_WORDS.get(lang, _HOURS_WORDS["en"])

    def word(match: re.Match) -> str:
        part = match.group(0)
        return "–" if part == "-" else days.get(part) or words.get(part, part)

    return _HOURS_TOKEN.sub(word, rule or "").replace(",", ", ").replace(",  ", ", ")
