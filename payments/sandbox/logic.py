"""The sandbox gateway's state machine, money movements, events and webhook deliveries.

Functions here change the session and never commit: the HTTP layer commits once per
request (together with the idempotency record), then calls ``deliver_pending``.
Errors are ``GatewayError``: Stripe's error object and status code.
"""

from __future__ import annotations

import json
import logging
import secrets
import string
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

from flask import current_app, g, has_app_context, has_request_context, request
from sqlalchemy import func, select

from core import signatures
from core.extensions import db
from payments.inprocess import webhook_transport
from payments.sandbox.models import (
    SandboxBalanceTransaction,
    SandboxEvent,
    SandboxPaymentIntent,
    SandboxPayout,
    SandboxRefund,
    SandboxWebhookDelivery,
)

log = logging.getLogger(__name__)

API_VERSION = "2024-06-20"
CURRENCY = "vnd"
HANOI = timezone(timedelta(hours=7))  # Asia/Ho_Chi_Minh has no daylight saving
MAX_WEBHOOK_ATTEMPTS = 8
_ALPHABET = string.ascii_letters + string.digits

# Stripe's test PaymentMethods: outcome, and for declines (code, decline_code, message).
SUCCESS_CARDS = {"pm_card_visa", "pm_card_mastercard", "pm_card_visa_debit", "tok_visa", "pm_card_vn"}
THREE_DS_CARDS = {"pm_card_threeDSecure2Required", "pm_card_threeDSecureRequired", "pm_card_authenticationRequired"}
DECLINE_CARDS = {
    "pm_card_chargeDeclined": ("card_declined", "generic_decline", "Your card was declined."),
    "pm_card_visa_chargeDeclined": ("card_declined", "generic_decline", "Your card was declined."),
    "pm_card_visa_chargeDeclinedInsufficientFunds": (
        "card_declined", "insufficient_funds", "Your card has insufficient funds."),
    "pm_card_chargeDeclinedInsufficientFunds": (
        "card_declined", "insufficient_funds", "Your card has insufficient funds."),
    "pm_card_chargeDeclinedLostCard": ("card_declined", "lost_card", "Your card was declined."),
    "pm_card_chargeDeclinedStolenCard": ("card_declined", "stolen_card", "Your card was declined."),
    "pm_card_chargeDeclinedExpiredCard": ("expired_card", "expired_card", "Your card has expired."),
    "pm_card_chargeDeclinedIncorrectCvc": ("incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect."),
    "pm_card_chargeDeclinedProcessingError": (
        "processing_error", "processing_error", "An error occurred while processing your card. Try again."),
}
CANCELABLE = ("requires_payment_method", "requires_capture", "requires_confirmation", "requires_action", "processing")
CONFIRMABLE = ("requires_payment_method", "requires_confirmation")


class GatewayError(Exception):
    """Stripe's error object. ``store``: whether an idempotent request keeps this result
    (Stripe saves results once the endpoint started executing, not parameter validation)."""

    def __init__(self, status: int, type_: str, message: str, *, code: str | None = None,
                 param: str | None = None, decline_code: str | None = None, store: bool = False,
                 headers: dict | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.store = store
        self.headers = headers or {}
        self.error: dict[str, Any] = {"type": type_, "message": message}
        if code:
            self.error["code"] = code
            self.error["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
        if decline_code:
            self.error["decline_code"] = decline_code
        if param:
            self.error["param"] = param
        self.error.update(extra)

    def body(self) -> dict:
        return {"error": self.error}


def invalid(message: str, *, param: str | None = None, code: str | None = None, status: int = 400,
            store: bool = False) -> GatewayError:
    return GatewayError(status, "invalid_request_error", message, param=param, code=code, store=store)


def missing(resource: str, ident: str, param: str = "id") -> GatewayError:
    return GatewayError(404, "invalid_request_error", f"No such {resource}: '{ident}'",
                        code="resource_missing", param=param)


def new_id(prefix: str, length: int = 24) -> str:
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def now_ts() -> int:
    return int(time.time())


def _config(name: str, default: Any) -> Any:
    value = current_app.config.get(name, default)
    return default if value is None else value


# ---------------------------------------------------------------- serialisation

def charge_object(pi: SandboxPaymentIntent) -> dict:
    succeeded = pi.amount_received > 0
    return {
        "id": pi.latest_charge, "object": "charge", "amount": pi.amount,
        "amount_captured": pi.amount_received, "amount_refunded": pi.amount_refunded,
        "balance_transaction": pi.charge_balance_transaction, "captured": succeeded,
        "created": pi.created, "currency": pi.currency, "description": pi.description,
        "failure_code": None if succeeded else (pi.last_payment_error or {}).get("code"),
        "failure_message": None if succeeded else (pi.last_payment_error or {}).get("message"),
        "livemode": False, "metadata": dict(pi.meta or {}), "paid": succeeded,
        "payment_intent": pi.id, "payment_method": pi.payment_method,
        "refunded": succeeded and pi.amount_refunded >= pi.amount_received,
        "status": "succeeded" if succeeded else "failed",
    }


def three_ds_url(pi: SandboxPaymentIntent) -> str:
    base = request.host_url.rstrip("/") if has_request_context() else _public_base()
    return f"{base}/sandbox-gateway/v1/3ds/{pi.id}"


def payment_intent_object(pi: SandboxPaymentIntent) -> dict:
    next_action = None
    if pi.status == "requires_action":
        next_action = {"type": "redirect_to_url",
                       "redirect_to_url": {"url": three_ds_url(pi), "return_url": pi.return_url}}
    return {
        "id": pi.id, "object": "payment_intent", "amount": pi.amount,
        "amount_capturable": 0, "amount_received": pi.amount_received,
        "canceled_at": pi.canceled_at, "cancellation_reason": pi.cancellation_reason,
        "capture_method": "automatic", "client_secret": pi.client_secret,
        "confirmation_method": "automatic", "created": pi.created, "currency": pi.currency,
        "description": pi.description, "last_payment_error": pi.last_payment_error,
        "latest_charge": pi.latest_charge, "livemode": False, "metadata": dict(pi.meta or {}),
        "next_action": next_action, "payment_method": pi.payment_method,
        "payment_method_types": ["card"], "status": pi.status,
    }


def refund_object(refund: SandboxRefund) -> dict:
    return {
        "id": refund.id, "object": "refund", "amount": refund.amount,
        "balance_transaction": refund.balance_transaction, "charge": refund.charge,
        "created": refund.created, "currency": refund.currency, "metadata": dict(refund.meta or {}),
        "payment_intent": refund.payment_intent, "reason": refund.reason, "status": refund.status,
    }


def balance_transaction_object(txn: SandboxBalanceTransaction, now: int | None = None) -> dict:
    now = now_ts() if now is None else now
    fee_details = [{"amount": txn.fee, "application": None, "currency": txn.currency,
                    "description": "Stripe processing fees", "type": "stripe_fee"}] if txn.fee else []
    return {
        "id": txn.id, "object": "balance_transaction", "amount": txn.amount,
        "available_on": txn.available_on, "created": txn.created, "currency": txn.currency,
        "description": txn.description, "exchange_rate": None, "fee": txn.fee, "fee_details": fee_details,
        "net": txn.net, "reporting_category": txn.type, "source": txn.source,
        "status": "available" if txn.available_on <= now else "pending", "type": txn.type,
    }


def payout_object(payout: SandboxPayout) -> dict:
    return {
        "id": payout.id, "object": "payout", "amount": payout.amount, "arrival_date": payout.arrival_date,
        "automatic": True, "balance_transaction": payout.balance_transaction, "created": payout.created,
        "currency": payout.currency, "description": "STRIPE PAYOUT", "destination": None,
        "livemode": False, "metadata": {}, "method": "standard", "status": payout.status,
        "type": "bank_account",
    }


def event_object(event: SandboxEvent) -> dict:
    return json.loads(event.body)


# ---------------------------------------------------------------- events and webhooks

DEFAULT_WEBHOOK_PATH = "/api/v1/payments/webhook"


def webhook_urls() -> list[str]:
    """Where events go: comma-separated URLs; a path (the default) is this app's own receiver, in-process."""
    url = current_app.config.get("SANDBOX_GATEWAY_WEBHOOK_URL")
    if url is None:
        url = DEFAULT_WEBHOOK_PATH
    return [u.strip() for u in str(url).split(",") if u.strip()]


def _public_base() -> str:
    configured = current_app.config.get("SANDBOX_GATEWAY_PUBLIC_URL")
    if configured:
        return str(configured).rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return "http://127.0.0.1:5000"


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
    base = int(_config("SANDBOX_GATEWAY_WEBHOOK_RETRY_BASE_S", 60))
    return min(base * 2 ** max(attempts - 1, 0), 86400)


def deliver_pending(now: int | None = None, transport: Transport | None = None, *,
                    event_ids: list[str] | None = None, limit: int = 100) -> int:
    """Send the deliveries that are due (``next_attempt_at <= now``); returns how many succeeded.

    Commits after each delivery. Failures (non-2xx or a network error) are retried with
    exponential backoff until ``MAX_WEBHOOK_ATTEMPTS``, then marked ``failed``.
    """
    now = now_ts() if now is None else now
    transport = transport or current_app.config.get("SANDBOX_GATEWAY_WEBHOOK_TRANSPORT")
    in_process = None
    secret = str(_config("PAYMENT_WEBHOOK_SECRET", "whsec_sandbox"))
    timeout = float(_config("SANDBOX_GATEWAY_WEBHOOK_TIMEOUT_S", 3.0))
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


# ---------------------------------------------------------------- payment intents

def get_intent(pi_id: str, *, lock: bool = False) -> SandboxPaymentIntent:
    query = select(SandboxPaymentIntent).where(SandboxPaymentIntent.id == pi_id)
    if lock:
        query = query.with_for_update()
    pi = db.session.scalars(query).one_or_none()
    if pi is None:
        raise missing("payment_intent", pi_id)
    return pi


def _parse_amount(value: Any, param: str = "amount", *, required: bool = True) -> int | None:
    if value in (None, ""):
        if required:
            raise invalid(f"Missing required param: {param}.", param=param, code="parameter_missing")
        return None
    if not isinstance(value, str) or not value.lstrip("-").isdigit():
        raise invalid(f"Invalid integer: {value}", param=param, code="parameter_invalid_integer")
    amount = int(value)
    if amount < 1:
        raise invalid("This value must be greater than or equal to 1.", param=param, code="parameter_invalid_integer")
    if amount > 99_999_999_999:
        raise invalid("Amount must be no more than ₫99,999,999,999", param=param, code="amount_too_large")
    return amount


def _metadata(value: Any) -> dict:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise invalid("Invalid object", param="metadata", code="parameter_invalid_object")
    return {str(k): str(v) for k, v in value.items() if v not in (None, "")}


def _bool(value: Any, param: str) -> bool:
    if value in (None, "", "false", False):
        return False
    if value in ("true", True):
        return True
    raise invalid(f"Invalid boolean: {value}", param=param, code="parameter_invalid_boolean")


def _reject_unknown(params: dict, allowed: set[str]) -> None:
    for name in params:
        if name not in allowed | {"expand"}:
            raise invalid(f"Received unknown parameter: {name}", param=name, code="parameter_unknown")


def create_payment_intent(params: dict, idempotency_key: str | None = None) -> tuple[SandboxPaymentIntent, int]:
    _reject_unknown(params, {"amount", "currency", "metadata", "payment_method", "confirm", "description",
                             "payment_method_types", "return_url", "receipt_email", "statement_descriptor"})
    amount = _parse_amount(params.get("amount"))
    currency = params.get("currency")
    if currency in (None, ""):
        raise invalid("Missing required param: currency.", param="currency", code="parameter_missing")
    if currency != CURRENCY:
        raise invalid(f"Invalid currency: {currency}. The sandbox gateway supports only 'vnd' "
                      "(lowercase; amounts in whole đồng, zero-decimal).", param="currency")
    types = params.get("payment_method_types")
    if types not in (None, "") and (not isinstance(types, list) or any(t != "card" for t in types)):
        raise invalid("The payment method type provided is invalid. Only 'card' is supported.",
                      param="payment_method_types")
    confirm = _bool(params.get("confirm"), "confirm")
    payment_method = params.get("payment_method") or None
    pi_id = new_id("pi")
    pi = SandboxPaymentIntent(
        id=pi_id, amount=amount, currency=currency, client_secret=f"{pi_id}_secret_{new_id('x')[2:]}",
        status="requires_confirmation" if payment_method else "requires_payment_method",
        description=params.get("description") or None, meta=_metadata(params.get("metadata")),
        payment_method=payment_method, return_url=params.get("return_url") or None,
        amount_received=0, amount_refunded=0, created=now_ts(),
    )
    db.session.add(pi)
    db.session.flush()
    emit("payment_intent.created", payment_intent_object(pi), idempotency_key=idempotency_key)
    if confirm:
        if not payment_method:
            raise invalid("You cannot confirm this PaymentIntent because it's missing a payment method. "
                          "You can either update the PaymentIntent with a payment method and then confirm it "
                          "again, or confirm it again directly with a payment method.",
                          param="payment_method", code="payment_intent_unexpected_state")
        return _attempt(pi, idempotency_key)
    return pi, 200


def confirm_payment_intent(pi_id: str, params: dict,
                           idempotency_key: str | None = None) -> tuple[SandboxPaymentIntent, int]:
    _reject_unknown(params, {"payment_method", "return_url", "payment_method_types", "receipt_email"})
    pi = get_intent(pi_id, lock=True)
    if pi.status not in CONFIRMABLE:
        raise _unexpected_state(pi, "confirm", CONFIRMABLE)
    if params.get("payment_method"):
        pi.payment_method = params["payment_method"]
    if params.get("return_url"):
        pi.return_url = params["return_url"]
    if not pi.payment_method:
        raise invalid("You cannot confirm this PaymentIntent because it's missing a payment method. "
                      "You can either update the PaymentIntent with a payment method and then confirm it "
                      "again, or confirm it again directly with a payment method.",
                      param="payment_method", code="payment_intent_unexpected_state")
    return _attempt(pi, idempotency_key)


def _unexpected_state(pi: SandboxPaymentIntent, verb: str, allowed: tuple[str, ...]) -> GatewayError:
    return GatewayError(
        400, "invalid_request_error",
        f"You cannot {verb} this PaymentIntent because it has a status of {pi.status}. Only a PaymentIntent "
        f"with one of the following statuses may be {'canceled' if verb == 'cancel' else verb + 'ed'}: "
        f"{', '.join(allowed)}.",
        code="payment_intent_unexpected_state", payment_intent=payment_intent_object(pi),
    )


def _attempt(pi: SandboxPaymentIntent, idempotency_key: str | None) -> tuple[SandboxPaymentIntent, int]:
    pm = pi.payment_method or ""
    if pm in SUCCESS_CARDS:
        _succeed(pi, idempotency_key)
        return pi, 200
    if pm in THREE_DS_CARDS:
        pi.status = "requires_action"
        pi.last_payment_error = None
        emit("payment_intent.requires_action", payment_intent_object(pi), idempotency_key=idempotency_key)
        return pi, 200
    if pm in DECLINE_CARDS:
        code, decline_code, message = DECLINE_CARDS[pm]
        charge = new_id("ch")
        error = {"charge": charge, "code": code, "decline_code": decline_code,
                 "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
                 "message": message, "payment_method": {"id": pm, "object": "payment_method", "type": "card"},
                 "type": "card_error"}
        pi.status = "requires_payment_method"
        pi.latest_charge = charge
        pi.last_payment_error = error
        pi.payment_method = None
        emit("payment_intent.payment_failed", payment_intent_object(pi), idempotency_key=idempotency_key)
        raise GatewayError(402, "card_error", message, code=code, decline_code=decline_code, store=True,
                           charge=charge, payment_intent=payment_intent_object(pi),
                           payment_method=error["payment_method"])
    pi.payment_method = None
    raise invalid(f"No such PaymentMethod: '{pm}'", param="payment_method", code="resource_missing")


def _fee(amount: int) -> int:
    bps = int(_config("SANDBOX_GATEWAY_FEE_BPS", 150))
    fixed = int(_config("SANDBOX_GATEWAY_FEE_FIXED", 0))
    fee = (amount * bps + 5000) // 10000 + fixed  # round half up to the whole đồng
    return max(0, min(fee, amount))


def _available_on(created: int) -> int:
    return created + int(_config("SANDBOX_GATEWAY_AVAILABLE_DELAY_S", 0))


def _succeed(pi: SandboxPaymentIntent, idempotency_key: str | None) -> None:
    created = now_ts()
    charge = new_id("ch")
    fee = _fee(pi.amount)
    txn = SandboxBalanceTransaction(
        id=new_id("txn"), type="charge", amount=pi.amount, fee=fee, net=pi.amount - fee, currency=pi.currency,
        source=charge, description=pi.description, available_on=_available_on(created), created=created)
    db.session.add(txn)
    pi.status = "succeeded"
    pi.latest_charge = charge
    pi.charge_balance_transaction = txn.id
    pi.amount_received = pi.amount
    pi.last_payment_error = None
    emit("charge.succeeded", charge_object(pi), idempotency_key=idempotency_key)
    emit("payment_intent.succeeded", payment_intent_object(pi), idempotency_key=idempotency_key)


def complete_three_ds(pi_id: str, approve: bool) -> SandboxPaymentIntent:
    pi = get_intent(pi_id, lock=True)
    if pi.status != "requires_action":
        raise _unexpected_state(pi, "authenticate", ("requires_action",))
    if approve:
        _succeed(pi, None)
    else:
        pi.status = "requires_payment_method"
        pi.last_payment_error = {
            "code": "payment_intent_authentication_failure",
            "doc_url": "https://stripe.com/docs/error-codes/payment-intent-authentication-failure",
            "message": "The provided PaymentMethod has failed authentication. You can provide payment_method_data "
                       "or a new PaymentMethod to attempt to fulfill this PaymentIntent again.",
            "payment_method": {"id": pi.payment_method, "object": "payment_method", "type": "card"},
            "type": "invalid_request_error",
        }
        pi.payment_method = None
        emit("payment_intent.payment_failed", payment_intent_object(pi))
    return pi


def cancel_payment_intent(pi_id: str, params: dict, idempotency_key: str | None = None) -> SandboxPaymentIntent:
    _reject_unknown(params, {"cancellation_reason"})
    reason = params.get("cancellation_reason") or None
    if reason not in (None, "duplicate", "fraudulent", "requested_by_customer", "abandoned"):
        raise invalid("Invalid cancellation_reason: must be one of duplicate, fraudulent, requested_by_customer "
                      "or abandoned", param="cancellation_reason")
    pi = get_intent(pi_id, lock=True)
    if pi.status not in CANCELABLE:
        raise _unexpected_state(pi, "cancel", CANCELABLE)
    pi.status = "canceled"
    pi.canceled_at = now_ts()
    pi.cancellation_reason = reason
    emit("payment_intent.canceled", payment_intent_object(pi), idempotency_key=idempotency_key)
    return pi


# ---------------------------------------------------------------- refunds

def create_refund(params: dict, idempotency_key: str | None = None) -> SandboxRefund:
    _reject_unknown(params, {"payment_intent", "charge", "amount", "reason", "metadata"})
    pi_id = params.get("payment_intent")
    if not pi_id and params.get("charge"):
        pi = db.session.scalars(select(SandboxPaymentIntent)
                                .where(SandboxPaymentIntent.latest_charge == params["charge"])).one_or_none()
        if pi is None:
            raise missing("charge", params["charge"], "charge")
        pi = get_intent(pi.id, lock=True)
    elif pi_id:
        try:
            pi = get_intent(pi_id, lock=True)
        except GatewayError:
            raise missing("payment_intent", pi_id, "payment_intent") from None
    else:
        raise invalid("One of the following params should be provided for this request: payment_intent or charge.",
                      code="parameter_missing")
    reason = params.get("reason") or None
    if reason not in (None, "duplicate", "fraudulent", "requested_by_customer"):
        raise invalid("Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
                      param="reason")
    amount = _parse_amount(params.get("amount"), required=False)
    metadata = _metadata(params.get("metadata"))
    if pi.status != "succeeded":
        raise invalid(f"This PaymentIntent ({pi.id}) does not have a successful charge to refund.",
                      param="payment_intent")
    remaining = pi.amount_received - pi.amount_refunded
    if remaining <= 0:
        raise invalid(f"Charge {pi.latest_charge} has already been refunded.", code="charge_already_refunded",
                      store=True)
    if amount is None:
        amount = remaining
    if amount > remaining:
        raise invalid(f"Refund amount (₫{amount:,}) is greater than unrefunded amount on charge (₫{remaining:,})",
                      param="amount", code="amount_too_large", store=True)
    created = now_ts()
    refund = SandboxRefund(id=new_id("re"), payment_intent=pi.id, charge=pi.latest_charge, amount=amount,
                           currency=pi.currency, status="succeeded", reason=reason, meta=metadata, created=created)
    txn = SandboxBalanceTransaction(
        id=new_id("txn"), type="refund", amount=-amount, fee=0, net=-amount, currency=pi.currency,
        source=refund.id, description="REFUND FOR CHARGE", available_on=created, created=created)
    refund.balance_transaction = txn.id
    previous = {"amount_refunded": pi.amount_refunded}
    pi.amount_refunded += amount
    db.session.add_all([refund, txn])
    emit("charge.refunded", charge_object(pi), idempotency_key=idempotency_key, previous_attributes=previous)
    emit("refund.created", refund_object(refund), idempotency_key=idempotency_key)
    return refund


def get_refund(refund_id: str) -> SandboxRefund:
    refund = db.session.scalars(select(SandboxRefund).where(SandboxRefund.id == refund_id)).one_or_none()
    if refund is None:
        raise missing("refund", refund_id)
    return refund


# ---------------------------------------------------------------- payouts

def _end_of_day(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=HANOI).timestamp()) + 86400 - 1


def today() -> date:
    return datetime.now(HANOI).date()


def available_balance(until: int | None = None) -> int:
    until = now_ts() if until is None else until
    total = db.session.scalar(select(func.coalesce(func.sum(SandboxBalanceTransaction.net), 0))
                              .where(SandboxBalanceTransaction.payout.is_(None),
                                     SandboxBalanceTransaction.type != "payout",
                                     SandboxBalanceTransaction.available_on <= until))
    return int(total or 0)


def run_daily_payout(day: date | None = None) -> SandboxPayout | None:
    """Pay out the balance available at the end of ``day`` (Hanoi time): one payout a day.

    Returns the day's payout (the existing one when it already ran), or None when there is
    nothing positive to pay. Does not commit.
    """
    day = day or today()
    existing = db.session.scalars(select(SandboxPayout).where(SandboxPayout.day == day)).one_or_none()
    if existing is not None:
        return existing
    until = _end_of_day(day)
    txns = db.session.scalars(select(SandboxBalanceTransaction)
                              .where(SandboxBalanceTransaction.payout.is_(None),
                                     SandboxBalanceTransaction.type != "payout",
                                     SandboxBalanceTransaction.available_on <= until)
                              .with_for_update()).all()
    amount = sum(t.net for t in txns)
    if amount <= 0:
        return None
    created = now_ts()
    payout = SandboxPayout(id=new_id("po"), day=day, amount=amount, currency=CURRENCY, status="paid",
                           arrival_date=_end_of_day(day) + 1, balance_transaction="", created=created)
    txn = SandboxBalanceTransaction(
        id=new_id("txn"), type="payout", amount=-amount, fee=0, net=-amount, currency=CURRENCY, source=payout.id,
        description="STRIPE PAYOUT", available_on=created, payout=payout.id, created=created)
    payout.balance_transaction = txn.id
    for t in txns:
        t.payout = payout.id
    db.session.add_all([payout, txn])
    emit("payout.created", payout_object(payout))
    emit("payout.paid", payout_object(payout))
    return payout


# ---------------------------------------------------------------- lists

def paginate(model: Any, params: dict, url: str, serialise: Callable[[Any], dict], *filters: Any) -> dict:
    """Stripe's list object, newest first, with ``limit`` (1–100), ``starting_after``, ``ending_before``."""
    raw_limit = params.get("limit") or "10"
    if not str(raw_limit).isdigit() or not 1 <= int(raw_limit) <= 100:
        raise invalid("This value must be greater than or equal to 1 and less than or equal to 100.",
                      param="limit", code="parameter_invalid_integer")
    limit = int(raw_limit)
    query = select(model).where(*filters)
    after, before = params.get("starting_after"), params.get("ending_before")
    reverse = False
    if after or before:
        cursor_id = after or before
        cursor = db.session.scalar(select(model.seq).where(model.id == cursor_id))
        if cursor is None:
            raise missing(model.__tablename__.removeprefix("sandbox_").rstrip("s"), cursor_id,
                          "starting_after" if after else "ending_before")
        if after:
            query = query.where(model.seq < cursor)
        else:
            query = query.where(model.seq > cursor)
            reverse = True
    query = query.order_by(model.seq.asc() if reverse else model.seq.desc()).limit(limit + 1)
    rows = list(db.session.scalars(query).all())
    has_more = len(rows) > limit
    rows = rows[:limit]
    if reverse:
        rows.reverse()
    return {"object": "list", "data": [serialise(r) for r in rows], "has_more": has_more, "url": url}
