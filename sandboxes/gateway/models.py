"""The sandbox gateway's own state, stored in the app's database (tables ``sandbox_*``, in the
sandboxes' own metadata and migration branch ``sandbox_gateway``).

Times are unix seconds (Stripe's ``created``), so they compare the same on every backend.
Every listable table has an integer ``seq`` (insertion order, Stripe lists newest first)
and the public Stripe-style ``id``.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import JSON, BigInteger, Date, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sandboxes.db import SandboxModel


class SandboxPaymentIntent(SandboxModel):
    __tablename__ = "sandbox_payment_intents"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(32))
    client_secret: Mapped[str] = mapped_column(String(80))
    description: Mapped[str | None] = mapped_column(String(1000))
    meta: Mapped[dict] = mapped_column("metadata", JSON, default=dict)
    payment_method: Mapped[str | None] = mapped_column(String(80))
    return_url: Mapped[str | None] = mapped_column(String(2000))
    latest_charge: Mapped[str | None] = mapped_column(String(40))
    charge_balance_transaction: Mapped[str | None] = mapped_column(String(40))
    amount_received: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    last_payment_error: Mapped[dict | None] = mapped_column(JSON)
    cancellation_reason: Mapped[str | None] = mapped_column(String(40))
    canceled_at: Mapped[int | None] = mapped_column(BigInteger)
    created: Mapped[int] = mapped_column(BigInteger)


class SandboxRefund(SandboxModel):
    __tablename__ = "sandbox_refunds"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    payment_intent: Mapped[str] = mapped_column(String(40), index=True)
    charge: Mapped[str] = mapped_column(String(40))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(40))
    meta: Mapped[dict] = mapped_column("metadata", JSON, default=dict)
    balance_transaction: Mapped[str | None] = mapped_column(String(40))
    created: Mapped[int] = mapped_column(BigInteger)


class SandboxBalanceTransaction(SandboxModel):
    __tablename__ = "sandbox_balance_transactions"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(20), index=True)  # charge | refund | payout
    amount: Mapped[int] = mapped_column(BigInteger)
    fee: Mapped[int] = mapped_column(BigInteger, default=0)
    net: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    source: Mapped[str] = mapped_column(String(40))
    description: Mapped[str | None] = mapped_column(String(1000))
    available_on: Mapped[int] = mapped_column(BigInteger)
    payout: Mapped[str | None] = mapped_column(String(40), index=True)  # the payout that paid it out
    created: Mapped[int] = mapped_column(BigInteger)


class SandboxPayout(SandboxModel):
    __tablename__ = "sandbox_payouts"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    day: Mapped[date] = mapped_column(Date, unique=True)  # one automatic payout a day (Hanoi time)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))
    arrival_date: Mapped[int] = mapped_column(BigInteger)
    balance_transaction: Mapped[str] = mapped_column(String(40))
    created: Mapped[int] = mapped_column(BigInteger)


class SandboxEvent(SandboxModel):
    __tablename__ = "sandbox_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(60), index=True)
    body: Mapped[str] = mapped_column(Text)  # the event's JSON, exactly as delivered
    created: Mapped[int] = mapped_column(BigInteger)


class SandboxIdempotencyKey(SandboxModel):
    __tablename__ = "sandbox_idempotency_keys"
    __table_args__ = (UniqueConstraint("api_key_hash", "key"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    api_key_hash: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created: Mapped[int] = mapped_column(BigInteger)


class SandboxWebhookDelivery(SandboxModel):
    __tablename__ = "sandbox_webhook_deliveries"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(40), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(20), index=True)  # pending | succeeded | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[int] = mapped_column(BigInteger, index=True)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    delivered_at: Mapped[int | None] = mapped_column(BigInteger)
    created: Mapped[int] = mapped_column(BigInteger)
