"""Background entry points (outbox handlers): take ids, call the service, which checks state first."""

from __future__ import annotations

from core.outbox import handler, subscriber
from courier import service as courier
from dossiers import service as dossiers
from notify import service
from notify.providers import DEV_RECEIPT_TOPIC
from payments import service as payments


@subscriber(dossiers.STATUS_CHANGED, name="notify", when=lambda change: service.sms_event_for(change) is not None)
def status_changed(change: dict) -> None:
    """A dossier moved: the citizen's SMS for the moves that make one (``service.sms_event_for``)."""
    event = service.sms_event_for(change)
    if event is not None:
        service.dossier_event(int(change["dossier_id"]), event)


@subscriber(dossiers.APOLOGISED, name="notify")
def apologised(payload: dict) -> None:
    """``{"dossier_id", "apology_id", "new_deadline", "at"}``: the apology and the new date, once per apology."""
    service.dossier_event(int(payload["dossier_id"]), "apology", apology_id=payload["apology_id"],
                          new_deadline=payload["new_deadline"])


@subscriber(payments.PAID, name="notify")
def paid(payload: dict) -> None:
    service.dossier_event(int(payload["dossier_id"]), "paid")


@subscriber(courier.ATTEMPT_FAILED, name="notify")
def attempt_failed(payload: dict) -> None:
    """``{"dossier_id", "attempt", "reason", "reason_code", "slot"}``: the next attempt's slot."""
    _courier_event("attempt_failed", payload)


@subscriber(courier.RETURNED_TO_BRANCH, name="notify")
def returned_to_branch(payload: dict) -> None:
    """``{"dossier_id", "attempts", "reason", "reason_code"}``: the result waits at the point."""
    _courier_event("returned_to_branch", payload)


def _courier_event(event: str, payload: dict) -> None:
    extra = {k: v for k, v in payload.items() if k != "dossier_id"}
    service.dossier_event(int(payload["dossier_id"]), event, **extra)


@handler(service.EVENT_TOPIC)
def dossier_event(payload: dict) -> None:
    """Rows written before the subscriptions existed: ``{"dossier_id", "event"}`` plus what the sender knew."""
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
