"""A Stripe-compatible payment gateway client on ``requests``.

Any gateway that speaks Stripe's HTTP API can sit behind it: the sandbox gateway of the
embedded default, a Stripe-compatible provider, or Stripe itself.

- Form-encoded nested parameters (``metadata[dossier]=…``, ``expand[0]=…``), Bearer key.
- ``vnd`` is a zero-decimal currency: amounts are whole đồng (150000 means 150.000 ₫).
- Every POST carries an ``Idempotency-Key`` that the caller created once per business
  operation and stored before the first attempt; retries reuse it, so a retried charge is
  never a second charge.
- Retries only where Stripe's rules allow: the ``Stripe-Should-Retry`` header decides when
  present; otherwise 409, 5xx and connection errors are retried, with exponential backoff
  and jitter. Timeouts on connect and read. A hand-written loop rather than urllib3's Retry,
  because the decision depends on that header.
- Errors come back as typed exceptions (payments.errors); a card decline explains itself.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import requests

from payments.errors import APIConnectionError, GatewayError, error_from_response

log = logging.getLogger(__name__)

ZERO_DECIMAL = {"vnd"}  # the only currency this platform charges in
API_VERSION = "2024-06-20"


def encode(params: Mapping[str, Any] | None, prefix: str = "") -> list[tuple[str, str]]:
    """Stripe's form encoding: nested mappings as ``a[b]``, sequences as ``a[0]``, booleans as
    ``true``/``false``; ``None`` values are left out."""
    pairs: list[tuple[str, str]] = []
    for key, value in (params or {}).items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if value is None:
            continue
        if isinstance(value, Mapping):
            pairs.extend(encode(value, name))
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                if isinstance(item, Mapping):
                    pairs.extend(encode(item, f"{name}[{index}]"))
                else:
                    pairs.append((f"{name}[{index}]", _scalar(item)))
        else:
            pairs.append((name, _scalar(value)))
    return pairs


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class GatewayClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: tuple[float, float] = (3.05, 20.0),
        max_retries: int = 2,
        backoff_s: float = 0.5,
        max_backoff_s: float = 8.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout, self.max_retries = timeout, max_retries
        self.backoff_s, self.max_backoff_s = backoff_s, max_backoff_s
        self.session = session or requests.Session()
        self._sleep, self._jitter = sleep, jitter

    # -- PaymentIntents -------------------------------------------------------------------

    def create_payment_intent(self, *, amount: int, idempotency_key: str, currency: str = "vnd",
                              metadata: Mapping[str, str] | None = None, payment_method: str | None = None,
                              confirm: bool | None = None, description: str | None = None,
                              **extra: Any) -> dict:
        currency = currency.lower()
        if currency not in ZERO_DECIMAL:
            raise ValueError(f"unsupported currency {currency!r}: this platform charges in vnd")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise ValueError("amount must be a positive whole number of đồng")
        params = {"amount": amount, "currency": currency, "metadata": metadata, "payment_method": payment_method,
                  "confirm": confirm, "description": description, **extra}
        return self.request("POST", "/payment_intents", params, idempotency_key=idempotency_key)

    def retrieve_payment_intent(self, intent_id: str) -> dict:
        return self.request("GET", f"/payment_intents/{intent_id}")

    def confirm_payment_intent(self, intent_id: str, *, idempotency_key: str,
                               payment_method: str | None = None, **extra: Any) -> dict:
        return self.request("POST", f"/payment_intents/{intent_id}/confirm",
                            {"payment_method": payment_method, **extra}, idempotency_key=idempotency_key)

    def cancel_payment_intent(self, intent_id: str, *, idempotency_key: str,
                              cancellation_reason: str | None = None) -> dict:
        return self.request("POST", f"/payment_intents/{intent_id}/cancel",
                            {"cancellation_reason": cancellation_reason}, idempotency_key=idempotency_key)

    # -- Refunds ---------------------------------------------------------------------------

    def create_refund(self, *, payment_intent: str, idempotency_key: str, amount: int | None = None,
                      reason: str | None = None, metadata: Mapping[str, str] | None = None) -> dict:
        """A full refund without ``amount``; a partial one with it."""
        if amount is not None and (not isinstance(amount, int) or amount <= 0):
            raise ValueError("a partial refund's amount must be a positive whole number of đồng")
        return self.request("POST", "/refunds", {"payment_intent": payment_intent, "amount": amount,
                                                 "reason": reason, "metadata": metadata},
                            idempotency_key=idempotency_key)

    def retrieve_refund(self, refund_id: str) -> dict:
        return self.request("GET", f"/refunds/{refund_id}")

    def retrieve_balance_transaction(self, txn_id: str) -> dict:
        return self.request("GET", f"/balance_transactions/{txn_id}")

    # -- Lists with automatic pagination ----------------------------------------------------

    def list_balance_transactions(self, **params: Any) -> Iterator[dict]:
        return self.paginate("/balance_transactions", params)

    def list_payouts(self, **params: Any) -> Iterator[dict]:
        return self.paginate("/payouts", params)

    def list_events(self, **params: Any) -> Iterator[dict]:
        return self.paginate("/events", params)

    def retrieve_event(self, event_id: str) -> dict:
        return self.request("GET", f"/events/{event_id}")

    def paginate(self, path: str, params: Mapping[str, Any] | None = None, page_size: int = 100) -> Iterator[dict]:
        """Every object of a Stripe list, page after page (``starting_after`` the last id)."""
        query = {"limit": page_size, **(params or {})}
        while True:
            page = self.request("GET", path, query)
            data = page.get("data", [])
            yield from data
            if not page.get("has_more") or not data:
                return
            query = {**query, "starting_after": data[-1]["id"]}

    # -- The transport ------------------------------------------------------------------------

    def request(self, method: str, path: str, params: Mapping[str, Any] | None = None,
                idempotency_key: str | None = None) -> dict:
        method = method.upper()
        if method == "POST" and not idempotency_key:
            raise ValueError("every POST needs the Idempotency-Key of its business operation")
        headers = {"Authorization": f"Bearer {self.api_key}", "Stripe-Version": API_VERSION,
                   "Accept": "application/json"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        pairs = encode(params)
        url = self.base_url + path
        attempt = 0
        while True:
            try:
                response = self.session.request(
                    method, url, headers=headers, timeout=self.timeout,
                    params=pairs if method in ("GET", "DELETE") else None,
                    data=pairs if method == "POST" else None,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt < self.max_retries:
                    attempt = self._back_off(attempt, method, path, type(exc).__name__)
                    continue
                raise APIConnectionError(f"gateway unreachable: {type(exc).__name__}") from exc
            if 200 <= response.status_code < 300:
                return response.json()
            if attempt < self.max_retries and self._should_retry(response):
                attempt = self._back_off(attempt, method, path, f"HTTP {response.status_code}")
                continue
            raise self._error(response)

    @staticmethod
    def _should_retry(response: requests.Response) -> bool:
        header = response.headers.get("Stripe-Should-Retry")
        if header is not None:
            return header.lower() == "true"
        return response.status_code == 409 or response.status_code >= 500

    def _back_off(self, attempt: int, method: str, path: str, why: str) -> int:
        delay = min(self.max_backoff_s, self.backoff_s * 2 ** attempt)
        delay = delay / 2 + delay / 2 * self._jitter()  # "equal jitter": between half and all of it
        log.warning("gateway %s %s failed (%s); retry %d in %.2f s", method, path, why, attempt + 1, delay)
        self._sleep(delay)
        return attempt + 1

    @staticmethod
    def _error(response: requests.Response) -> GatewayError:
        try:
            body = response.json()
        except ValueError:
            body = {}
        return error_from_response(response.status_code, body, response.headers.get("Request-Id"))
