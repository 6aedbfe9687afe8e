"""Signed courier webhooks: ``X-Courier-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]``.

The same scheme as the payment gateway's (core/signatures.py): HMAC-SHA256 over
``"<t>.<raw body>"``, any ``v1`` may match, constant-time, a tolerance against replays.
"""

from __future__ import annotations

from core.signatures import DEFAULT_TOLERANCE_S, SignatureError, verify
from core.signatures import header as sign

HEADER = "X-Courier-Signature"

__all__ = ["DEFAULT_TOLERANCE_S", "HEADER", "SignatureError", "sign", "verify"]
