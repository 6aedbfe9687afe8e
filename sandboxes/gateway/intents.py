"""The sandbox gateway's PaymentIntents: Stripe's test cards, 3-D Secure, declines, fees, charges.

Functions here change the session and never commit: the HTTP layer commits once per request
(together with the idempotency record), then delivers the new events' webhooks.
"""

from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from sandboxes.gateway.base import (
    CURRENCY,
    GatewayError,
    bool_param,
    invalid,
    metadata_param,
    missing,
    new_id,
    now_ts,
    parse_amount,
    reject_unknown,
    setting,
)
from sandboxes.gateway.models import SandboxBalanceTransaction, SandboxPaymentIntent
from sandboxes.gateway.objects import charge_object, payment_intent_object
from sandboxes.gateway.webhooks import emit

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


def get_intent(pi_id: str, *, lock: bool = False) -> SandboxPaymentIntent:
    query = select(SandboxPaymentIntent).where(SandboxPaymentIntent.id == pi_id)
    if lock:
        query = query.with_for_update()
    pi = db.session.scalars(query).one_or_none()
    if pi is None:
        raise missing("payment_intent", pi_id)
    return pi


def create_payment_intent(params: dict, idempotency_key: str | None = None) -> tuple[SandboxPaymentIntent, int]:
    reject_unknown(params, {"amount", "currency", "metadata", "payment_method", "confirm", "description",
                             "payment_method_types", "return_url", "receipt_email", "statement_descriptor"})
    amount = parse_amount(params.get("amount"))
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
    confirm = bool_param(params.get("confirm"), "confirm")
    payment_method = params.get("payment_method") or None
    pi_id = new_id("pi")
    pi = SandboxPaymentIntent(
        id=pi_id, amount=amount, currency=currency, client_secret=f"{pi_id}_secret_{new_id('x')[2:]}",
        status="requires_confirmation" if payment_method else "requires_payment_method",
        description=params.get("description") or None, meta=metadata_param(params.get("metadata")),
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
    reject_unknown(params, {"payment_method", "return_url", "payment_method_types", "receipt_email"})
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
    bps = int(setting("SANDBOX_GATEWAY_FEE_BPS", 150))
    fixed = int(setting("SANDBOX_GATEWAY_FEE_FIXED", 0))
    fee = (amount * bps + 5000) // 10000 + fixed  # round half up to the whole đồng
    return max(0, min(fee, amount))


def _available_on(created: int) -> int:
    return created + int(setting("SANDBOX_GATEWAY_AVAILABLE_DELAY_S", 0))


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
    reject_unknown(params, {"cancellation_reason"})
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

