"""Dossier use cases: register, read, list, move through the lifecycle, attach documents.

Each use case is one transaction. Plain values in; models out to the API layer,
which dumps them with the schemas.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from time import monotonic

import filetype
from marshmallow import ValidationError
from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError

from core import outbox, pii
from core.accounts import Principal
from core.errors import DomainError, Forbidden, NotFound, field_error, invalid
from core.extensions import db
from core.messages import Text
from core.roles import Role
from core.settings import settings
from core.timeutil import LOCAL_TZ, as_utc, to_local, utcnow
from core.uow import unit_of_work
from dossiers import catalogue, codes, files, repository, resolutions
from dossiers.deadlines import add_working_days, deadline_for, is_working_day
from dossiers.errors import (
    DocumentRefused,
    DocumentsClosed,
    FileTooLarge,
    IdempotencyKeyReused,
    IllegalTransition,
    NoServicePoint,
    StaleDossier,
    UnsupportedFileType,
)
from dossiers.events import APOLOGISED, STATUS_CHANGED, status_changed
from dossiers.lifecycle import DOCUMENTS_OPEN, REASON_REQUIRED, TERMINAL, allowed_next, may_move
from dossiers.models import DeliveryMethod, Document, Dossier, DossierEvent, Procedure, Status
from dossiers.storage import LocalDocumentStore
from dossiers.validators import normalise_mobile
from geo import service as geo

ACCEPTED_TYPES = {
    "application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png",
    "image/webp": "webp", "image/heic": "heic", "image/heif": "heif",
}
ROUTER_ACTOR = "system:router"


@dataclass(frozen=True)
class Registration:
    dossier: Dossier
    created: bool  # False when an Idempotency-Key replay returned the first result


def owner_of(principal: Principal) -> str:
    """The idempotency namespace: one per organisation key holder or per user."""
    if principal.user_id is not None:
        return f"user:{principal.user_id}"
    return f"org:{principal.organisation_id}"


def fingerprint(data: dict) -> str:
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, default=lambda v: getattr(v, "value", str(v)))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(owner: str, key: str, digest: str) -> Registration | None:
    dossier = repository.dossier_by_idempotency_key(owner, key)
    if dossier is None:
        return None
    if dossier.request_fingerprint != digest:
        raise IdempotencyKeyReused(Text(
            "Khóa này đã được dùng với nội dung khác; hãy dùng khóa mới cho hồ sơ mới.",
            "This key was used with a different body; use a new key for a new dossier.",
        ))
    return Registration(dossier, created=False)


def register(principal: Principal, data: dict, idempotency_key: str) -> Registration:
    """Validate, route, number and store a new dossier, exactly once per Idempotency-Key.

    The happy path asks nothing before writing: the dossier's unique
    (caller, Idempotency-Key) index decides. A duplicate, concurrent or late, fails
    there, its transaction (and the number it took) rolls back, and it replays the
    first dossier, or is refused if its body differs.
    """
    if principal.role is not Role.AGENT or principal.organisation_id is None:
        raise Forbidden(Text("Chỉ đại lý mới tiếp nhận hồ sơ.", "Only agents register dossiers."))
    owner, digest = owner_of(principal), fingerprint(data)
    try:
        location, located = _location(data)
        override = (data.get("outside_hanoi_reason") or "").strip() or None
        inside = geo.require_in_hanoi(location["lat"], location["lon"],
                                      "location" if located is None else "citizen.address",
                                      override_reason=override)
        procedure, point_id, routing = _route(data, location)
        if located is not None:
            routing["location"] = located
        leg = _delivery_leg(data, routing)
        if leg is not None:
            routing["delivery"] = leg
        routing.update(outside_hanoi=not inside, outside_hanoi_reason=None if inside else override)
    except DomainError:
        # A retry of an accepted request replays it even if the catalogue or network moved since.
        replay = _replay(owner, idempotency_key, digest)
        if replay:
            return replay
        raise
    now = utcnow()
    local_day = to_local(now).date()
    unit = routing["chosen"]["service_point_code"]
    actor = _actor(principal, data.get("agent_reference"))
    by_router = routing["chosen_by"] == "router"
    citizen, delivery = data["citizen"], data["delivery"]
    values = {
        "procedure_id": procedure.id, "status": Status.ROUTED,
        "citizen_name": citizen["full_name"], "citizen_id_number": citizen["cccd"],
        "citizen_id_number_hash": pii.blind_index("cccd", citizen["cccd"]),
        "citizen_phone": citizen["phone"], "citizen_phone_hash": pii.blind_index("phone", citizen["phone"]),
        "citizen_email": citizen.get("email"),
        "citizen_address": citizen.get("address"),
        "lat": location["lat"], "lon": location["lon"], "location_source": location["source"],
        "organisation_id": principal.organisation_id, "agent_user_id": principal.user_id,
        "agent_point_id": principal.agent_point_id,
        "agent_reference": data.get("agent_reference"),
        "service_point_id": point_id, "routing": routing,
        "outside_service_radius": routing["outside_service_radius"],
        "delivery_method": delivery["method"], "delivery_address": delivery.get("address"),
        "note": data.get("note"), "fee_vnd": procedure.fee_vnd,
        "received_at": now, "deadline_at": deadline_for(now, procedure.processing_days), "updated_at": now,
        "idempotency_owner": owner, "idempotency_key": idempotency_key, "request_fingerprint": digest,
        "agency_code": codes.agency_code_for(unit),
    }
    events = [
        {"at": now, "actor": actor, "actor_role": principal.role.value, "from_status": None,
         "to_status": Status.RECEIVED.value,
         "reason": _received_reason(routing)},
        {"at": now, "actor": ROUTER_ACTOR if by_router else actor,
         "actor_role": "system" if by_router else principal.role.value,
         "from_status": Status.RECEIVED.value, "to_status": Status.ROUTED.value,
         "reason": _routing_reason(routing)},
    ]
    announcement = status_changed(None, None, Status.ROUTED, delivery["method"], now, principal.role.value)
    try:
        with unit_of_work() as session:
            # The running number is the receiving agency's of the day (Circular 01/2018/TT-VPCP Art. 19).
            dossier_id, number = repository.insert_registration(
                session, codes.counter_key(unit), local_day, codes.number_prefix(unit, local_day), values, events,
                announcement)
    except IntegrityError:  # rolled back with the number it took: the first registration is replayed
        replay = _replay(owner, idempotency_key, digest)
        if replay:
            return replay
        raise
    # The response is built from what was written; nothing is read back.
    dossier = Dossier(id=dossier_id, number=number, version=1, procedure=procedure, documents=[],
                      events=[DossierEvent(dossier_id=dossier_id, **event) for event in events], **values)
    return Registration(dossier, created=True)


def _location(data: dict) -> tuple[dict, dict | None]:
    """The location to route from: the one given (GPS or pin), else the citizen's address located,
    with how it was located (None when given)."""
    if data["location"] is not None:
        return data["location"], None
    found = geo.locate_address(data["citizen"]["address"])
    if found is None:
        raise invalid("citizen.address", "The address could not be located.")
    located = {"source": found.source, "precision": found.precision, "approximate": found.approximate,
               "label": found.label}
    return {"lat": found.lat, "lon": found.lon, "source": "address"}, located


def _delivery_leg(data: dict, routing: dict) -> dict | None:
    """Where the courier takes the result: the receiving point to the delivery address, which prices the
    courier fee (payments.service.delivery_km). An address that names no unit that can be placed offline
    (a street alone) is priced on the distance to the registration location instead, and says so
    (``precision: "registration_location"``): the courier still delivers to the address as written."""
    delivery = data["delivery"]
    if delivery["method"] is not DeliveryMethod.COURIER:
        return None
    leg = geo.delivery_leg(routing["chosen"]["service_point_code"], delivery["address"])
    if leg is None:
        chosen = routing["chosen"]
        return {"distance_km": chosen["distance_km"], "precision": "registration_location", "approximate": True,
                "source": "registration", "label": None, "from_service_point_code": chosen["service_point_code"]}
    return leg


def _route(data: dict, location: dict) -> tuple[Procedure, int, dict]:
    """The procedure, the chosen point's id and the routing decision to store."""
    procedure = catalogue.get_active(data["procedure_code"])
    if procedure is None:
        raise invalid("procedure_code", "Unknown or inactive procedure.")
    lat, lon, level = location["lat"], location["lon"], procedure.level.value
    loads = loads_today()
    decision = geo.route(lat, lon, level, loads)
    if decision.chosen is None:
        raise NoServicePoint(Text(decision.explanation_vi, decision.explanation_en))
    routing = geo.decision_to_dict(decision)
    routing.update(chosen_by="router", choice_reason=None)
    wanted = data.get("service_point_code")
    if not wanted or wanted == decision.chosen.point.code:
        return procedure, decision.chosen.point.id, routing
    option, vi, en = geo.choose_point(lat, lon, level, wanted, loads)
    routing.update(
        chosen=geo.option_to_dict(option), chosen_by="agent",
        choice_reason=data["choice_reason"].strip(),
        outside_service_radius=not option.within,
        explanation_vi=vi, explanation_en=en,
        router_choice=geo.option_to_dict(decision.chosen),
    )
    return procedure, option.point.id, routing


_loads_cache: dict = {"at": 0.0, "day": None, "loads": {}}


def loads_today() -> dict[str, int]:
    """Dossiers received today per service point code, at most a few seconds old.

    Daily capacity is a soft limit: a worker re-reads the counters every few seconds
    rather than on every dossier.
    """
    now, day = monotonic(), to_local(utcnow()).date()
    ttl = settings().routing_loads_ttl_s
    if day != _loads_cache["day"] or now - _loads_cache["at"] >= ttl:
        _loads_cache.update(at=now, day=day, loads=repository.loads_on(day))
    return _loads_cache["loads"]


def routing_outcomes(days: int = 30) -> dict:
    """How many dossiers of the last ``days`` went outside the service radius, per point:
    the demand side of the coverage report."""
    rows = repository.routing_outcomes_since(utcnow() - timedelta(days=days))
    by_point = sorted(
        ({"service_point_code": code, "dossiers": total, "outside_service_radius": int(outside or 0)}
         for code, total, outside in rows),
        key=lambda r: (-r["outside_service_radius"], r["service_point_code"]),
    )
    return {
        "days": days,
        "dossiers": sum(r["dossiers"] for r in by_point),
        "outside_service_radius": sum(r["outside_service_radius"] for r in by_point),
        "by_point": by_point,
    }


def _actor(principal: Principal, agent_reference: str | None) -> str:
    return f"{principal.label} ({agent_reference})" if agent_reference else principal.label


def _routing_reason(routing: dict) -> str:
    text = f"{routing['explanation_vi']} / {routing['explanation_en']}"
    if routing["chosen_by"] == "agent":
        text += f" — đại lý chọn / chosen by the agent: {routing['choice_reason']}"
    return text


def _received_reason(routing: dict) -> str:
    """The first event's reason; an override of the Hanoi boundary is recorded here, under the agent's name."""
    text = "Tiếp nhận hồ sơ qua đại lý / Received by a public-service agent"
    if routing.get("outside_hanoi"):
        text += (" — vị trí ngoài địa bàn Hà Nội, đại lý vẫn tiếp nhận / location outside Hanoi, "
                 f"registered by the agent: {routing['outside_hanoi_reason']}")
    return text


def _scope(principal: Principal) -> Select:
    if principal.role is Role.AGENT:
        return repository.scoped_dossiers(organisation_id=principal.organisation_id)
    if principal.role is Role.BRANCH_OFFICER:
        if principal.branch_lead and principal.service_point_id is not None:
            return repository.scoped_dossiers(service_point_ids=geo.points_under(principal.service_point_id))
        return repository.scoped_dossiers(service_point_id=principal.service_point_id)
    return repository.scoped_dossiers()


def scoped(principal: Principal) -> Select:
    """The caller's dossiers (an agent's organisation, an officer's point, a branch lead's points, all)."""
    return _scope(principal)


def _not_found(number: str) -> NotFound:
    return NotFound(Text(f"Không tìm thấy hồ sơ {number}.", f"Dossier {number} not found."))


def get(principal: Principal, number: str, for_update: bool = False) -> Dossier:
    dossier = repository.dossier_by_number(_scope(principal), codes.normalise(number), for_update)
    if dossier is None:
        raise _not_found(number)
    return dossier


def list_page(principal: Principal, status: Status | None, page: int, page_size: int):
    return repository.page_of_dossiers(_scope(principal), status, page, page_size)


def by_id(dossier_id: int) -> Dossier | None:
    """A dossier by its id, unscoped: for background work that already holds the id."""
    return db.session.get(Dossier, dossier_id)


def receiving_point(dossier: Dossier):
    return geo.point_by_id(dossier.service_point_id)


def query_criteria(query: str) -> dict:
    """What a search box's text is: a CCCD (12 digits), a mobile number, else the start of a dossier number
    (``{"cccd": …}``, ``{"phone": …}``, ``{"number": …}``; empty for blank text)."""
    query = (query or "").strip()
    if not query:
        return {}
    digits = "".join(ch for ch in query if ch.isdigit())
    if len(digits) == 12 and digits == query:
        return {"cccd": query}
    if any(ch.isalpha() for ch in query):  # a dossier number (HN-D002-260310-0001) is never a phone
        return {"number": query.upper()}
    try:
        return {"phone": normalise_mobile(query)}
    except ValidationError:
        return {"number": query.upper()}


def search(principal: Principal, query: str = "", status: Status | None = None,
           day: date | None = None, limit: int = 100) -> list[Dossier]:
    """The caller's dossiers matching a dossier number (or its start), a phone number or a CCCD,
    received on ``day`` (local) when given, newest first."""
    criteria = query_criteria(query)
    if day is not None:
        # The local day's bounds in UTC, as received_at is stored (SQLite keeps the digits as given).
        start = as_utc(datetime.combine(day, time(0), tzinfo=LOCAL_TZ))
        criteria.update(received_from=start, received_to=start + timedelta(days=1))
    return repository.search_dossiers(_scope(principal), status=status, limit=limit, **criteria)


def check_version(dossier: Dossier, expected_version: int | None) -> None:
    """Optimistic locking: refuse an action decided on an older version of the dossier (None: no check)."""
    if expected_version is not None and dossier.version != expected_version:
        raise StaleDossier(
            Text(f"Hồ sơ {dossier.number} vừa được người khác thay đổi (phiên bản {dossier.version}, "
                 f"bạn thấy phiên bản {expected_version}); không có gì được thay đổi.",
                 f"Dossier {dossier.number} was just changed by someone else (version {dossier.version}, "
                 f"you saw version {expected_version}); nothing was changed."),
            current_version=dossier.version, your_version=expected_version,
            current_status=dossier.status.value)


@unit_of_work()
def transition(principal: Principal, number: str, target: Status, reason: str | None,
               expected_version: int | None = None) -> Dossier:
    """Move a dossier (the API's and the branch workspace's one way); ``expected_version``, when given,
    refuses the move with a 409 if the dossier changed since that version (checked under the row lock)."""
    dossier = get(principal, number, for_update=True)
    check_version(dossier, expected_version)
    allowed = allowed_next(dossier.status, dossier.delivery_method)
    if not may_move(principal.role, target):
        raise Forbidden(Text(
            f"Vai trò {principal.role.value} không được chuyển hồ sơ sang {target.value}.",
            f"Role {principal.role.value} may not move a dossier to {target.value}.",
        ))
    if target not in allowed:
        current = dossier.status.value
        raise IllegalTransition(
            Text(f"Không thể chuyển từ {current} sang {target.value}.",
                 f"Cannot move from {current} to {target.value}."),
            current_status=current, requested_status=target.value,
            allowed_transitions=[s.value for s in allowed],
        )
    reason = (reason or "").strip() or None
    if target in REASON_REQUIRED and not reason:
        raise invalid("reason", "A reason is required for this change.")
    _move(dossier, target, reason, principal.label, principal.role.value)
    return dossier


__all__ = ["APOLOGISED", "STATUS_CHANGED"]  # the events other packages subscribe to (``dossiers.events``)


def _move(dossier: Dossier, target: Status, reason: str | None, actor: str, actor_role: str) -> None:
    now = utcnow()
    previous = dossier.status
    dossier.events.append(DossierEvent(at=now, actor=actor, actor_role=actor_role, from_status=previous.value,
                                       to_status=target.value, reason=reason))
    dossier.status = target
    if target in TERMINAL:
        dossier.closed_at = now
    _pause_or_resume(dossier, previous, target, now)
    if target is resolutions.RESOLVED:  # the monitoring's summary row, in this same transaction
        resolutions.record(dossier, now)
    # Whoever listens (the citizen's SMS, the courier) decides in its own package what this move means.
    outbox.publish(STATUS_CHANGED, status_changed(dossier.id, previous, target, dossier.delivery_method, now,
                                                  actor_role))


def _pause_or_resume(dossier: Dossier, previous: Status, target: Status, now: datetime) -> None:
    """A supplement request pauses the deadline; the move out of it resumes it, shifted by the working
    days it waited (``paused_working_days``)."""
    if target is Status.SUPPLEMENT_REQUESTED:
        dossier.paused_at = dossier.paused_at or now
    elif previous is Status.SUPPLEMENT_REQUESTED and dossier.paused_at is not None:
        waited = paused_working_days(dossier.paused_at, now)
        if waited:
            dossier.deadline_at = shift_deadline(dossier.deadline_at, waited)
        dossier.paused_at = None


def paused_working_days(paused_at: datetime, resumed_at: datetime) -> int:
    """Working days a deadline waited: the working days after the day it paused, up to and including the
    day it resumed (Hanoi days). Paused and resumed the same day: 0; Friday to Monday: 1."""
    day, end, count = to_local(paused_at).date(), to_local(resumed_at).date(), 0
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count


def shift_deadline(deadline_at: datetime, working_days: int) -> datetime:
    """The deadline moved ``working_days`` working days later, at the same local time of day."""
    local = to_local(deadline_at)
    day = add_working_days(local.date(), working_days)
    return as_utc(datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=LOCAL_TZ))


def system_transition(dossier_id: int, target: Status, reason: str | None, actor: str) -> Dossier:
    """A move made by the platform itself (the courier's progress), in the caller's transaction.

    Idempotent: a dossier already at ``target`` is left alone, so a repeated event does nothing.
    """
    dossier = repository.dossier_for_update(dossier_id)
    if dossier is None or dossier.status is target:
        return dossier
    if target not in allowed_next(dossier.status, dossier.delivery_method):
        raise IllegalTransition(
            Text(f"Không thể chuyển từ {dossier.status.value} sang {target.value}.",
                 f"Cannot move from {dossier.status.value} to {target.value}."),
            current_status=dossier.status.value, requested_status=target.value,
            allowed_transitions=[s.value for s in allowed_next(dossier.status, dossier.delivery_method)])
    _move(dossier, target, reason, actor, "system")
    return dossier


def switch_to_collection(dossier_id: int) -> None:
    """After the courier gave up: the result waits at the point and the citizen collects it."""
    dossier = repository.dossier_for_update(dossier_id)
    dossier.delivery_method = DeliveryMethod.COLLECT


def add_document(principal: Principal, number: str, kind: str, filename: str, stream) -> Document:
    limit = settings().max_document_bytes
    content = stream.read(limit + 1)
    if not content:
        raise invalid("file", "The file is empty.", location="files")
    if len(content) > limit:
        raise FileTooLarge(Text(f"Tệp vượt quá {limit // (1024 * 1024)} MB.",
                                f"The file is over {limit // (1024 * 1024)} MB."),
                           errors=[_file_error("The file is larger than the limit.")], limit_bytes=limit)
    kind_guess = filetype.guess(content[:8192])
    mime = kind_guess.mime if kind_guess else None
    if mime not in ACCEPTED_TYPES:
        raise UnsupportedFileType(
            Text(f"Nội dung tệp là {mime or 'không xác định'}.", f"The file content is {mime or 'unknown'}."),
            errors=[_file_error("The file type is not accepted: send PDF, JPEG, PNG, WebP or HEIC.")],
        )
    problem = files.problem_with(content, mime, int(settings().max_image_pixels))
    if problem is not None:
        raise DocumentRefused(Text(*problem), errors=[_file_error(problem[1])])
    with unit_of_work():
        return _attach(principal, number, kind, filename, content, mime)


def _attach(principal: Principal, number: str, kind: str, filename: str, content: bytes, mime: str) -> Document:
    dossier = get(principal, number, for_update=True)
    if dossier.status not in DOCUMENTS_OPEN:
        status = dossier.status.value
        raise DocumentsClosed(Text(f"Hồ sơ đang ở trạng thái {status}.", f"The dossier is {status}."),
                              current_status=status)
    digest = hashlib.sha256(content).hexdigest()
    store = LocalDocumentStore(settings().document_storage_dir)
    key = store.put(digest, ACCEPTED_TYPES[mime], content)
    document = Document(
        kind=kind, filename=files.stored_filename(filename, ACCEPTED_TYPES[mime]),
        content_type=mime, size_bytes=len(content), sha256=digest, storage_key=key,
        uploaded_by=principal.label,
    )
    dossier.documents.append(document)
    db.session.flush()
    return document


def document_content(document: Document) -> bytes:
    """A stored document's bytes (the caller found it among a dossier it may see)."""
    return LocalDocumentStore(settings().document_storage_dir).read(document.storage_key)


def _file_error(message: str) -> dict:
    return field_error("file", message, "files")
