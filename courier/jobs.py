"""Background entry points (outbox handlers): take ids, call the service, which checks state first."""

from __future__ import annotations

from core.outbox import handler
from courier import service


@handler("courier.result_ready")
def result_ready(payload: dict) -> None:
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
