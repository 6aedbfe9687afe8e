"""SMS texts: one template per event, unaccented Vietnamese, each fitting ONE GSM-7 part.

Pure Python (no Flask, no database). ``render(event, **values)`` fills a template and
raises ``SmsTooLong`` past 160 septets; every variable is cleaned first: Vietnamese
diacritics stripped (NFD, combining marks dropped, đ/Đ → d/D), typographic punctuation
turned into ASCII, anything else outside GSM-7 replaced by ``?``, so the message never
falls back to UCS-2 (70 characters a part) and never splits.

Septets: a GSM-7 basic character counts 1, an extension character (``^{}\\[~]|€`` and form
feed) counts 2 (escape + character); any other character is refused (``NotGsm7``).

The budget (a test renders every template at these maxima): the dossier number up to
``NUMBER_MAX``, the tracking link up to ``link_max(base_max)`` (the public base URL, ``/t/``
and a 22-character token), the amount up to ``AMOUNT_MAX_VND``, a time as ``dd/mm HH:MM``, a date as
``dd/mm/yyyy``.
The service point's name is the one elastic part: shortened (``short_point``) and cut at a
word to the room left, never below ``POINT_MIN`` characters at the maxima.
"""

from __future__ import annotations

import re
import string
import unicodedata
from datetime import date, datetime

from core.timeutil import to_local

SEGMENT_SEPTETS = 160
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

NUMBER_MAX = 40  # dossiers.number is VARCHAR(40); legal numbers are 25 (000.02.98.H26-261124-0001, dossiers.codes)
TOKEN_LENGTH = 22  # secrets.token_urlsafe(16): 128 bits
LINK_BASE_MAX = 40  # default of SMS_LINK_BASE_MAX: the longest public base URL the templates are sized for
AMOUNT_MAX_VND = 9_999_999_999  # "9.999.999.999d"
POINT_MAX = 48  # a point name is never longer than this in an SMS
POINT_MIN = 16  # the room a point name always has, everything else at its longest

PLACEHOLDERS = ("number", "link", "amount", "slot", "point", "date")

# event -> variants, most informative first; render uses the first whose variables are all given.
TEMPLATES: dict[str, tuple[str, ...]] = {
    "received": ("Ho so {number} da duoc tiep nhan. Theo doi: {link}",),
    "paid": ("Ho so {number} da thanh toan {amount}. Bien lai: {link}",
             "Ho so {number} da thanh toan. Bien lai: {link}"),
    "result_ready": ("Ho so {number} da co ket qua, moi nhan tai {point}. {link}",
                     "Ho so {number} da co ket qua. Chi tiet: {link}"),
    "result_ready_courier": ("Ho so {number} da co ket qua, se giao tan noi. Theo doi: {link}",),
    "out_for_delivery": ("Ho so {number} dang giao, du kien {slot}. Theo doi: {link}",
                         "Ho so {number} dang duoc giao den ban. Theo doi: {link}"),
    "delivered": ("Ho so {number} da giao xong. Cam on ban! Danh gia: {link}",),
    "attempt_failed": ("Ho so {number} giao chua duoc, hen {slot}. Doi lich: {link}",
                       "Ho so {number} giao chua duoc. Chon lich giao lai: {link}"),
    "returned_to_branch": ("Giao ho so {number} that bai, moi nhan tai {point}. {link}",
                           "Giao ho so {number} that bai, moi nhan tai diem tiep nhan. {link}"),
    "apology": ("Xin loi, ho so {number} tra cham, hen lai {date}. {link}",),
    "supplement_requested": ("Ho so {number} can bo sung giay to, han xu ly tam dung. {link}",),
}


class NotGsm7(ValueError):
    """A character outside the GSM-7 alphabet and its extension table."""


class SmsTooLong(ValueError):
    """The rendered text does not fit one GSM-7 part."""


def septets(text: str) -> int:
    """The GSM-7 length of ``text``: extension characters count 2; refuses anything else."""
    count = 0
    for ch in text:
        if ch in GSM7_BASIC:
            count += 1
        elif ch in GSM7_EXTENSION:
            count += 2
        else:
            raise NotGsm7(f"not a GSM-7 character: {ch!r} (U+{ord(ch):04X})")
    return count


def is_gsm7(text: str) -> bool:
    try:
        septets(text)
    except NotGsm7:
        return False
    return True


_ASCII_FOR = {"–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-", "‘": "'", "’": "'", "‚": "'", "“": '"',
              "”": '"', "„": '"', "…": "...", "«": '"', "»": '"', "•": "-", "·": ".", "₫": "d", "×": "x",
              "\u00a0": " ", "\u202f": " ", "\t": " ", "\n": " ", "\r": " "}
_SPACES = re.compile(r" {2,}")


def unaccent(text: str) -> str:
    """Vietnamese without diacritics, typographic punctuation as ASCII, other non-GSM-7 as ``?``."""
    text = text.replace("đ", "d").replace("Đ", "D")
    text = "".join(ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn")
    text = "".join(_ASCII_FOR.get(ch, ch) for ch in unicodedata.normalize("NFC", text))
    text = "".join(ch if ch in GSM7_BASIC or ch in GSM7_EXTENSION else "?" for ch in text)
    return _SPACES.sub(" ", text).strip()


def format_amount(amount_vnd: int) -> str:
    """``220000`` → ``220.000d`` (đồng, Vietnamese thousands separator)."""
    return f"{int(amount_vnd):,}".replace(",", ".") + "d"


def format_slot(when: datetime) -> str:
    """A time in Hanoi as ``dd/mm HH:MM``."""
    return to_local(when).strftime("%d/%m %H:%M")


def format_date(day: date | datetime) -> str:
    """A day as ``dd/mm/yyyy`` (a datetime: its day in Hanoi)."""
    if isinstance(day, datetime):
        day = to_local(day).date()
    return day.strftime("%d/%m/%Y")


def link_max(base_max: int = LINK_BASE_MAX) -> int:
    return base_max + len("/t/") + TOKEN_LENGTH


# Long fixed parts of the network's point names, and what a citizen reads for them.
_POINT_SHORTER = [
    (re.compile(r"Trung tam Phuc vu hanh chinh cong", re.I), "TT PVHCC"),
    (re.compile(r"Diem phuc vu hanh chinh cong", re.I), "Diem PVHCC"),
    (re.compile(r"\bthanh pho\b", re.I), "TP"),
]


def _cut(text: str, room: int) -> str:
    """``text`` cut at a word so that it takes at most ``room`` septets."""
    if septets(text) <= room:
        return text
    cut = ""
    for word in text.split(" "):
        candidate = f"{cut} {word}" if cut else word
        if septets(candidate) > room:
            break
        cut = candidate
    if not cut:  # one long word: cut inside it
        for ch in text:
            if septets(cut + ch) > room:
                break
            cut += ch
    return cut.rstrip(" -,.;:")


def short_point(name: str, room: int = POINT_MAX) -> str:
    """A service point's name in at most ``room`` septets: abbreviated, then the part before a dash, then cut."""
    text = unaccent(name)
    for pattern, short in _POINT_SHORTER:
        text = pattern.sub(short, text)
    room = min(room, POINT_MAX)
    if septets(text) > room and " - " in text:
        text = text.split(" - ", 1)[0]
    return _cut(text, room)


def _clean(name: str, value) -> str:
    if name == "amount" and not isinstance(value, str):
        if not 0 <= int(value) <= AMOUNT_MAX_VND:
            raise ValueError(f"amount out of range: {value}")
        return format_amount(int(value))
    if name == "slot" and isinstance(value, datetime):
        return format_slot(value)
    if name == "date" and isinstance(value, date):
        return format_date(value)
    text = unaccent(str(value))
    if name == "number" and len(text) > NUMBER_MAX:
        raise ValueError(f"a dossier number longer than {NUMBER_MAX}: {text!r}")
    if name == "link" and (" " in text or not text):
        raise ValueError("a link must be one word")
    return text


def variant_for(event: str, given: set[str]) -> str:
    """The first variant of ``event`` whose variables are all in ``given``."""
    try:
        variants = TEMPLATES[event]
    except KeyError:
        raise KeyError(f"no SMS template for event {event!r}") from None
    for variant in variants:
        if set(fields(variant)) <= given:
            return variant
    raise ValueError(f"missing values for {event!r}: {sorted(set(fields(variants[-1])) - given)}")


def fields(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def render(event: str, **values) -> str:
    """The SMS for ``event``; values that are None count as not given. Raises ``SmsTooLong`` past one part."""
    given = {k: v for k, v in values.items() if v is not None and v != ""}
    unknown = set(given) - set(PLACEHOLDERS)
    if unknown:
        raise TypeError(f"unknown SMS variables: {sorted(unknown)}")
    template = variant_for(event, set(given))
    names = fields(template)
    filled = {name: _clean(name, given[name]) for name in names if name != "point"}
    if "point" in names:
        room = SEGMENT_SEPTETS - septets(template.format(**filled, point=""))
        filled["point"] = short_point(str(given["point"]), room)
        if not filled["point"]:
            raise SmsTooLong(f"no room for the point's name in {event!r}")
    body = template.format(**filled)
    length = septets(body)
    if length > SEGMENT_SEPTETS:
        raise SmsTooLong(f"{event!r} takes {length} GSM-7 septets, more than one part ({SEGMENT_SEPTETS})")
    return body


def _check_templates() -> None:
    for event, variants in TEMPLATES.items():
        for variant in variants:
            fixed = variant
            for name in fields(variant):
                fixed = fixed.replace("{" + name + "}", "")
            if not fixed.isascii() or not is_gsm7(fixed):
                raise AssertionError(f"template {event!r} is not plain unaccented GSM-7: {variant!r}")
            if set(fields(variant)) - set(PLACEHOLDERS):
                raise AssertionError(f"template {event!r} uses an unknown variable: {variant!r}")


_check_templates()
