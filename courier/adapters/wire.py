"""The JSON shape of a tracking event on the wire (the courier API's tracking answers and its
webhooks), and the mapping of a carrier's status codes onto the shared vocabulary.

One event::

    {"id": "evt_…", "tracking_number": "…", "status": "out_for_delivery",
     "occurred_at": "2027-03-10T03:12:00Z", "attempt": 1,
     "reason": "khong co nguoi nhan", "reason_code": "no_recipient",
     "proof": {"recipient_name": "…", "signature_ref": "…", "photo_ref": "…"},
     "estimated_delivery": "2027-03-10T09:00:00Z"}

A webhook body: ``{"id": "whk_…", "type": "tracking.updated", "events": [<event>, …]}``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timezone

from courier.adapters.base import (
    REASON_NO_RECIPIENT,
    REASON_UNREACHABLE,
    REASON_WRONG_ADDRESS,
    ShipmentStatus,
    TrackingEvent,
)

log = logging.getLogger(__name__)

S = ShipmentStatus
# Carrier codes → shared statuses (the vocabulary itself, plus the usual synonyms).
STATUS_CODES: dict[str, ShipmentStatus] = {
    **{s.value: s for s in ShipmentStatus},
    "created": S.PENDING, "pickup_scheduled": S.PENDING,
    "collected": S.PICKED_UP, "picked": S.PICKED_UP,
    "transit": S.IN_TRANSIT, "at_hub": S.IN_TRANSIT,
    "delivering": S.OUT_FOR_DELIVERY, "out_for_delivery": S.OUT_FOR_DELIVERY,
    "failed_attempt": S.DELIVERY_FAILED, "delivery_failed": S.DELIVERY_FAILED, "undeliverable": S.DELIVERY_FAILED,
    "returned": S.RETURNED_TO_BRANCH, "return_to_sender": S.RETURNED_TO_BRANCH,
    "delivered": S.DELIVERED,
}
REASON_CODES = {REASON_NO_RECIPIENT, REASON_WRONG_ADDRESS, REASON_UNREACHABLE}


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


def format_time(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def event_from_json(data: Mapping, tracking_number: str | None = None) -> TrackingEvent | None:
    """One event, or None for a status code this platform does not know (logged, not recorded)."""
    status = STATUS_CODES.get(str(data.get("status", "")).lower())
    if status is None:
        log.warning("courier event %s has an unknown status %r: ignored", data.get("id"), data.get("status"))
        return None
    proof = data.get("proof") or {}
    reason_code = data.get("reason_code")
    attempt = data.get("attempt")
    return TrackingEvent(
        event_id=str(data["id"])[:120],
        tracking_number=str(data.get("tracking_number") or tracking_number),
        status=status,
        occurred_at=parse_time(data["occurred_at"]),
        attempt=int(attempt) if attempt is not None else None,
        reason=(str(data["reason"])[:300] if data.get("reason") else None),
        reason_code=reason_code if reason_code in REASON_CODES else None,
        recipient_name=proof.get("recipient_name"),
        signature_ref=proof.get("signature_ref"),
        photo_ref=proof.get("photo_ref"),
        estimated_delivery=parse_time(data.get("estimated_delivery")),
        raw=dict(data),
    )


def event_to_json(event: TrackingEvent) -> dict:
    body = {"id": event.event_id, "tracking_number": event.tracking_number, "status": event.status.value,
            "occurred_at": format_time(event.occurred_at), "attempt": event.attempt}
    if event.reason or event.reason_code:
        body.update(reason=event.reason, reason_code=event.reason_code)
    if event.recipient_name or event.signature_ref or event.photo_ref:
        body["proof"] = {"recipient_name": event.recipient_name, "signature_ref": event.signature_ref,
                         "photo_ref": event.photo_ref}
    if event.estimated_delivery:
        body["estimated_delivery"] = format_time(event.estimated_delivery)
    return body


def events_from_webhook(body: Mapping) -> list[TrackingEvent]:
    events = body.get("events")
    if not isinstance(events, list):
        raise ValueError("a webhook body carries an 'events' list")
    parsed = [event_from_json(item, body.get("tracking_number")) for item in events]
    return [event for event in parsed if event is not None]
