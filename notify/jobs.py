"""Background entry points (outbox handlers): take ids, call the service, which checks state first."""

from __future__ import annotations

from core.outbox import handler
from notify import service
from notify.providers import DEV_RECEIPT_TOPIC


@handler(service.EVENT_TOPIC)
def dossier_event(payload: dict) -> None:
    """``{"dossier_id", "event"}`` plus what the sender knows (courier: ``attempt``, ``slot``, ``point``)."""
    extra = {k: v for k, v in payload.items() if k not in ("dossier_id", "event")}
    service.dossier_event(int(payload["dossier_id"]), str(payload["event"]), **extra)


@handler(service.SEND_TOPIC)
def send_sms(payload: dict) -> None:
    service.send(int(payload["sms_id"]))


@handler(DEV_RECEIPT_TOPIC)
def dev_receipt(payload: dict) -> None:
    """The development outbox's simulated delivery receipt."""
    service.record_receipt(payload["provider_message_id"], payload.get("status", "delivered"), payload.get("error"))


@handler(service.PURGE_TOPIC)
def purge(payload: dict) -> None:
    service.purge_and_reschedule()
