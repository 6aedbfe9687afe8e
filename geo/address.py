"""A Vietnamese address → an approximate location, offline.

``vietnamadminunits`` parses an address into administrative units, either the 2025
ones (34 provinces, 3,321 communes) or the legacy ones (63 provinces, districts,
10,040 wards), and gives each unit's centre point. A unit's centre is not the
address, so every result is marked approximate and says how precise it is.

Order: a 2025 ward (the units in force), else a legacy ward, else a legacy district,
else the province alone. Three corrections to the parser:

- ``default_province`` (Hà Nội here) is tried first: the parser keeps the right-most
  province it finds, so the hint goes in front and a province the text names wins;
  the text without its first part is tried too ("12 phố Huế, Hai Bà Trưng" is not in Huế).
- It matches keywords inside the text with spaces removed: "John" holds "hn" (Hà Nội),
  "Huyện Mỹ Đức" holds "yên mỹ" (Hưng Yên). A unit the text does not name in whole words
  (its name, "P.12"-style abbreviations) is dropped, even one known by a former name.
- Many 2025 wards took (part of) an old district's name. In an address in the old units
  ("Phúc Xá, Ba Đình", "Quận Hoàng Mai", "Bắc Từ Liêm") the district reads as that ward
  (Phúc Xá is now in Phường Hồng Hà; Phường Từ Liêm is in the south), so there the
  legacy ward or district is used.

Pure Python: no Flask, no database.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from vietnamadminunits import ParseMode, parse_address

from core.text import fold

log = logging.getLogger(__name__)

MAX_ADDRESS_LENGTH = 400
SOURCE_2025 = "vietnamadminunits-2025"
SOURCE_LEGACY = "vietnamadminunits-legacy"

# Province abbreviations the parser knows besides the names, by province code (2 digits:
# districts have 3, wards 5, so no unit of another level picks these up).
_PROVINCE_ALIASES = {"01": ("hn", "tphn"), "79": ("hcm", "tphcm"), "77": ("baria", "vungtau")}
# A comma-separated part that starts with a unit type is a unit, not the street.
_UNIT_TYPE = re.compile(
    r"^(phường|phuong|quận|quan|xã|xa|huyện|huyen|thị trấn|thi tran|thị xã|thi xa|thành phố|thanh pho"
    r"|tỉnh|tinh|đặc khu|dac khu|p|q|x|h|tt|tx|tp)(\.|\s|\d|$)",
    re.IGNORECASE,
)
# ...unless it starts with a house number: "12 Hàng Bài" is a street, whatever ward shares its name.
_HOUSE_NUMBER = re.compile(r"^(số|so)?\s*\d", re.IGNORECASE)
# The parser's level for each (legacy?, precision).
_LEVELS = {(False, "ward"): 2, (False, "province"): 1,
           (True, "ward"): 3, (True, "district"): 2, (True, "province"): 1}


@dataclass(frozen=True)
class AddressLocation:
    """Where an address is, as far as can be told; approximate unless a geocoder found the address itself."""

    lat: float
    lon: float
    precision: str  # "address" (a geocoder), "ward", "district" or "province"
    source: str
    label: str
    approximate: bool = True
    province: str | None = None
    district: str | None = None  # legacy units only: the 2025 reform abolished districts
    ward: str | None = None
    street: str | None = None
    province_code: str | None = None
    district_code: str | None = None
    ward_code: str | None = None

    @property
    def codes(self) -> dict[str, str | None]:
        return {"province": self.province_code, "district": self.district_code, "ward": self.ward_code}


class _Unit(NamedTuple):
    name: str  # "Phường Cầu Giấy"
    short: str  # "Cầu Giấy"
    kind: str  # "Phường"; "" for provinces
    code: str


class _Parsed(NamedTuple):
    province: _Unit
    district: _Unit | None
    ward: _Unit | None
    lat: float
    lon: float


class _Hit(NamedTuple):
    parsed: _Parsed
    legacy: bool
    precision: str


def locate_address(text: str, default_province: str | None = None) -> AddressLocation | None:
    """The most precise unit the address names, or None when it does not even name a province."""
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFC", text or "")).strip()
    if not text or len(text) > MAX_ADDRESS_LENGTH:
        return None
    tail = text.partition(",")[2].strip()
    texts = [text, tail] if tail else [text]
    variants = [v for t in texts for v in ([f"{default_province}, {t}", t] if default_province else [t])]
    ward_2025 = _find(variants, legacy=False, precision="ward")
    legacy = _find(variants, legacy=True, precision="ward") or _find(variants, legacy=True, precision="district")
    if ward_2025 and legacy and _old_district_read_as_ward(text, ward_2025.parsed, legacy):
        ward_2025 = None
    hit = (ward_2025 or legacy
           or _find([text], legacy=False, precision="province")  # the text alone: a hint is no finding
           or _find([text], legacy=True, precision="province"))
    return _location(text, hit) if hit else None


def _find(variants: list[str], *, legacy: bool, precision: str) -> _Hit | None:
    for variant in variants:
        parsed = _parse(variant, legacy, _LEVELS[legacy, precision])
        if parsed and _named(variant, parsed, precision):
            return _Hit(parsed, legacy, precision)
    return None


@lru_cache(maxsize=4096)
def _parse(text: str, legacy: bool, level: int) -> _Parsed | None:
    mode = ParseMode.LEGACY if legacy else ParseMode.FROM_2025
    try:
        unit = parse_address(text, mode=mode, keep_street=False, level=level)
    except Exception as exc:  # noqa: BLE001 - a heuristic third-party parser: any failure means "not found"
        log.warning("vietnamadminunits could not parse an address (%s)", type(exc).__name__)  # no personal data
        return None
    if not unit.province or unit.latitude is None or unit.longitude is None:
        return None

    def part(level_name: str) -> _Unit | None:
        name = getattr(unit, level_name)
        if not name:
            return None
        return _Unit(name, getattr(unit, f"short_{level_name}") or name,
                     getattr(unit, f"{level_name}_type", None) or "", getattr(unit, f"{level_name}_code"))

    return _Parsed(part("province"), part("district"), part("ward"), float(unit.latitude), float(unit.longitude))


@lru_cache(maxsize=256)  # reused within one call: the variants and their parts
def _runs(text: str) -> frozenset[str]:
    """Every run of up to 8 whole words within each comma-separated part, glued: "p dich vong hau" → "pdichvonghau"."""
    runs = set()
    for part in text.split(","):
        words = fold(part).split()
        runs.update("".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, min(i + 8, len(words)) + 1))
    return frozenset(runs)


def _key(name: str) -> str:
    return fold(name).replace(" ", "")


def _initials(kind: str) -> str:
    return "".join(word[0] for word in fold(kind).split())  # "Thị trấn" → "tt"


def _keys(unit: _Unit) -> set[str]:
    """How a text may name the unit: "Phường 12" as "phuong 12" or "P.12"; "Quận Cầu Giấy" also as "Cầu Giấy"."""
    short = re.sub(r"\s*\(.*\)", "", unit.short)  # "Thạnh An (Thị trấn)"
    bare = short[len(unit.kind):].strip() if unit.kind and short.startswith(unit.kind) else short
    keys = {_key(unit.name), _key(short), _initials(unit.kind) + _key(bare), *_PROVINCE_ALIASES.get(unit.code, ())}
    return keys if bare.isdigit() else keys | {_key(bare)}  # a bare "12" would match any number


def _named(text: str, parsed: _Parsed, precision: str) -> bool:
    """Did the parser find this unit as whole words of the text, not inside other words?"""
    unit = getattr(parsed, precision)
    return unit is not None and bool(_keys(unit) & _runs(text))


def _old_district_read_as_ward(text: str, new: _Parsed, old: _Hit) -> bool:
    """Is the 2025 ward only (part of) the old district's name, in an address in the old units?

    "Phúc Xá, Ba Đình" (an old ward), "Quận Hoàng Mai" (called a district), "Bắc Từ Liêm"
    (Phường Từ Liêm is elsewhere): yes. "Hoàn Kiếm, Hà Nội" and "Phường Hoàng Mai": no.
    """
    ward, district = new.ward, old.parsed.district
    if ward is None or district is None or _key(ward.short) not in _key(district.short):
        return False
    runs = _runs(text)
    if {_key(ward.name), _initials(ward.kind) + _key(ward.short)} & runs:
        return False
    called_district = {_key(district.name), _initials(district.kind) + _key(district.short)} & runs
    return _key(ward.short) != _key(district.short) or old.precision == "ward" or bool(called_district)


def _street(text: str, parsed: _Parsed) -> str | None:
    """The comma-separated parts before the first one that names a unit or starts with a unit type."""
    keys = set().union(*(_keys(unit) for unit in parsed[:3] if unit is not None))
    parts = [p.strip() for p in text.split(",")]
    for index, part in enumerate(parts):
        if not _HOUSE_NUMBER.match(part) and (_UNIT_TYPE.match(part) or keys & _runs(part)):
            return ", ".join(p for p in parts[:index] if p) or None
    return None


def _location(text: str, hit: _Hit) -> AddressLocation:
    parsed, precision = hit.parsed, hit.precision
    ward = parsed.ward if precision == "ward" else None
    district = parsed.district if precision in ("ward", "district") else None
    street = _street(text, parsed) if precision != "province" else None
    names = [street, ward and ward.name, district and district.name, parsed.province.name]
    return AddressLocation(
        lat=parsed.lat, lon=parsed.lon, precision=precision,
        source=SOURCE_LEGACY if hit.legacy else SOURCE_2025,
        label=", ".join(n for n in names if n),
        province=parsed.province.name, district=district and district.name, ward=ward and ward.name,
        street=street, province_code=parsed.province.code,
        district_code=district and district.code, ward_code=ward and ward.code,
    )
