"""Signed courier webhooks: ``X-Courier-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]``.

The same scheme as the payment gateway's (core/signatures.py): HMAC-SHA256 over
``"<t>.<raw body>"``, any ``v1`` may match, constant-time, a tolerance against replays.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from core.signatures import DEFAULT_TOLERANCE_S, SignatureError, verify
from core.signatures import header as sign
from courier.adapters import wire
from courier.adapters.base import TrackingEvent, WebhookError

HEADER = "X-Courier-Signature"

__all__ = ["DEFAULT_TOLERANCE_S", "HEADER", "SignatureError", "parse_signed_webhook", "sign", "verify"]


def parse_signed_webhook(headers: Mapping[str, str], raw_body: bytes, secret: str,
                         tolerance_s: int) -> list[TrackingEvent]:
    """Verify ``X-Courier-Signature`` over the raw body, then read the events (shared by every adapter)."""
    try:
        verify(raw_body, headers.get(HEADER), secret, tolerance_s=tolerance_s)
    except SignatureError as exc:
        raise WebhookError(f"signature: {exc}") from exc
    try:
        return wire.events_from_webhook(json.loads(raw_body))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise WebhookError(f"body: {exc}") from exc
