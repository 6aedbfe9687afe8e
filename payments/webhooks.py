"""The gateway's webhooks: verified, recorded once, answered at once, processed after commit.

``receive`` checks ``Stripe-Signature`` over the raw body before anything is parsed, then
stores the event and an outbox message in one commit; a second delivery of the same event
id hits the unique index and is acknowledged without doing anything. ``process`` runs from
the outbox: it never trusts the event's copy of the object, but fetches the object again
from the gateway, so the order events arrive in does not matter. Unknown types are
recorded and marked ``ignored``.
"""

from __future__ import annotations

import json
import logging

from flask import current_app
from sqlalchemy.exc import IntegrityError

from core import signatures
from core.errors import DomainError, NotFound
from core.messages import Text
from core.timeutil import utcnow
from core.uow import unit_of_work
from payments import refunds, repository, service
from payments.client import gateway
from payments.errors import BadSignature, InvalidRequestError

log = logging.getLogger(__name__)

INTENT_EVENTS = ("payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled",
                 "payment_intent.requires_action", "payment_intent.processing", "payment_intent.created")
REFUND_EVENTS = ("refund.created", "refund.updated", "refund.failed", "charge.refund.updated")
PAYOUT_EVENTS = ("payout.paid",)


def receive(raw_body: bytes, signature_header: str | None) -> tuple[str, bool]:
    """Verify and record one delivery; returns (event id, whether it was new)."""
    try:
        _verify(raw_body, signature_header)
    except signatures.SignatureError as exc:
        raise BadSignature(Text("Chữ ký Stripe-Signature không khớp hoặc đã quá hạn.",
                                f"The Stripe-Signature does not verify: {exc}.")) from exc
    try:
        event = json.loads(raw_body)
        event_id, event_type = str(event["id"]), str(event["type"])
        obj = (event.get("data") or {}).get("object") or {}
    except (ValueError, RecursionError, KeyError, TypeError, AttributeError) as exc:  # RecursionError: too deep
        raise DomainError(Text("Nội dung webhook không phải một sự kiện hợp lệ.",
                               "The webhook body is not a valid event.")) from exc
    try:
        with unit_of_work():
            new = repository.record_webhook_event(event_id[:100], event_type[:100],
                                                  str(obj["id"])[:100] if obj.get("id") else None,
                                                  raw_body.decode("utf-8"), "payments.webhook_event")
    except IntegrityError:  # a concurrent delivery of the same event won the race (rolled back)
        return event_id, False
    return event_id, new


def _verify(raw_body: bytes, signature_header: str | None) -> None:
    """``PAYMENT_WEBHOOK_SECRET``, or a secret a mounted dev plugin names (the sandbox gateway's own),
    accepted only while that plugin is mounted."""
    config = current_app.config
    accepted = [config["PAYMENT_WEBHOOK_SECRET"]]
    accepted += [config.get(name) for name in current_app.extensions.get("payment_webhook_secret_settings", ())]
    accepted = [secret for secret in accepted if secret] or [""]
    tolerance = int(config["PAYMENT_WEBHOOK_TOLERANCE_S"])
    for index, secret in enumerate(accepted):
        try:
            signatures.verify(raw_body, signature_header, secret, tolerance_s=tolerance)
            return
        except signatures.SignatureError:
            if index == len(accepted) - 1:
                raise


@unit_of_work()
def process(event_id: str) -> str:
    """What the event means for us, from the gateway's current state; returns the outcome."""
    event = repository.webhook_event(event_id)
    if event is None or event.outcome != "pending":
        return event.outcome if event else "missing"
    outcome = "processed"
    if event.type in INTENT_EVENTS and event.object_id:
        try:
            service.apply_intent(gateway().retrieve_payment_intent(event.object_id))
        except (NotFound, InvalidRequestError) as exc:
            if isinstance(exc, InvalidRequestError) and exc.http_status != 404:
                raise
            outcome = "ignored"  # an intent that is not one of our payments, or unknown to the gateway
    elif event.type in REFUND_EVENTS and event.object_id:
        answer = gateway().retrieve_refund(event.object_id)
        refund = refunds.by_gateway_id(event.object_id) or refunds.by_metadata(answer.get("metadata") or {})
        if refund is None:
            outcome = "ignored"  # not a refund this platform asked for
        else:
            refunds.apply_refund(refund.id, answer)
    elif event.type in PAYOUT_EVENTS and event.object_id:
        service.record_payout(gateway().request("GET", f"/payouts/{event.object_id}"))
    else:
        outcome = "ignored"
    event = repository.webhook_event(event_id)
    event.outcome, event.processed_at = outcome, utcnow()
    log.info("webhook %s (%s): %s", event_id, event.type, outcome)
    return outcome
