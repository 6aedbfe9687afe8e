"""Sign-in throttling that an attacker cannot turn against the real user (OWASP "device cookies").

- **Per IP**: failed sign-ins are counted per client IP (``SIGN_IN_IP_LIMIT``, e.g. ``20 per 15 minutes``);
  past it, that IP may not try again until the window moves on: password spraying across many
  accounts from one address stops there.
- **Per account**: five failures in a row lock the account for 15 minutes (core/accounts.py), but only
  for *untrusted* clients.
- **Per device**: a successful sign-in leaves a signed device cookie (the user's id and a random nonce,
  ``SIGN_IN_DEVICE_DAYS``). A client presenting a valid one for that account is trusted: neither the
  account's lock nor its IP's throttle stops it, so an attacker's failures elsewhere never lock the
  real user out of their own tablet. A trusted device has its own budget (five failures, then it is
  treated as untrusted for the lock period).

Counters live in Redis when ``REDIS_URL`` is set (shared by every worker), in memory otherwise; if Redis
stops answering, the per-IP and per-device counts are skipped (the account lock, in the database, stays).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from flask import Flask, current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from core.settings import settings

log = logging.getLogger(__name__)

DEVICE_COOKIE = "device"
DEVICE_MAX_FAILURES = 5
_SALT = "sign-in-device"
_DEVICE_WINDOW = "5 per 15 minutes"


@dataclass(frozen=True)
class Device:
    user_id: int
    nonce: str


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings().secret_key, salt=_SALT)


def device_token(user_id: int) -> str:
    """A new signed device cookie value for this user (set at a successful sign-in)."""
    return _serializer().dumps({"u": user_id, "n": secrets.token_urlsafe(12)})


def device_from(token: str | None) -> Device | None:
    if not token:
        return None
    max_age = float(settings().sign_in_device_days) * 86400
    try:
        data = _serializer().loads(token, max_age=max_age)
        return Device(int(data["u"]), str(data["n"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


def device_max_age() -> int:
    return int(float(settings().sign_in_device_days) * 86400)


class _Counters:
    """Failure counts in a moving window, per IP and per device."""

    def __init__(self, app: Flask) -> None:
        self.storage = storage_from_string(app.config.get("REDIS_URL") or "memory://")
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.namespace = f"{app.config.get('JOBS_NAMESPACE') or ''}signin"

    def _safe(self, call, default):
        try:
            return call()
        except Exception as exc:  # noqa: BLE001 - any storage failure: degrade to the account lock alone
            log.warning("sign-in throttle storage unavailable (%s): counting skipped", type(exc).__name__)
            return default

    def allowed(self, limit: str, *key: str) -> bool:
        item = parse(limit)
        return self._safe(lambda: self.limiter.test(item, self.namespace, *key), True)

    def fail(self, limit: str, *key: str) -> None:
        item = parse(limit)
        self._safe(lambda: self.limiter.hit(item, self.namespace, *key), None)

    def reset(self) -> None:
        self._safe(self.storage.reset, None)


def _counters() -> _Counters:
    app = current_app._get_current_object()
    counters = app.extensions.get("sign_in_counters")
    if counters is None:
        counters = app.extensions["sign_in_counters"] = _Counters(app)
    return counters


def _ip_limit() -> str | None:
    limit = str(settings().sign_in_ip_limit or "").strip()
    return None if limit.lower() in ("", "0", "off", "none") else limit


def ip_allowed(ip: str | None) -> bool:
    limit = _ip_limit()
    return limit is None or _counters().allowed(limit, "ip", ip or "-")


def device_trusted(device: Device | None, user_id: int) -> bool:
    """The cookie is this user's and its own failure budget is not spent."""
    return device is not None and device.user_id == user_id and _counters().allowed(
        _DEVICE_WINDOW, "device", device.nonce)


def record_failure(ip: str | None, device: Device | None) -> None:
    limit = _ip_limit()
    if limit is not None:
        _counters().fail(limit, "ip", ip or "-")
    if device is not None:
        _counters().fail(_DEVICE_WINDOW, "device", device.nonce)


def reset(app: Flask) -> None:
    """Forget every count (tests)."""
    with app.app_context():
        _counters().reset()
