"""Signed webhooks in Stripe's scheme, verified before the body is parsed.

``t=<unix seconds>,v1=<hex>,v1=<hex>,v0=…`` where each ``v1`` is HMAC-SHA256 keyed with the
endpoint's secret over ``"<t>.<raw body>"``. Any ``v1`` may match (a secret being rolled
gives two); the comparison is constant-time; a timestamp more than the tolerance away from
now is refused (a replayed old delivery). The payment gateway sends it as
``Stripe-Signature``; the courier as ``X-Courier-Signature`` (courier/adapters/signing.py).
"""

from __future__ import annotations

import hashlib
import hmac
import time

DEFAULT_TOLERANCE_S = 300


class SignatureError(ValueError):
    """The header is missing, malformed, stale, or matches no signature."""


def compute(payload: bytes, secret: str, timestamp: int) -> str:
    return hmac.new(secret.encode(), b"%d." % timestamp + payload, hashlib.sha256).hexdigest()


def header(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` value, as a gateway sends it (tests, the sandbox, the bench)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={compute(payload, secret, timestamp)}"


def verify(payload: bytes, signature_header: str | None, secret: str, *,
           tolerance_s: int = DEFAULT_TOLERANCE_S, now: float | None = None) -> int:
    """Check ``payload`` (the raw request body) against the header; return its timestamp."""
    if not secret:
        raise SignatureError("no webhook secret is configured")
    if not signature_header:
        raise SignatureError("no signature header")
    timestamp: int | None = None
    candidates: list[str] = []
    for item in signature_header.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise SignatureError("the timestamp is not a number") from None
        elif name == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureError("the header has no timestamp or no v1 signature")
    expected = compute(payload, secret, timestamp)
    # Compare against every candidate, so the time taken does not depend on which matched.
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise SignatureError("no signature matches the payload")
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance_s:
        raise SignatureError("the timestamp is outside the tolerance")
    return timestamp
