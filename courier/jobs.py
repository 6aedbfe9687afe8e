"""Background entry points (outbox handlers): take ids, call the service, which checks state first."""

from __future__ import annotations

from core.outbox import handler, subscriber
from courier import service
from dossiers import service as dossiers


@subscriber(dossiers.STATUS_CHANGED, name="courier", when=service.wants_shipment,
            dedupe=lambda change: f"shipment:{change['dossier_id']}")  # one booking per dossier
def status_changed(change: dict) -> None:
    """A courier dossier's result is ready for the first time: its shipment, booked."""
    service.on_result_ready(int(change["dossier_id"]))


@handler("courier.result_ready")
def result_ready(payload: dict) -> None:
    """Rows written before the subscription existed."""
    service.on_result_ready(payload["dossier_id"])


@handler("courier.poll")
def poll(payload: dict) -> None:
    service.poll(payload["shipment_id"], payload.get("due"))


@handler("courier.book_pickup")
def book_pickup(payload: dict) -> None:
    service.book(payload["shipment_id"])


@handler("courier.cancel_pickup")
def cancel_pickup(payload: dict) -> None:
    service.cancel_pickup(payload["confirmation"], payload["idempotency_key"])
