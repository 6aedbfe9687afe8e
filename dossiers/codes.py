"""Legal dossier numbers (mã số hồ sơ) and the receiving agencies' codes.

What governs, and what is implemented
-------------------------------------
Circular 01/2018/TT-VPCP, Art. 19 prescribes the dossier number ``V1V2V3.Z1Z2.Y1Y2.MX1X2-YYMMDD-XXXX``:

- ``V1V2V3.Z1Z2.Y1Y2.MX1X2``: the receiving agency's code under the national technical regulation on
  identifier codes of Circular 10/2016/TT-BTTTT (read right to left: ``MX1X2`` level 1, the province,
  ``H26`` for Hanoi; ``Y1Y2`` level 2, ``Z1Z2`` level 3, ``V1V2V3`` level 4; an unused level is zeros);
- ``YYMMDD``: the day the dossier was received (local time);
- ``XXXX``: the running number of the dossiers that agency received that day, 4 digits.

Circular 03/2025/TT-VPCP (15 September 2025, guiding Decree 118/2025/NĐ-CP) replaced Circular 01/2018
and covers "mã số hồ sơ" too, but its article on the number's structure could not be found in any
source searched (only its preamble and scope were). So this module implements Art. 19 of Circular
01/2018/TT-VPCP as found (secondary sources quoting it: seongay.com "Mã tự tăng của hồ sơ là gì",
khcn.cinet.vn "Quy định mã hồ sơ, mã ngành, lĩnh vực thủ tục hành chính"). If Circular 03/2025 turns
out to change the structure, only ``PATTERN``, ``number_prefix`` and the code table change.

The agency code table
---------------------
``dossiers/data/agency_codes.csv``: one row per service point (point_code → agency_code), with
``status`` (``official`` or ``derived``) and ``source``. No published code of the Hanoi Public
Administrative Service Center, its branches or the commune one-stop units was found, so every row is
``derived`` by the rule of ``derive()`` below, and only ``H26`` (Hanoi's level-1 code) is official:

- a branch ``HN-CNnn`` → ``000.nn.98.H26`` (level 3 ``nn`` under a level-2 ``98`` for the centre);
- a former district's reception point ``HN-Dddd`` → ``ddd.99.98.H26`` (level 4: the former district's
  administrative unit code, under a level-3 ``99`` for the centre's reception points);
- a commune point ``HN-Xabcde`` → ``abc.de.97.H26`` (levels 4 and 3 carry the commune's 5-digit
  administrative unit code, under a level-2 ``97`` for the commune one-stop units).

The derived level-2/3 values (97, 98, 99) are placeholders, not official codes: replace a row's code
(and mark it ``official`` with its source) when the agency's published code is known. A point the
table does not list is derived by the same rule; one the rule cannot derive keeps the former format,
``<point code>-YYMMDD-XXXX``. Former numbers stay valid for every lookup (``is_dossier_number``).

The point code stays a separate field: the dossier's ``service_point_id`` (and ``service_point_code``
in every API output); ``dossiers.agency_code`` records the agency whose counter numbered it.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

TABLE = Path(__file__).parent / "data" / "agency_codes.csv"
PROVINCE_CODE = "H26"  # Hanoi, Circular 10/2016/TT-BTTTT (level 1)

AGENCY_CODE = r"[0-9A-Z]{3}\.[0-9A-Z]{2}\.[0-9A-Z]{2}\.[A-Z][0-9]{2}"
# Circular 01/2018/TT-VPCP Art. 19; the running number may outgrow 4 digits on a very busy day.
PATTERN = re.compile(rf"(?P<agency>{AGENCY_CODE})-(?P<day>\d{{6}})-(?P<seq>\d{{4,5}})")
# The format before 0021: the service point's code, YYMMDD, the point's running number that day.
LEGACY_PATTERN = re.compile(r"(?P<agency>[A-Z0-9][A-Z0-9-]*?)-(?P<day>\d{6})-(?P<seq>\d{4,5})")
_AGENCY = re.compile(AGENCY_CODE)

_BRANCH = re.compile(r"HN-CN(\d{2})")
_DISTRICT = re.compile(r"HN-D(\d{3})")
_COMMUNE = re.compile(r"HN-X(\d{5})")


@dataclass(frozen=True)
class AgencyCode:
    point_code: str
    agency_code: str
    status: str  # "official" or "derived"
    source: str


def derive(point_code: str) -> str | None:
    """The derived agency code of a service point (see the module docstring), or None."""
    if match := _BRANCH.fullmatch(point_code):
        return f"000.{match[1]}.98.{PROVINCE_CODE}"
    if match := _DISTRICT.fullmatch(point_code):
        return f"{match[1]}.99.98.{PROVINCE_CODE}"
    if match := _COMMUNE.fullmatch(point_code):
        digits = match[1]
        return f"{digits[:3]}.{digits[3:]}.97.{PROVINCE_CODE}"
    return None


@cache
def table() -> dict[str, AgencyCode]:
    """The code table by point code. Every agency code is valid and given to one point only."""
    rows: dict[str, AgencyCode] = {}
    seen: dict[str, str] = {}
    with TABLE.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            entry = AgencyCode(row["point_code"].strip(), row["agency_code"].strip(), row["status"].strip(),
                               row["source"].strip())
            if not _AGENCY.fullmatch(entry.agency_code) or entry.status not in ("official", "derived"):
                raise ValueError(f"{TABLE.name}: bad row for {entry.point_code}: {entry.agency_code} {entry.status}")
            if entry.agency_code in seen or entry.point_code in rows:
                raise ValueError(f"{TABLE.name}: {entry.agency_code} or {entry.point_code} given twice")
            seen[entry.agency_code] = entry.point_code
            rows[entry.point_code] = entry
    return rows


def agency_code_for(point_code: str) -> str | None:
    """The receiving agency's code for a service point: the table's, else derived, else None."""
    entry = table().get(point_code)
    return entry.agency_code if entry is not None else derive(point_code)


@cache
def _points_by_agency() -> dict[str, str]:
    return {entry.agency_code: code for code, entry in table().items()}


def point_code_of(counter_key: str) -> str:
    """The service point a counter key (an agency code, or a point code before 0021) belongs to."""
    if (point := _points_by_agency().get(counter_key)) is not None:
        return point
    point = _underive(counter_key)
    return point if point is not None and derive(point) == counter_key else counter_key


_DERIVED = re.compile(rf"(\d{{3}})\.(\d{{2}})\.(9[78])\.{PROVINCE_CODE}")


def _underive(agency_code: str) -> str | None:
    """The point whose derived code ``agency_code`` is (the inverse of ``derive``), or None."""
    match = _DERIVED.fullmatch(agency_code)
    if match is None:
        return None
    level4, level3, level2 = match.groups()
    if level2 == "97":
        return f"HN-X{level4}{level3}"
    if level3 == "99":
        return f"HN-D{level4}"
    return f"HN-CN{level3}" if level4 == "000" else None


def counter_key(point_code: str) -> str:
    """Whose running number a dossier received at ``point_code`` takes: its agency's, or the point's."""
    return agency_code_for(point_code) or point_code


def number_prefix(point_code: str, day: date) -> str:
    """``<agency code>-YYMMDD-``: the dossier number without its running number."""
    return f"{counter_key(point_code)}-{day:%y%m%d}-"


def format_number(prefix: str, sequence: int) -> str:
    return f"{prefix}{sequence:04d}"


def normalise(text: str) -> str:
    """A typed or linked number as stored: trimmed, upper-case (``h26`` → ``H26``)."""
    return text.strip().upper() if isinstance(text, str) else ""


def is_dossier_number(text: str) -> bool:
    """A whole dossier number, in the current format or the former one, with a valid day."""
    number = normalise(text)
    match = PATTERN.fullmatch(number) or LEGACY_PATTERN.fullmatch(number)
    return bool(match) and _is_day(match["day"])


def parse(text: str) -> dict | None:
    """The parts of a dossier number (agency or point code, day, sequence, format) or None."""
    number = normalise(text)
    for fmt, pattern in (("circular_01_2018", PATTERN), ("legacy", LEGACY_PATTERN)):
        match = pattern.fullmatch(number)
        if match and _is_day(match["day"]):
            return {"agency": match["agency"], "day": match["day"], "sequence": int(match["seq"]), "format": fmt}
    return None


def _is_day(yymmdd: str) -> bool:
    try:
        date(2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:]))
    except ValueError:
        return False
    return True
