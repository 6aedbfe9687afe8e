"""The sandbox gateway's money after the charge: refunds, the balance, daily payouts, and Stripe's lists.

Like intents.py: changes the session, never commits.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from core.extensions import db
from sandboxes.gateway.base import (
    CURRENCY,
    HANOI,
    GatewayError,
    invalid,
    metadata_param,
    missing,
    new_id,
    now_ts,
    parse_amount,
    reject_unknown,
)
from sandboxes.gateway.intents import get_intent
from sandboxes.gateway.models import SandboxBalanceTransaction, SandboxPaymentIntent, SandboxPayout, SandboxRefund
from sandboxes.gateway.objects import charge_object, payout_object, refund_object
from sandboxes.gateway.webhooks import emit

# ---------------------------------------------------------------- refunds

def create_refund(params: dict, idempotency_key: str | None = None) -> SandboxRefund:
    reject_unknown(params, {"payment_intent", "charge", "amount", "reason", "metadata"})
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
    amount = parse_amount(params.get("amount"), required=False)
    metadata = metadata_param(params.get("metadata"))
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

def created_filters(model: Any, created: Any) -> list:
    """Stripe's ``created`` filter: a timestamp, or ``created[gte|gt|lte|lt]``."""
    if created in (None, ""):
        return []
    bounds = created if isinstance(created, dict) else {"eq": created}
    filters = []
    for op, value in bounds.items():
        if op not in ("gte", "gt", "lte", "lt", "eq") or not str(value).isdigit():
            raise invalid(f"Invalid created[{op}]: {value}", param=f"created[{op}]", code="parameter_invalid_integer")
        column, ts = model.created, int(value)
        filters.append({"gte": column >= ts, "gt": column > ts, "lte": column <= ts, "lt": column < ts,
                        "eq": column == ts}[op])
    return filters


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
