"""SMS providers: one small adapter each, behind one interface.

``send(to_e164, body, reference) -> provider_message_id`` hands one message over (raising
``ProviderError``, retryable or not); ``parse_receipt(data) -> (provider_message_id, status,
error)`` reads a delivery receipt's JSON into our statuses (``sending``, ``delivered``,
``failed``). ``reference`` is ours, unique per message, and goes with the send as its
``Idempotency-Key``: a send retried after a timeout is sent once.

- ``HttpSmsProvider`` (``SMS_PROVIDER=http``): a generic REST gateway. ``POST SMS_HTTP_URL``
  with JSON ``{"to", "from", "text", "reference"}``, ``Authorization: Bearer SMS_HTTP_API_KEY``
  and ``Idempotency-Key``; answers ``{"id": …}`` (or ``message_id``). Connect errors, read
  timeouts and 5xx are retried by urllib3's ``Retry`` on the session (POST included: the
  idempotency key makes it safe), with backoff; then the outbox retries later.
  Receipts come back to ``POST /api/v1/notify/receipts`` (see ``notify.service``).
- ``DevOutboxProvider`` (``SMS_PROVIDER=dev``, the embedded default): sends nothing. The
  message is marked sent in the database like any other (readable at ``/dev/sms``), and a
  delivery receipt is simulated ``SMS_DEV_RECEIPT_DELAY_S`` later through the outbox
  (``notify.dev_receipt``), so every message goes created → sending → delivered.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Protocol

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from core import outbox
from core.timeutil import utcnow

log = logging.getLogger(__name__)

DEV_RECEIPT_TOPIC = "notify.dev_receipt"

# A provider's receipt vocabulary (lower-cased) → ours. SMPP's DLR states are included.
RECEIPT_STATUSES = {
    "accepted": "sending", "queued": "sending", "sending": "sending", "sent": "sending", "enroute": "sending",
    "submitted": "sending", "buffered": "sending",
    "delivered": "delivered", "delivrd": "delivered",
    "failed": "failed", "undelivered": "failed", "undeliv": "failed", "rejected": "failed", "rejectd": "failed",
    "expired": "failed", "deleted": "failed", "unknown": "sending",
}


class ProviderError(Exception):
    """The provider did not take the message. ``retryable``: trying again later may work."""

    def __init__(self, message: str, *, retryable: bool, http_status: int | None = None):
        super().__init__(message)
        self.retryable, self.http_status = retryable, http_status


class SmsProvider(Protocol):
    name: str

    def send(self, to_e164: str, body: str, reference: str) -> str: ...

    def parse_receipt(self, data: Mapping) -> tuple[str, str, str | None]: ...


def parse_generic_receipt(data: Mapping) -> tuple[str, str, str | None]:
    """``{"id"|"message_id", "status", "error"?}`` → (provider id, our status, error); ValueError if not."""
    if not isinstance(data, Mapping):
        raise ValueError("a receipt is a JSON object")
    provider_id = data.get("id") or data.get("message_id")
    raw_status = str(data.get("status") or "").strip().lower()
    if not provider_id or not isinstance(provider_id, str | int) or len(str(provider_id)) > 100:
        raise ValueError("the receipt has no usable message id")
    status = RECEIPT_STATUSES.get(raw_status)
    if status is None:
        raise ValueError(f"unknown receipt status {raw_status!r}")
    error = data.get("error") or data.get("error_code")
    return str(provider_id), status, (str(error)[:500] if error else None)


class HttpSmsProvider:
    name = "http"
    RETRY_STATUSES = (500, 502, 503, 504)

    def __init__(self, url: str, api_key: str, sender: str, *, timeout: tuple[float, float] = (3.05, 10.0),
                 retries: int = 2, backoff_s: float = 0.25, session: requests.Session | None = None):
        if not url:
            raise ValueError("SMS_PROVIDER=http needs SMS_HTTP_URL")
        self.url, self.api_key, self.sender, self.timeout = url, api_key, sender, timeout
        self.session = session or requests.Session()
        retry = Retry(total=retries, connect=retries, read=retries, status=retries, other=0,
                      status_forcelist=self.RETRY_STATUSES, allowed_methods=frozenset({"GET", "POST"}),
                      backoff_factor=backoff_s, raise_on_status=False, respect_retry_after_header=True)
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def send(self, to_e164: str, body: str, reference: str) -> str:
        headers = {"Authorization": f"Bearer {self.api_key}", "Idempotency-Key": reference,
                   "Accept": "application/json"}
        payload = {"to": to_e164, "from": self.sender, "text": body, "reference": reference}
        try:
            response = self.session.post(self.url, json=payload, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:  # connection refused, timeouts, retries exhausted
            raise ProviderError(f"SMS gateway unreachable: {type(exc).__name__}", retryable=True) from exc
        status = response.status_code
        if status >= 500 or status in (408, 409, 425, 429):
            raise ProviderError(f"SMS gateway answered {status}", retryable=True, http_status=status)
        if status >= 400:  # our request is wrong (a bad number, a bad key): trying again changes nothing
            raise ProviderError(f"SMS gateway refused the message: {status} {response.text[:200]}",
                                retryable=False, http_status=status)
        try:
            data = response.json()
            provider_id = data.get("id") or data.get("message_id")
        except (ValueError, AttributeError):
            provider_id = None
        if not provider_id:
            raise ProviderError(f"SMS gateway answered {status} without a message id", retryable=True,
                                http_status=status)
        return str(provider_id)

    def parse_receipt(self, data: Mapping) -> tuple[str, str, str | None]:
        return parse_generic_receipt(data)


class DevOutboxProvider:
    name = "dev"

    def __init__(self, receipt_delay_s: float = 2.0):
        self.receipt_delay_s = receipt_delay_s

    def send(self, to_e164: str, body: str, reference: str) -> str:
        """'Sent': the caller stores it as sent; its delivery receipt comes through the outbox shortly.

        Joins the caller's transaction (the receipt message commits with the 'sent' state).
        """
        provider_id = f"dev-{reference}"
        outbox.enqueue(DEV_RECEIPT_TOPIC, {"provider_message_id": provider_id, "status": "delivered"},
                       due_at=utcnow() + timedelta(seconds=self.receipt_delay_s),
                       dedupe_key=f"dev_receipt:{provider_id}")
        log.info("dev SMS outbox: %s (%d chars), readable at /dev/sms", reference, len(body))
        return provider_id

    def parse_receipt(self, data: Mapping) -> tuple[str, str, str | None]:
        return parse_generic_receipt(data)


def build(config: Mapping) -> SmsProvider:
    """The provider ``SMS_PROVIDER`` names, from the config mapping."""
    kind = str(config.get("SMS_PROVIDER") or "dev")
    if kind == "dev":
        return DevOutboxProvider(float(config.get("SMS_DEV_RECEIPT_DELAY_S", 2.0)))
    if kind == "http":
        return HttpSmsProvider(str(config.get("SMS_HTTP_URL") or ""), str(config.get("SMS_HTTP_API_KEY") or ""),
                               str(config.get("SMS_SENDER") or ""),
                               timeout=(3.05, float(config.get("SMS_HTTP_TIMEOUT_S", 10.0))))
    raise ValueError(f"unknown SMS_PROVIDER {kind!r} (dev or http)")
