"""The sandbox's events and their signed webhook deliveries, retried with backoff.

Deliveries are signed with ``SANDBOX_GATEWAY_WEBHOOK_SECRET``, the sandbox's own secret, never with
the platform's ``PAYMENT_WEBHOOK_SECRET``: the platform's receiver accepts the sandbox's secret only
while the sandbox gateway is mounted (sandboxes/gateway/__init__.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from flask import current_app, g, has_app_context
from sqlalchemy import select

from core import signatures
from core.extensions import db
from core.settings import settings
from sandboxes.gateway import DEFAULT_WEBHOOK_SECRET
from sandboxes.gateway.base import API_VERSION, new_id, now_ts, setting
from sandboxes.gateway.inprocess import webhook_transport
from sandboxes.gateway.models import SandboxEvent, SandboxWebhookDelivery

log = logging.getLogger(__name__)

MAX_WEBHOOK_ATTEMPTS = 8
DEFAULT_WEBHOOK_PATH = "/api/v1/payments/webhook"


def webhook_urls() -> list[str]:
    """Where events go: comma-separated URLs; a path (the default) is this app's own receiver, in-process."""
    url = settings().sandbox_gateway_webhook_url
    if url is None:
        url = DEFAULT_WEBHOOK_PATH
    return [u.strip() for u in str(url).split(",") if u.strip()]


def emit(type_: str, obj: dict, *, idempotency_key: str | None = None,
         previous_attributes: dict | None = None) -> SandboxEvent:
    created = now_ts()
    urls = webhook_urls()
    event_id = new_id("evt")
    data: dict[str, Any] = {"object": obj}
    if previous_attributes:
        data["previous_attributes"] = previous_attributes
    body = {
        "id": event_id, "object": "event", "api_version": API_VERSION, "created": created, "data": data,
        "livemode": False, "pending_webhooks": len(urls),
        "request": {"id": g.get("sandbox_request_id") if has_app_context() else None,
                    "idempotency_key": idempotency_key},
        "type": type_,
    }
    event = SandboxEvent(id=event_id, type=type_, body=json.dumps(body, ensure_ascii=False), created=created)
    db.session.add(event)
    for url in urls:
        db.session.add(SandboxWebhookDelivery(event_id=event_id, url=url, status="pending", attempts=0,
                                              next_attempt_at=created, created=created))
    pending = g.get("sandbox_new_events") if has_app_context() else None
    if pending is not None:  # the HTTP layer delivers these right after its commit
        pending.append(event_id)
    return event


def sign(payload: str | bytes, secret: str, timestamp: int) -> str:
    """Stripe's ``Stripe-Signature`` header: ``t=<unix>,v1=<hex HMAC-SHA256(secret, "t.payload")>``."""
    return signatures.header(payload.encode("utf-8") if isinstance(payload, str) else payload, secret, timestamp)


Transport = Callable[[str, bytes, dict, float], int]


def requests_transport(url: str, body: bytes, headers: dict, timeout: float) -> int:
    import requests

    return requests.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False).status_code


def backoff_seconds(attempts: int) -> int:
    """Delay before the next try after ``attempts`` failed ones: base · 2^(attempts−1), capped at a day."""
    base = int(setting("SANDBOX_GATEWAY_WEBHOOK_RETRY_BASE_S", 60))
    return min(base * 2 ** max(attempts - 1, 0), 86400)


def deliver_pending(now: int | None = None, transport: Transport | None = None, *,
                    event_ids: list[str] | None = None, limit: int = 100) -> int:
    """Send the deliveries that are due (``next_attempt_at <= now``); returns how many succeeded.

    Commits after each delivery. Failures (non-2xx or a network error) are retried with
    exponential backoff until ``MAX_WEBHOOK_ATTEMPTS``, then marked ``failed``.
    """
    now = now_ts() if now is None else now
    transport = transport or settings().sandbox_gateway_webhook_transport
    in_process = None
    secret = str(setting("SANDBOX_GATEWAY_WEBHOOK_SECRET", DEFAULT_WEBHOOK_SECRET))
    timeout = float(setting("SANDBOX_GATEWAY_WEBHOOK_TIMEOUT_S", 3.0))
    query = (select(SandboxWebhookDelivery)
             .where(SandboxWebhookDelivery.status == "pending", SandboxWebhookDelivery.next_attempt_at <= now)
             .order_by(SandboxWebhookDelivery.seq).limit(limit))
    if event_ids is not None:
        if not event_ids:
            return 0
        query = query.where(SandboxWebhookDelivery.event_id.in_(event_ids))
    deliveries = db.session.scalars(query).all()
    delivered = 0
    for delivery in deliveries:
        event = db.session.scalars(select(SandboxEvent).where(SandboxEvent.id == delivery.event_id)).one()
        timestamp = now_ts()
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                   "Stripe-Signature": sign(event.body, secret, timestamp)}
        delivery.attempts += 1
        send = transport
        if send is None and delivery.url.startswith("/"):
            in_process = in_process or webhook_transport(current_app._get_current_object())
            send = in_process
        try:
            status = int((send or requests_transport)(delivery.url, event.body.encode("utf-8"), headers, timeout))
            error = None if 200 <= status < 300 else f"HTTP {status}"
        except Exception as exc:  # noqa: BLE001 - any transport failure is a failed attempt
            status, error = None, f"{type(exc).__name__}: {exc}"[:1000]
        delivery.last_status_code = status
        delivery.last_error = error
        if error is None:
            delivery.status = "succeeded"
            delivery.delivered_at = now
            delivered += 1
        elif delivery.attempts >= MAX_WEBHOOK_ATTEMPTS:
            delivery.status = "failed"
        else:
            delivery.next_attempt_at = now + backoff_seconds(delivery.attempts)
        db.session.commit()
        if error:
            log.info("sandbox webhook %s to %s failed (attempt %s): %s",
                     event.id, delivery.url, delivery.attempts, error)
    return delivered

