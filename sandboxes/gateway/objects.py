"""The sandbox's rows as Stripe's JSON objects."""

from __future__ import annotations

import json

from flask import has_request_context, request
from sqlalchemy import select

from core.extensions import db
from sandboxes.gateway.base import now_ts, public_base
from sandboxes.gateway.models import (
    SandboxBalanceTransaction,
    SandboxEvent,
    SandboxPaymentIntent,
    SandboxPayout,
    SandboxRefund,
)


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
    base = request.host_url.rstrip("/") if has_request_context() else public_base()
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


def balance_transaction_object(txn: SandboxBalanceTransaction, now: int | None = None,
                               expand_source: bool = False) -> dict:
    """Stripe's balance transaction; with ``expand_source`` its ``source`` is the charge, refund or
    payout object (``expand[]=data.source``), as Stripe expands it."""
    now = now_ts() if now is None else now
    fee_details = [{"amount": txn.fee, "application": None, "currency": txn.currency,
                    "description": "Stripe processing fees", "type": "stripe_fee"}] if txn.fee else []
    return {
        "id": txn.id, "object": "balance_transaction", "amount": txn.amount,
        "available_on": txn.available_on, "created": txn.created, "currency": txn.currency,
        "description": txn.description, "exchange_rate": None, "fee": txn.fee, "fee_details": fee_details,
        "net": txn.net, "reporting_category": txn.type,
        "source": _source_object(txn.source) if expand_source else txn.source,
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



def _source_object(source: str) -> dict | str:
    if source.startswith("ch_"):
        pi = db.session.scalars(select(SandboxPaymentIntent)
                                .where(SandboxPaymentIntent.latest_charge == source)).first()
        return charge_object(pi) if pi is not None else source
    if source.startswith("re_"):
        refund = db.session.scalars(select(SandboxRefund).where(SandboxRefund.id == source)).first()
        return refund_object(refund) if refund is not None else source
    if source.startswith("po_"):
        payout = db.session.scalars(select(SandboxPayout).where(SandboxPayout.id == source)).first()
        return payout_object(payout) if payout is not None else source
    return source
