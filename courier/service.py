"""Courier use cases: book a shipment when a result is ready, follow it, retry, give up, show it.

The flow, all through the outbox (``courier/jobs.py``), every handler checking state first:

1. ``dossiers.status_changed`` (result ready: ``wants_shipment``) → ``on_result_ready`` (``courier/booking.py``):
   one shipment per dossier (``pending``) with
   attempt 1 at the point's next pickup window and a ``courier.poll`` due at the window's start,
   committed together (with the idempotency key the carrier will see); then ``book`` calls the
   carrier: create the shipment, schedule the pickup. A carrier that is down makes the handler
   fail and the outbox retry it with the same keys.
2. ``courier.poll`` → ``poll``: the carrier's events (``get_tracking``) → ``apply_events``, the
   path webhooks take too (``handle_webhook``). Each event is recorded once; an attempt only
   moves forward; the dossier follows (out for delivery, delivered with proof, back to
   result-ready after a failed attempt). While the shipment is active the next poll is written
   to the database: every ``COURIER_POLL_INTERVAL_S`` for a carrier that does not push, or after
   ``COURIER_POLL_FALLBACK_MIN`` without news for one that does.
3. A failed attempt records its reason and publishes ``courier.attempt_failed`` (the citizen's SMS
   subscribes to it in ``notify``); the next attempt is booked on the next working day's first window,
   unless the citizen picks another offered slot on the tracking page (``reschedule``, after
   the last 4 digits of the phone). After ``COURIER_MAX_ATTEMPTS`` failed attempts the result
   stays at the point: the shipment is ``returned_to_branch``, the dossier switches to
   collection and ``courier.returned_to_branch`` is published (with the last reason).

The booking starts from ``dossiers.status_changed``: ``courier/jobs.py`` subscribes to it (``wants_shipment``).
"""

from __future__ import annotations

import hmac
import logging
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from core import outbox
from core.accounts import Principal
from core.calendar import is_working_day
from core.errors import Conflict, NotFound
from core.extensions import db
from core.messages import Text
from core.plural import count
from core.timeutil import LOCAL_TZ, as_utc
from core.uow import commit_point, unit_of_work
from courier import clock, repository, windows
from courier.adapters import adapter, wire
from courier.adapters.base import (
    ATTEMPT_FINAL,
    RANK,
    REASON_NO_RECIPIENT,
    REASON_UNREACHABLE,
    REASON_WRONG_ADDRESS,
    SHIPMENT_FINAL,
    ShipmentStatus,
    TrackingEvent,
    WebhookError,
)
from courier.booking import (  # noqa: F401 - booking's use cases are the package's too
    book,
    book_later,
    cancel_pickup,
    config,
    lead_time,
    new_attempt,
    next_pickup,
    offered_slots,
    on_result_ready,
    point_windows,
    schedule_poll,
    wants_shipment,
)
from courier.errors import BadSignature, NothingToReschedule, PhoneDigitsMismatch, SlotNotOffered, TooManyTries
from courier.labels import reason_label, shipment_label
from courier.models import DeliveryAttempt, PhoneCheckFailure, RescheduleRequest, Shipment, ShipmentEvent
from dossiers import service as dossiers
from dossiers.models import Dossier, Status

log = logging.getLogger(__name__)

# What this package tells the others (the citizen's SMS subscribes to both in notify/).
ATTEMPT_FAILED = outbox.declare_event("courier.attempt_failed")
RETURNED_TO_BRANCH = outbox.declare_event("courier.returned_to_branch")

S = ShipmentStatus
ACTOR = "system:courier"
# Unaccented words for an SMS when the carrier gave a code but no words.
REASON_WORDS = {REASON_NO_RECIPIENT: "khong co nguoi nhan", REASON_WRONG_ADDRESS: "sai dia chi",
                REASON_UNREACHABLE: "khong lien lac duoc"}


# ------------------------------------------------------------------ following the shipment

@unit_of_work()
def poll(shipment_id: int, due: str | None = None) -> int:
    """Handler of ``courier.poll``: ask the carrier, apply what is new, write the next poll.

    Returns how many new events were recorded. A poll that is not the shipment's live one
    (``due`` differs from ``next_poll_at``) does nothing.
    """
    shipment = repository.shipment(shipment_id)
    if shipment is None or shipment.status in SHIPMENT_FINAL or shipment.next_poll_at is None:
        return 0
    live = as_utc(shipment.next_poll_at)
    if due is not None and datetime.fromisoformat(due) != live:
        return 0
    current = repository.attempt(shipment.id, shipment.attempts)
    if shipment.tracking_number is None or (current.status is S.PENDING and current.pickup_confirmation is None):
        book(shipment_id)  # booking failed earlier: now, or the outbox retries this poll
        shipment = repository.shipment(shipment_id)
        current = repository.attempt(shipment.id, shipment.attempts)
    now = clock.now()
    courier = adapter()
    fallback = timedelta(minutes=float(config("COURIER_POLL_FALLBACK_MIN")))
    if courier.pushes_webhooks:
        quiet_since = max(as_utc(current.pickup_start), as_utc(shipment.last_news_at or current.pickup_start))
        if now < quiet_since + fallback:  # webhooks keep us informed; poll only after a silence
            _reschedule(shipment_id, live, quiet_since + fallback)
            return 0
    tracking_number = shipment.tracking_number
    commit_point("courier.before_carrier_call")
    recorded = apply_events(shipment_id, courier.get_tracking(tracking_number), "poll")
    interval = fallback if courier.pushes_webhooks else timedelta(seconds=float(config("COURIER_POLL_INTERVAL_S")))
    _reschedule(shipment_id, live, now + interval)
    return recorded


@unit_of_work()
def _reschedule(shipment_id: int, live: datetime, due: datetime) -> None:
    """The next poll, unless applying events already moved (or ended) the schedule."""
    due = max(as_utc(due), live + timedelta(seconds=1))  # never the poll that is running now
    shipment = repository.shipment(shipment_id, for_update=True)
    if shipment.status not in SHIPMENT_FINAL and shipment.next_poll_at is not None \
            and as_utc(shipment.next_poll_at) == live:
        current = repository.attempt(shipment.id, shipment.attempts)
        if current.status is S.PENDING and as_utc(current.pickup_start) > due:
            due = as_utc(current.pickup_start)  # nothing happens before the pickup
        schedule_poll(shipment, due)


def handle_webhook(headers: Mapping[str, str], raw_body: bytes) -> dict:
    """A carrier's push: verified by the adapter, then the same path as polling."""
    courier = adapter()
    try:
        events = courier.parse_webhook(headers, raw_body)
    except WebhookError as exc:
        log.warning("courier webhook refused: %s", exc)
        raise BadSignature(Text("Chữ ký X-Courier-Signature không khớp, đã quá hạn, hoặc nội dung không hợp lệ.",
                                "The X-Courier-Signature does not verify, is stale, or the body is invalid.")) from exc
    by_tracking: dict[str, list[TrackingEvent]] = defaultdict(list)
    for event in events:
        by_tracking[event.tracking_number].append(event)
    recorded = 0
    for tracking_number, batch in by_tracking.items():
        shipment = repository.shipment_by_tracking(courier.name, tracking_number)
        if shipment is None:
            log.warning("courier webhook for an unknown tracking number %s: ignored", tracking_number)
            continue
        recorded += apply_events(shipment.id, batch, "webhook")
    return {"events": len(events), "recorded": recorded}


def apply_events(shipment_id: int, events: Iterable[TrackingEvent], source: str) -> int:
    """Record the events not seen before and move the shipment and the dossier; returns how many were new."""
    events = list(events)
    try:
        with unit_of_work(savepoint=True):  # a savepoint when the caller (a poll) is a unit already
            return _apply(shipment_id, events, source)
    except IntegrityError:  # a concurrent delivery recorded some of them first (rolled back): the rest, again
        with unit_of_work(savepoint=True):
            return _apply(shipment_id, events, source)


def _apply(shipment_id: int, events: list[TrackingEvent], source: str) -> int:
    shipment = repository.shipment(shipment_id, for_update=True)
    if shipment is None:
        return 0
    known = repository.known_event_ids(shipment.carrier, [event.event_id for event in events])
    fresh = {event.event_id: event for event in events if event.event_id not in known}
    now = clock.now()
    for event in sorted(fresh.values(), key=lambda e: (as_utc(e.occurred_at), RANK[e.status])):
        db.session.add(ShipmentEvent(
            shipment_id=shipment.id, carrier=shipment.carrier, external_id=event.event_id, status=event.status,
            attempt=event.attempt, occurred_at=as_utc(event.occurred_at), reason=event.reason,
            payload=_payload(event), source=source, received_at=now))
        _advance(shipment, event, now)
    if fresh:
        shipment.last_news_at = shipment.updated_at = now
    db.session.flush()
    return len(fresh)


def _payload(event: TrackingEvent) -> dict:
    return dict(event.raw) if event.raw else wire.event_to_json(event)


def _advance(shipment: Shipment, event: TrackingEvent, now: datetime) -> None:
    """What one new event means: an attempt moves forward only; the dossier follows."""
    if shipment.status in SHIPMENT_FINAL:
        return
    if event.status is S.RETURNED_TO_BRANCH:  # the carrier gave up on its own
        _give_up(shipment, event.reason, event.reason_code)
        return
    number = event.attempt or shipment.attempts
    attempt = repository.attempt(shipment.id, shipment.attempts)
    if number != shipment.attempts or attempt.status in ATTEMPT_FINAL or RANK[event.status] <= RANK[attempt.status]:
        return  # an earlier attempt's news, a repeat of a step, or a step back
    attempt.status = shipment.status = event.status
    if event.estimated_delivery:
        shipment.estimated_delivery = as_utc(event.estimated_delivery)
    label = f"{shipment.carrier} {shipment.tracking_number}"
    on_the_way = (f"Đang giao kết quả (lần {attempt.number}, {label}) / "
                  f"Out for delivery (attempt {attempt.number})")
    if event.status is S.OUT_FOR_DELIVERY:
        _move_dossier(shipment.dossier_id, Status.OUT_FOR_DELIVERY, on_the_way)
    elif event.status is S.DELIVERED:
        attempt.outcome_at = as_utc(event.occurred_at)
        shipment.recipient_name = (event.recipient_name or "")[:200] or None
        shipment.delivered_at = as_utc(event.occurred_at)
        shipment.signature_ref, shipment.photo_ref = event.signature_ref, event.photo_ref
        shipment.next_poll_at = None
        _move_dossier(shipment.dossier_id, Status.OUT_FOR_DELIVERY, on_the_way)
        _move_dossier(shipment.dossier_id, Status.DELIVERED,
                      f"Đã giao cho {shipment.recipient_name or '—'} ({label}) / Delivered")
    elif event.status is S.DELIVERY_FAILED:
        _failed(shipment, attempt, event, now)


def _failed(shipment: Shipment, attempt: DeliveryAttempt, event: TrackingEvent, now: datetime) -> None:
    attempt.outcome_at = as_utc(event.occurred_at)
    attempt.reason, attempt.reason_code = (event.reason or "")[:300] or None, event.reason_code
    words = event.reason or REASON_WORDS.get(event.reason_code or "", "")
    _move_dossier(shipment.dossier_id, Status.RESULT_READY,
                  f"Giao không thành công lần {attempt.number}: {words or '—'} / "
                  f"Delivery attempt {attempt.number} failed: {words or '—'}")
    if attempt.number >= shipment.max_attempts:
        _give_up(shipment, event.reason, event.reason_code)
        return
    # The next attempt: the first window of the next working day (the citizen may choose another).
    failed_day = as_utc(event.occurred_at).astimezone(LOCAL_TZ).date()
    after = max(now, as_utc(event.occurred_at))
    slot = next_pickup(shipment.service_point_id, after, from_day=windows.next_working_day(failed_day, is_working_day))
    nxt = new_attempt(shipment, attempt.number + 1, slot, "system")
    db.session.flush()
    schedule_poll(shipment, slot.start)
    book_later(shipment, nxt)
    outbox.publish(ATTEMPT_FAILED,
                   {"dossier_id": shipment.dossier_id, "reason": words or None, "reason_code": event.reason_code,
                    "attempt": attempt.number, "slot": slot.start.isoformat()},
                   dedupe_key=f"{shipment.dossier_id}:{attempt.number}")


def _give_up(shipment: Shipment, reason: str | None, reason_code: str | None) -> None:
    """No more attempts: the result stays at the point and the citizen collects it."""
    shipment.status, shipment.next_poll_at = S.RETURNED_TO_BRANCH, None
    _move_dossier(shipment.dossier_id, Status.RESULT_READY,
                  "Đơn vị chuyển phát trả kết quả về điểm phục vụ / The courier returned the result")
    dossiers.switch_to_collection(shipment.dossier_id)
    outbox.publish(RETURNED_TO_BRANCH,
                   {"dossier_id": shipment.dossier_id,
                    "reason": reason or REASON_WORDS.get(reason_code or "") or None, "reason_code": reason_code,
                    "attempts": shipment.attempts},
                   dedupe_key=str(shipment.dossier_id))


# Which dossier status each move starts from (anything else: the dossier moved on; leave it).
_MOVES_FROM = {Status.OUT_FOR_DELIVERY: Status.RESULT_READY, Status.DELIVERED: Status.OUT_FOR_DELIVERY,
               Status.RESULT_READY: Status.OUT_FOR_DELIVERY}


def _move_dossier(dossier_id: int, target: Status, reason: str) -> None:
    dossier = dossiers.by_id(dossier_id)
    if dossier is None or dossier.status is target:
        return
    if dossier.status is not _MOVES_FROM[target]:
        log.warning("dossier %s is %s: the courier leaves it there (wanted %s)", dossier_id, dossier.status, target)
        return
    try:
        dossiers.system_transition(dossier_id, target, reason, ACTOR)
    except Conflict:
        log.warning("dossier %s refused %s", dossier_id, target)


# ------------------------------------------------------------------ the citizen's side

def shipment_id_column(dossier_id):
    """For another package's read query: the shipment id of the dossier whose id is the column
    ``dossier_id`` (NULL without one), inside that query (courier.repository.shipment_id_of)."""
    return repository.shipment_id_of(dossier_id)


def _reschedulable(shipment: Shipment | None, now: datetime) -> DeliveryAttempt | None:
    """The next attempt, when the citizen may still move it: after a failed attempt, before its pickup."""
    if shipment is None or shipment.status in SHIPMENT_FINAL or shipment.attempts < 2:
        return None
    attempt = repository.attempt(shipment.id, shipment.attempts)
    if attempt is None or attempt.status is not S.PENDING or as_utc(attempt.pickup_start) <= now + lead_time():
        return None
    return attempt


def delivery_summary(dossier_id: int) -> dict | None:
    """The delivery as the citizen's tracking page shows it; None when the dossier has no shipment."""
    shipment = repository.shipment_of_dossier(dossier_id)
    if shipment is None:
        return None
    now = clock.now()
    attempts = [{"at": as_utc(a.outcome_at), "outcome": "delivered" if a.status is S.DELIVERED else "failed",
                 "reason": None if a.status is S.DELIVERED else reason_label(a.reason_code, a.reason)}
                for a in shipment.attempt_rows if a.status in ATTEMPT_FINAL and a.outcome_at is not None]
    proof = None
    if shipment.delivered_at is not None:
        proof = {"recipient_name": shipment.recipient_name or "", "delivered_at": as_utc(shipment.delivered_at),
                 "signature_ref": shipment.signature_ref, "photo_ref": shipment.photo_ref}
    can = _reschedulable(shipment, now) is not None
    slots = [{"start": slot.start, "end": slot.end} for slot in offered_slots(shipment, now)] if can else []
    return {
        "status": shipment.status.value,
        "status_label": shipment_label(shipment.status),
        "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
        "pickup_at": _utc(shipment.pickup_at),
        "estimated_delivery": _utc(shipment.estimated_delivery),
        "attempts": attempts,
        "max_attempts": shipment.max_attempts,
        "proof": proof,
        "can_reschedule": can and bool(slots),
        "slots": slots,
    }


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def _last4(phone: str) -> str:
    return re.sub(r"\D", "", phone or "")[-4:]


def reschedule(dossier_id: int, phone_last4: str, slot_start: datetime) -> None:
    """The citizen moves the next attempt to an offered slot, after the last 4 digits of the phone.

    ``COURIER_PHONE_MAX_TRIES`` wrong tries within ``COURIER_PHONE_LOCK_MIN`` minutes lock it
    until the oldest of them is that old. A wrong try is recorded, then refused.
    """
    with unit_of_work():
        refused = _reschedule_attempt(dossier_id, phone_last4, slot_start)
    if refused is not None:
        raise refused


def _reschedule_attempt(dossier_id: int, phone_last4: str, slot_start: datetime) -> Exception | None:
    """The move, or the refusal to raise once the wrong try is committed (other refusals are raised at once)."""
    now = clock.now()
    dossier: Dossier | None = dossiers.by_id(dossier_id)
    if dossier is None:
        raise NotFound(Text("Không tìm thấy hồ sơ.", "Dossier not found."))
    max_tries = int(config("COURIER_PHONE_MAX_TRIES"))
    lock = timedelta(minutes=float(config("COURIER_PHONE_LOCK_MIN")))
    failures, oldest = repository.phone_failures_since(dossier_id, now - lock)
    if failures >= max_tries:
        raise _locked(as_utc(oldest) + lock, now)
    given = re.sub(r"\D", "", phone_last4 or "")
    if not hmac.compare_digest(given.encode(), _last4(dossier.citizen_phone).encode()) or len(given) != 4:
        db.session.add(PhoneCheckFailure(dossier_id=dossier_id, at=now))
        if failures + 1 >= max_tries:
            return _locked(as_utc(oldest or now) + lock, now)
        left = max_tries - failures - 1
        tries = count(left, "try", "tries")
        return PhoneDigitsMismatch(Text(f"4 số cuối của số điện thoại không đúng. Còn {left} lần thử.",
                                       f"The last 4 digits of the phone number do not match. {tries} left."),
                                  tries_left=left)
    shipment = repository.shipment_of_dossier(dossier_id)
    shipment = repository.shipment(shipment.id, for_update=True) if shipment else None
    attempt = _reschedulable(shipment, now)
    if attempt is None:
        raise NothingToReschedule(Text("Không có lần giao nào đang chờ hẹn lại.",
                                       "There is no delivery attempt waiting to be rescheduled."))
    wanted = as_utc(slot_start)
    slot = next((s for s in offered_slots(shipment, now) if s.start == wanted), None)
    if slot is None:
        raise SlotNotOffered(Text("Khung giờ đã chọn không có trong danh sách; vui lòng chọn lại.",
                                  "The chosen slot is not one of those offered; please choose again."))
    if as_utc(attempt.pickup_start) == slot.start:
        return None
    db.session.add(RescheduleRequest(shipment_id=shipment.id, attempt=attempt.number,
                                     previous_start=as_utc(attempt.pickup_start), slot_start=slot.start,
                                     slot_end=slot.end, requested_by="citizen", requested_at=now))
    if attempt.pickup_confirmation:
        outbox.enqueue("courier.cancel_pickup", {"confirmation": attempt.pickup_confirmation,
                                                 "idempotency_key": f"{attempt.pickup_key}-cancel"},
                       dedupe_key=f"courier.cancel:{attempt.pickup_key}")
    attempt.revision += 1
    attempt.pickup_start, attempt.pickup_end, attempt.scheduled_by = slot.start, slot.end, "citizen"
    attempt.pickup_key = f"{shipment.idempotency_key}-a{attempt.number}-r{attempt.revision}"
    attempt.pickup_confirmation = attempt.booked_at = None
    shipment.pickup_at, shipment.updated_at = slot.start, now
    schedule_poll(shipment, slot.start)
    book_later(shipment, attempt)
    return None


def _locked(until: datetime, now: datetime) -> TooManyTries:
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    return TooManyTries(Text(f"Nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút.",
                             f"Too many wrong tries. Please try again in {count(minutes, 'minute', 'minutes')}."),
                        retry_after_s=max(1, int((until - now).total_seconds())))


# ------------------------------------------------------------------ staff

def shipment_for(principal: Principal, number: str) -> dict:
    """The shipment of a dossier the caller may see, in full (officers, agents, admins)."""
    dossier = dossiers.get(principal, number)
    shipment = repository.shipment_of_dossier(dossier.id)
    if shipment is None:
        raise NotFound(Text(f"Hồ sơ {number} chưa có vận đơn.", f"Dossier {number} has no shipment."))
    return {
        "dossier_number": dossier.number, "status": shipment.status.value,
        "status_label": shipment_label(shipment.status), "carrier": shipment.carrier,
        "external_id": shipment.external_id, "tracking_number": shipment.tracking_number,
        "pickup_at": _utc(shipment.pickup_at), "estimated_delivery": _utc(shipment.estimated_delivery),
        "attempts": [{"number": a.number, "status": a.status.value, "pickup_start": as_utc(a.pickup_start),
                      "pickup_end": as_utc(a.pickup_end), "scheduled_by": a.scheduled_by,
                      "booked": a.pickup_confirmation is not None, "outcome_at": _utc(a.outcome_at),
                      "reason": reason_label(a.reason_code, a.reason)} for a in shipment.attempt_rows],
        "max_attempts": shipment.max_attempts,
        "proof": None if shipment.delivered_at is None else {
            "recipient_name": shipment.recipient_name, "delivered_at": as_utc(shipment.delivered_at),
            "signature_ref": shipment.signature_ref, "photo_ref": shipment.photo_ref},
        "events": [{"status": e.status.value, "occurred_at": as_utc(e.occurred_at), "attempt": e.attempt,
                    "reason": e.reason, "source": e.source} for e in repository.events_of(shipment.id)],
    }
