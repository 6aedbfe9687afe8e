"""Tracking links and the citizen's page: issued once per channel use, found by the hash of
their token, expiring; what the page shows; the rating given after delivery; a new slot after
a failed delivery.

A link stops working ``TRACKING_LINK_TTL_DAYS`` after its dossier closes (delivered and
closed, collected and closed, cancelled); until then it opens the dossier's page.

``page_for_token`` gathers everything the page shows as plain values (codes, masked personal
data, aware UTC datetimes); the views add the labels in the reader's language. It costs one
query for the link, the dossier, its procedure, its timeline and its rating (only the columns
shown), then the payment's (``payments.public_summary``: one query, three for a paid dossier)
and, for a courier dossier, the shipment's (``courier.delivery_summary``). The service point
comes from a per-process cache.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import monotonic

from sqlalchemy.exc import IntegrityError

from core.extensions import db
from core.masking import mask_phone
from core.messages import Text
from core.settings import public_url, settings
from core.timeutil import as_utc, utcnow
from core.uow import unit_of_work
from core.web import mask_name
from courier import service as courier
from dossiers import service as dossiers
from dossiers.models import DeliveryMethod, Dossier, Status
from payments import service as payments
from tracking import repository
from tracking.errors import FeedbackAlreadyGiven, FeedbackNotOpen, InvalidFeedback
from tracking.models import Feedback, TrackingLink

S = Status
MAX_COMMENT = 1000
POINT_CACHE_S = 300.0  # service points change a few times a year; the admin API is the only writer
# The steps a dossier goes through, in order, by how the result comes back.
PATHS = {
    DeliveryMethod.COURIER: (S.RECEIVED, S.ROUTED, S.ACCEPTED, S.PROCESSING, S.RESULT_READY,
                             S.OUT_FOR_DELIVERY, S.DELIVERED),
    DeliveryMethod.COLLECT: (S.RECEIVED, S.ROUTED, S.ACCEPTED, S.PROCESSING, S.RESULT_READY, S.COLLECTED),
}
STOPPED = (S.REJECTED, S.CANCELLED)
RESULT_RECEIVED = (S.DELIVERED, S.COLLECTED)


# ---------------------------------------------------------------- links

def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()



def issue_link(dossier_id: int, channel: str) -> str:
    """A new link to the dossier's page, in the caller's transaction; the token exists only in the URL."""
    token = secrets.token_urlsafe(16)  # 128 random bits
    db.session.add(TrackingLink(dossier_id=dossier_id, token_hash=token_hash(token), channel=channel))
    db.session.flush()
    return public_url(f"/t/{token}")


@unit_of_work()
def share_link(dossier_id: int, channel: str) -> str:
    """A new link, committed (a page that prints or shows it)."""
    return issue_link(dossier_id, channel)


def _ttl() -> timedelta:
    return timedelta(days=float(settings().tracking_link_ttl_days))


def dossier_for_token(token: str) -> Dossier | None:
    """The dossier a token opens, or None: unknown, malformed, or expired after the dossier closed.

    Unknown and expired are one and the same query finding nothing (see the repository)."""
    if not 16 <= len(token) <= 64:
        return None
    return repository.open_dossier_by_token_hash(token_hash(token), utcnow() - _ttl())


# ---------------------------------------------------------------- the page

@dataclass(frozen=True)
class Snapshot:
    """What the page needs of a dossier: its columns, its procedure, its timeline, its rating."""

    id: int
    number: str
    status: Status
    citizen_name: str
    citizen_phone: str
    received_at: datetime
    deadline_at: datetime
    closed_at: datetime | None
    delivery_method: DeliveryMethod
    service_point_id: int
    procedure: dict
    events: tuple[tuple[str, datetime], ...]  # (to_status, at), in order
    rating: int | None  # the citizen's rating, when given; None when not (or not looked up)
    has_payment: bool | None = None  # None: not known, ask payments
    has_shipment: bool | None = None  # None: not known, ask courier


def _snapshot_of_rows(rows) -> Snapshot:
    head = rows[0]
    return Snapshot(
        id=head.id, number=head.number, status=Status(head.status), citizen_name=head.citizen_name,
        citizen_phone=head.citizen_phone, received_at=head.received_at, deadline_at=head.deadline_at,
        closed_at=head.closed_at, delivery_method=DeliveryMethod(head.delivery_method),
        service_point_id=head.service_point_id,
        procedure={"code": head.procedure_code, "name": head.procedure_name, "name_en": head.procedure_name_en},
        events=tuple((r.event_status, r.event_at) for r in rows if r.event_status is not None),
        rating=head.feedback_rating, has_payment=head.payment_id is not None,
        has_shipment=head.shipment_id is not None)


def _snapshot_of_dossier(dossier: Dossier) -> Snapshot:
    given = repository.feedback_for(dossier.id)
    procedure = dossier.procedure
    return Snapshot(
        id=dossier.id, number=dossier.number, status=dossier.status, citizen_name=dossier.citizen_name,
        citizen_phone=dossier.citizen_phone, received_at=dossier.received_at, deadline_at=dossier.deadline_at,
        closed_at=dossier.closed_at, delivery_method=dossier.delivery_method,
        service_point_id=dossier.service_point_id,
        procedure={"code": procedure.code, "name": procedure.name, "name_en": procedure.name_en},
        events=tuple((e.to_status, e.at) for e in dossier.events),
        rating=given.rating if given else None)


_points: dict[int, tuple[float, dict]] = {}
_points_lock = threading.Lock()


def _service_point(dossier: Dossier | Snapshot) -> dict:
    """The receiving point's public facts, cached per process for ``POINT_CACHE_S`` seconds."""
    now = monotonic()
    hit = _points.get(dossier.service_point_id)
    if hit is not None and hit[0] > now:
        return hit[1]
    point = dossiers.receiving_point(dossier)  # reads only service_point_id
    facts = {"code": point.code, "name": point.name, "address": point.address,
             "opening_hours": point.opening_hours, "lat": point.lat, "lon": point.lon}
    with _points_lock:
        _points[dossier.service_point_id] = (now + POINT_CACHE_S, facts)
    return facts


def _reached(events) -> tuple[dict[Status, datetime], dict[Status, datetime]]:
    """When each status was first and last reached, from the (to_status, at) of the dossier's events."""
    first: dict[Status, datetime] = {}
    last: dict[Status, datetime] = {}
    for to_status, at in events:
        try:
            status = Status(to_status)
        except ValueError:  # pragma: no cover - a status this code does not know
            continue
        at = as_utc(at)
        first.setdefault(status, at)
        last[status] = at
    return first, last


def timeline(dossier: Snapshot, last: dict[Status, datetime], expected: dict[Status, datetime | None]) -> list[dict]:
    """The steps from received to the result in the citizen's hands: passed, current, ahead.

    The path follows the delivery method; a step off the path that did happen (a supplement
    request, a delivery attempt before the courier gave up) is shown in its place. A refused
    or cancelled dossier shows the steps it went through and where it stopped, nothing ahead.
    After a failed delivery the dossier is back at "result ready": the delivery steps are
    ahead again (the delivery block tells the attempt).
    """
    path = PATHS[dossier.delivery_method]
    steps = [s for s in Status if s is not S.CLOSED and (s in path or s in last)]
    stopped = dossier.status in STOPPED or any(s in last for s in STOPPED)
    if stopped:
        steps = [s for s in steps if s in last or s is dossier.status]
    current = dossier.status
    position = len(steps) if current is S.CLOSED or current not in steps else steps.index(current)
    out = []
    for i, step in enumerate(steps):
        state = "done" if i < position else "current" if i == position else "ahead"
        out.append({"code": step.value, "state": state,
                    "at": last.get(step) if state != "ahead" else None,
                    "expected_at": expected.get(step) if state == "ahead" else None})
    return out


def timeliness(dossier: Snapshot, first: dict[Status, datetime], now: datetime) -> dict:
    """On time or late against the deadline: settled once the result was first ready."""
    if dossier.status in STOPPED or any(s in first for s in STOPPED):
        return {"code": None, "final": True, "result_ready_at": None}
    deadline = as_utc(dossier.deadline_at)
    ready = first.get(S.RESULT_READY)
    moment = ready or now
    return {"code": "on_time" if moment <= deadline else "late", "final": ready is not None,
            "result_ready_at": ready}


def _delivery(dossier: Snapshot, last: dict[Status, datetime]) -> dict | None:
    if dossier.has_shipment is False:
        return None
    if dossier.delivery_method is not DeliveryMethod.COURIER and S.OUT_FOR_DELIVERY not in last:
        return None
    summary = courier.delivery_summary(dossier.id)
    if summary is None:
        return None
    proof = summary.get("proof")
    return {
        "status": summary["status"], "status_label": summary.get("status_label"),
        "carrier": summary.get("carrier"), "tracking_number": summary.get("tracking_number"),
        "pickup_at": _utc(summary.get("pickup_at")), "estimated_delivery": _utc(summary.get("estimated_delivery")),
        "attempts": [{"at": _utc(a["at"]), "outcome": a["outcome"], "reason": a.get("reason")}
                     for a in summary.get("attempts") or []],
        "max_attempts": summary.get("max_attempts"),
        "proof": None if not proof else {
            "recipient_name": mask_name(proof.get("recipient_name")), "delivered_at": _utc(proof.get("delivered_at")),
            "signature_ref": proof.get("signature_ref"), "photo_ref": proof.get("photo_ref")},
        "can_reschedule": bool(summary.get("can_reschedule")),
        "slots": [{"start": _utc(s["start"]), "end": _utc(s["end"])} for s in summary.get("slots") or []],
    }


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def _payment(dossier: Snapshot) -> dict | None:
    if dossier.has_payment is False:
        return None
    summary = payments.public_summary(dossier.id)
    if summary is None:
        return None
    return {**summary, "status": str(summary["status"]), "method": str(summary["method"])}  # StrEnum → code


def feedback_open(last: dict[Status, datetime]) -> bool:
    return any(s in last for s in RESULT_RECEIVED)


def page_for_token(token: str, now: datetime | None = None) -> dict | None:
    """Everything the tracking page shows, as plain values; None for an unknown or expired token.

    The dossier, its procedure, timeline and rating come in one query (tracking.repository.page_rows).
    Only reads: when the request has not touched the database yet, they run in autocommit, so a
    view is its queries and nothing else (no BEGIN, no ROLLBACK when the session closes; and
    psycopg keeps its prepared statements, which a ROLLBACK would clear)."""
    if not 16 <= len(token) <= 64:
        return None
    if not db.session().in_transaction():
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    rows = repository.page_rows(token_hash(token), utcnow() - _ttl())
    if not rows:
        return None
    return _page(_snapshot_of_rows(rows), now)


def page_for(dossier: Dossier, now: datetime | None = None) -> dict:
    """The page of a dossier already loaded (after a form was posted)."""
    return _page(_snapshot_of_dossier(dossier), now)


def _page(dossier: Snapshot, now: datetime | None) -> dict:
    now = now or utcnow()
    first, last = _reached(dossier.events)
    delivery = _delivery(dossier, last)
    expected = {S.RESULT_READY: as_utc(dossier.deadline_at),
                S.DELIVERED: delivery["estimated_delivery"] if delivery else None}
    open_ = feedback_open(last)
    return {
        "dossier_id": dossier.id,
        "number": dossier.number,
        "procedure": dossier.procedure,
        "status": dossier.status.value,
        "citizen": {"name": mask_name(dossier.citizen_name), "phone": mask_phone(dossier.citizen_phone)},
        "received_at": as_utc(dossier.received_at),
        "deadline_at": as_utc(dossier.deadline_at),
        "closed_at": _utc(dossier.closed_at),
        "timeliness": timeliness(dossier, first, now),
        "delivery_method": dossier.delivery_method.value,
        "timeline": timeline(dossier, last, expected),
        "service_point": _service_point(dossier),
        "payment": _payment(dossier),
        "delivery": delivery,
        "feedback": {"open": open_, "given": dossier.rating is not None, "rating": dossier.rating},
    }


# ---------------------------------------------------------------- what the citizen does

def give_feedback(dossier_id: int, rating: int, comment: str | None) -> Feedback:
    """The citizen's rating, once, after the result was delivered or collected. Commits."""
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidFeedback(Text("Hãy chọn từ 1 đến 5 sao.", "Choose from 1 to 5 stars."))
    comment = (comment or "").strip() or None
    if comment is not None and len(comment) > MAX_COMMENT:
        raise InvalidFeedback(Text(f"Nhận xét tối đa {MAX_COMMENT} ký tự.",
                                   f"A comment may have at most {MAX_COMMENT} characters."))
    dossier = dossiers.by_id(dossier_id)
    _, last = _reached((e.to_status, e.at) for e in dossier.events)
    if not feedback_open(last):
        raise FeedbackNotOpen(Text("Bạn có thể đánh giá sau khi nhận được kết quả.",
                                   "You can rate the service once you have received the result."))
    already = FeedbackAlreadyGiven(Text("Cảm ơn bạn! Hồ sơ này đã được đánh giá; mỗi hồ sơ chỉ đánh giá một lần.",
                                        "Thank you! This dossier has already been rated; each dossier is rated once."))
    if repository.feedback_for(dossier_id) is not None:
        raise already
    feedback = Feedback(dossier_id=dossier_id, rating=rating, comment=comment)
    try:
        with unit_of_work() as session:
            session.add(feedback)
    except IntegrityError:  # a second submission at the same moment: the unique dossier_id decides
        raise already from None
    return feedback


def reschedule(dossier_id: int, phone_last4: str, slot_start: datetime) -> None:
    """A new delivery slot after a failed attempt; the courier checks the digits and the slot. Commits."""
    courier.reschedule(dossier_id, phone_last4, slot_start)
