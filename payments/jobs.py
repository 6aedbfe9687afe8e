"""Background entry points (outbox handlers): take ids, call the service, which checks state first."""

from __future__ import annotations

from core.outbox import handler
from payments import refunds, service, webhooks


@handler("payments.webhook_event")
def webhook_event(payload: dict) -> None:
    webhooks.process(payload["event_id"])


@handler("payments.gateway_fee")
def gateway_fee(payload: dict) -> None:
    service.record_gateway_fee(payload["payment_id"], payload.get("charge"), payload.get("balance_transaction"))


@handler("payments.retry_refund")
def retry_refund(payload: dict) -> None:
    refunds.retry(payload["refund_id"])
