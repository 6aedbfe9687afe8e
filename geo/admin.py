"""Managing the service-point network (administrators): create, edit, close, reopen, CSV export.

One transaction each. Every change bumps the service-points reference version in the same
transaction (``core.versions``), as ``geo.points_import`` does, so opening, closing or moving
a point takes effect on the next request in every worker. A call that changes nothing does
not bump.

Input is typed (what ``geo.admin_schemas`` loads: floats, dates, lists); the rules are checked
here again so that every caller, not only the API, gets them: coordinates in Vietnam, valid
opening hours (stored in canonical form), levels a non-empty subset of province/district/
commune, capacity of at least 1, the code's pattern and uniqueness (409), active_to not
before active_from.

``active_to`` is the last day a point is open (``ServicePoint.is_active_on``): closing a point
"on" a day sets ``active_to`` to the day before, so closing on today takes effect at once.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any, NoReturn

from marshmallow import ValidationError, validate
from sqlalchemy.exc import IntegrityError

from core import versions
from core.errors import Conflict, InvalidInput, field_error, invalid
from core.extensions import db
from core.messages import Text
from core.uow import unit_of_work
from geo import repository
from geo.hours import MAX_LENGTH as HOURS_MAX_LENGTH
from geo.hours import OpeningHoursError, parse_hours
from geo.models import CoordPrecision, ServicePoint, Tier
from geo.points_import import LEVELS, TIER_DEFAULTS, PointsReport, import_points_csv
from geo.service import get_point
from geo.territory import in_vietnam

log = logging.getLogger(__name__)

CODE_PATTERN = r"^[A-Z0-9][A-Z0-9\-]{2,31}$"
DEFAULT_COORD_SOURCE = "entered by an administrator"
# PATCH may change these; closing and reopening (active_to) go through close/reopen, which
# require and log a reason. The code never changes: dossier numbers are built on it.
EDITABLE = ("tier", "name", "address", "unit_code", "lat", "lon", "coord_source", "coord_precision",
            "source_url", "opening_hours", "levels", "daily_capacity", "active_from")
CREATE_FIELDS = ("code", *EDITABLE, "active_to")
REQUIRED = ("code", "tier", "name", "address", "lat", "lon")
NULLABLE = ("unit_code", "source_url", "active_from", "active_to")
# The import format (geo.points_import), every column filled in.
EXPORT_COLUMNS = ("code", "tier", "name", "address", "unit_code", "lat", "lon", "coord_source",
                  "coord_precision", "source_url", "opening_hours", "levels", "daily_capacity", "active_from",
                  "active_to")

# New English messages (their Vietnamese is in core.messages).
DUPLICATE_CODE = "This code is already used by another service point."
TO_BEFORE_FROM = "Must be on or after active_from."
FROM_AFTER_TO = "Must be on or before active_to."
CLOSE_BEFORE_FROM = "Must be after active_from."
NOT_UTF8 = "The file must be UTF-8 encoded CSV."

_LENGTHS = {"name": (3, 200), "address": (3, 400), "unit_code": (1, 16), "coord_source": (1, 400),
            "source_url": (1, 500)}


class _Bad(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- use cases ---------------------------------------------------------------------------

@unit_of_work()
def create_point(data: dict, *, actor: str | None = None) -> ServicePoint:
    """A new point; opening hours, levels and capacity default to its tier's."""
    data = {k: v for k, v in data.items() if v is not None}
    _reject_unknown(data, CREATE_FIELDS)
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        _fail([field_error(k, "Missing data for required field.") for k in missing])
    values = _clean(data, data.keys())
    defaults = TIER_DEFAULTS[values["tier"]]
    values = {"unit_code": None, "coord_source": DEFAULT_COORD_SOURCE,
              "coord_precision": CoordPrecision.UNKNOWN, "source_url": None, "active_from": None,
              "active_to": None, "opening_hours": defaults["opening_hours"],
              "levels": list(defaults["levels"]), "daily_capacity": defaults["daily_capacity"], **values}
    if repository.by_code(values["code"]) is not None:
        _duplicate(values["code"])
    point = ServicePoint(**values)
    db.session.add(point)
    versions.bump(versions.SERVICE_POINTS)
    try:
        db.session.flush()
    except IntegrityError:  # created meanwhile by another request (the unit of work rolls back)
        _duplicate(values["code"])
    log.info("service point %s created by %s", point.code, actor or "-")
    return point


@unit_of_work()
def update_point(code: str, changes: dict, *, actor: str | None = None) -> ServicePoint:
    """Change some fields; moving a point is changing lat and/or lon."""
    _reject_unknown(changes, EDITABLE)
    point = get_point(code)
    current = {k: getattr(point, k) for k in CREATE_FIELDS}
    values = _clean({**current, **changes}, changes.keys())
    diff = {k: values[k] for k in changes if values[k] != current[k]}
    if not diff:
        return point
    for key, value in diff.items():
        setattr(point, key, value)
    versions.bump(versions.SERVICE_POINTS)
    log.info("service point %s changed by %s: %s", code, actor or "-", ", ".join(diff))
    return point


@unit_of_work()
def close_point(code: str, on: date, reason: str, *, actor: str | None = None) -> ServicePoint:
    """Closed from ``on`` (included): ``active_to`` becomes the day before. The reason goes to the log."""
    reason = " ".join((reason or "").split()) if isinstance(reason, str) else ""
    if not reason:
        raise invalid("reason", "A reason is required for this change.")
    if not isinstance(on, date) or isinstance(on, datetime):
        raise invalid("on", "Not a valid date.")
    point = get_point(code)
    if point.active_from is not None and on <= point.active_from:
        raise invalid("on", CLOSE_BEFORE_FROM)
    last_day = on - timedelta(days=1)
    if point.active_to != last_day:
        point.active_to = last_day
        versions.bump(versions.SERVICE_POINTS)
    log.info("service point %s closed from %s by %s; reason: %s", code, on.isoformat(), actor or "-", reason)
    return point


@unit_of_work()
def reopen_point(code: str, *, actor: str | None = None) -> ServicePoint:
    """Open again with no end date (a point not closed is left as it is)."""
    point = get_point(code)
    if point.active_to is None:
        return point
    last_day = point.active_to
    point.active_to = None
    versions.bump(versions.SERVICE_POINTS)
    log.info("service point %s reopened by %s (its last open day was %s)", code, actor or "-", last_day)
    return point


def export_points_csv() -> str:
    """Every point, by code, in the import format: ``import_points_csv`` of it changes nothing."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for p in repository.list_points():
        writer.writerow([
            p.code, p.tier.value, p.name, p.address, p.unit_code or "", repr(float(p.lat)),
            repr(float(p.lon)), p.coord_source, p.coord_precision.value, p.source_url or "", p.opening_hours,
            "|".join(p.levels), p.daily_capacity,
            p.active_from.isoformat() if p.active_from else "",
            p.active_to.isoformat() if p.active_to else "",
        ])
    return out.getvalue()


def import_points(content: bytes, *, actor: str | None = None) -> PointsReport:
    """An uploaded CSV file through ``geo.points_import`` (accepted rows are kept)."""
    if not content:
        raise invalid("file", "The file is empty.", location="files")
    try:
        text = content.decode("utf-8")  # a leading BOM (Excel's "CSV UTF-8") is dropped by the import
    except UnicodeDecodeError:
        raise invalid("file", NOT_UTF8, location="files") from None
    report = import_points_csv(text)
    log.info("service points imported by %s: %d created, %d updated, %d rejected",
             actor or "-", report.created, report.updated, len(report.rejected))
    return report


# --- checks ------------------------------------------------------------------------------

def _reject_unknown(data: dict, allowed: Iterable[str]) -> None:
    unknown = [k for k in data if k not in allowed]
    if unknown:
        _fail([field_error(str(k), "Unknown field.") for k in unknown])


def _duplicate(code: str) -> NoReturn:
    raise Conflict(
        Text(f"Mã {code} đã được dùng cho một điểm phục vụ khác.",
             f"The code {code} is already used by another service point."),
        errors=[field_error("code", DUPLICATE_CODE)],
    )


def _fail(errors: list[dict]) -> NoReturn:
    if len(errors) == 1:
        e = errors[0]
        detail = Text(f"{e['field']}: {e['message_vi']}", f"{e['field']}: {e['message_en']}")
    else:
        names = ", ".join(dict.fromkeys(e["field"] for e in errors))
        detail = Text(f"Kiểm tra lại các trường: {names}.", f"Check these fields: {names}.")
    raise InvalidInput(detail, errors=errors)


def _clean(values: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """Normalise and check ``keys`` of ``values`` (plus the rules joining fields that involve
    them); one 422 lists every bad field."""
    keys = set(keys)
    out = dict(values)
    errors: list[dict] = []
    for key in sorted(keys, key=CREATE_FIELDS.index):
        value = values.get(key)
        try:
            if value is None:
                if key not in NULLABLE:
                    raise _Bad("Field may not be null.")
                continue
            out[key] = _CLEANERS[key](key, value)
        except _Bad as exc:
            errors.append(field_error(key, exc.message))
    bad = {e["field"] for e in errors}
    if keys & {"lat", "lon"} and not bad & {"lat", "lon"} and not in_vietnam(out["lat"], out["lon"]):
        errors.append(field_error("lat", "The location is not in Vietnam."))
    start, end = out.get("active_from"), out.get("active_to")
    if keys & {"active_from", "active_to"} and not bad & {"active_from", "active_to"} \
            and start is not None and end is not None and end < start:
        errors.append(field_error("active_to", TO_BEFORE_FROM) if "active_to" in keys
                      else field_error("active_from", FROM_AFTER_TO))
    if errors:
        _fail(errors)
    return out


def _code(_key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _Bad("Not a valid string.")
    if not re.fullmatch(CODE_PATTERN, value):
        raise _Bad("String does not match expected pattern.")
    return value


def _tier(_key: str, value: Any) -> Tier:
    try:
        return Tier(value)
    except ValueError:
        raise _Bad(f"Must be one of: {', '.join(t.value for t in Tier)}.") from None


def _text(key: str, value: Any) -> str | None:
    if not isinstance(value, str):
        raise _Bad("Not a valid string.")
    value = " ".join(value.split()) if key in ("name", "address") else value.strip()
    low, high = _LENGTHS[key]
    if not value and key in NULLABLE:
        return None
    if not value:
        raise _Bad("Must not be blank.")
    if len(value) < low:
        raise _Bad(f"Shorter than minimum length {low}.")
    if len(value) > high:
        raise _Bad(f"Longer than maximum length {high}.")
    return value


def _precision(_key: str, value: Any) -> CoordPrecision:
    try:
        return CoordPrecision(value)
    except ValueError:
        raise _Bad(f"Must be one of: {', '.join(p.value for p in CoordPrecision)}.") from None


_HTTP_URL = validate.URL(schemes={"http", "https"}, error="Not a valid URL.")  # as the import's schema


def _url(key: str, value: Any) -> str | None:
    value = _text(key, value)
    if value is not None:
        try:
            _HTTP_URL(value)
        except ValidationError:
            raise _Bad("Not a valid URL.") from None
    return value


def _coordinate(_key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Bad("Not a valid number.")
    if not math.isfinite(value):
        raise _Bad("Special numeric values (nan or infinity) are not permitted.")
    return float(value)


def _hours(_key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _Bad("Not a valid string.")
    try:
        canonical = str(parse_hours(value))
    except OpeningHoursError as exc:
        raise _Bad(exc.reason) from None
    if len(canonical) > HOURS_MAX_LENGTH:
        raise _Bad(f"Longer than maximum length {HOURS_MAX_LENGTH}.")
    return canonical


def _levels(_key: str, value: Any) -> list[str]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise _Bad("Not a valid list.")
    if not value:
        raise _Bad("Shorter than minimum length 1.")
    if any(level not in LEVELS for level in value):
        raise _Bad(f"Must be one of: {', '.join(LEVELS)}.")
    return [level for level in LEVELS if level in value]  # no duplicates, in the usual order


def _capacity(_key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad("Not a valid integer.")
    if value < 1:
        raise _Bad("Must be greater than or equal to 1.")
    return value


def _date(_key: str, value: Any) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise _Bad("Not a valid date.")
    return value


_CLEANERS = {
    "code": _code, "tier": _tier, "name": _text, "address": _text, "unit_code": _text,
    "lat": _coordinate, "lon": _coordinate, "coord_source": _text, "coord_precision": _precision,
    "source_url": _url, "opening_hours": _hours,
    "levels": _levels, "daily_capacity": _capacity, "active_from": _date, "active_to": _date,
}
