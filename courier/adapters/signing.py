"""Signed courier webhooks: ``X-Courier-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]``.

Each ``v1`` is HMAC-SHA256, keyed with the shared webhook secret, over ``"<t>.<raw body>"``
(the scheme Stripe uses). Any ``v1`` may match (two while a secret is being rolled); the
comparison is constant-time; a timestamp further than the tolerance from now is refused, so a
captured delivery cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "X-Courier-Signature"
DEFAULT_TOLERANCE_S = 300


class SignatureError(ValueError):
    pass


def compute(body: bytes, secret: str, timestamp: int) -> str:
    return hmac.new(secret.encode(), b"%d." % timestamp + body, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The header value a courier sends (the stub server, the tests)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={compute(body, secret, timestamp)}"


def verify(body: bytes, header: str | None, secret: str, *, tolerance_s: int = DEFAULT_TOLERANCE_S,
           now: float | None = None) -> int:
    if not secret:
        raise SignatureError("no webhook secret is configured")
    if not header:
        raise SignatureError(f"no {HEADER} header")
    timestamp, candidates = None, []
    for item in header.split(","):
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
    expected = compute(body, secret, timestamp)
    matched = False
    for candidate in candidates:  # every candidate compared: the time taken says nothing
        matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise SignatureError("no signature matches the body")
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        raise SignatureError("the timestamp is outside the tolerance")
    return timestamp
