"""Payments: fee rules, one payment per dossier, refunds, the ledger, webhooks, receipts.

Money is an integer number of đồng (BigInteger). The ledger tables are append-only: on
PostgreSQL triggers refuse UPDATE and DELETE and a deferred constraint trigger refuses a
transaction whose entries do not sum to zero at commit; the service builds every
transaction through ``payments.ledger``, which refuses the same, on every backend.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models import enum_column
from core.timeutil import utcnow


class Method(enum.StrEnum):
    CARD = "card"
    VIETQR = "vietqr"
    CASH = "cash"


class PaymentStatus(enum.StrEnum):
    AWAITING = "awaiting"  # quote fixed; waiting for the card, the transfer or the cash
    REQUIRES_ACTION = "requires_action"  # the card's bank wants 3-D Secure
    PROCESSING = "processing"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    CANCELED = "canceled"


class ServiceFeeRule(db.Model):
    """An agent organisation's service fee from a date on (a new row is a new version)."""

    __tablename__ = "service_fee_rules"
    __table_args__ = (UniqueConstraint("organisation_id", "effective_from"),
                      CheckConstraint("flat_vnd >= 0 AND percent >= 0 AND minimum_vnd >= 0", name="fee_non_negative"),
                      CheckConstraint("maximum_vnd IS NULL OR maximum_vnd >= minimum_vnd", name="fee_max_above_min"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    effective_from: Mapped[date] = mapped_column(Date)
    flat_vnd: Mapped[int] = mapped_column(BigInteger, default=0)
    percent: Mapped[float] = mapped_column(Numeric(6, 3), default=0)
    minimum_vnd: Mapped[int] = mapped_column(BigInteger, default=0)
    maximum_vnd: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Payment(db.Model):
    """What a dossier costs and how it was paid; one per dossier, one PaymentIntent at most."""

    __tablename__ = "payments"
    __table_args__ = (CheckConstraint("amount_vnd = state_fee_vnd + service_fee_vnd + courier_fee_vnd",
                                      name="payment_amount_is_sum"),
                      CheckConstraint("refunded_vnd >= 0 AND refunded_vnd <= amount_vnd", name="refund_within_paid"),
                      # The monitoring: a period's settled payments by method, from the index alone.
                      Index("ix_payments_paid_at", "paid_at", postgresql_include=["method", "status", "amount_vnd"]))

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    method: Mapped[Method] = mapped_column(enum_column(Method, "payment_method"))
    status: Mapped[PaymentStatus] = mapped_column(enum_column(PaymentStatus, "payment_status"), index=True)
    state_fee_vnd: Mapped[int] = mapped_column(BigInteger)
    service_fee_vnd: Mapped[int] = mapped_column(BigInteger)
    courier_fee_vnd: Mapped[int] = mapped_column(BigInteger)
    amount_vnd: Mapped[int] = mapped_column(BigInteger)
    refunded_vnd: Mapped[int] = mapped_column(BigInteger, default=0)
    # The gateway: the key of "create the intent", stored before the first attempt, and the intent.
    intent_idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    gateway_intent_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    client_secret: Mapped[str | None] = mapped_column(String(200))
    next_action_url: Mapped[str | None] = mapped_column(String(2000))
    last_error_code: Mapped[str | None] = mapped_column(String(60))
    # VietQR: the reference the citizen's bank carries into the statement description.
    transfer_reference: Mapped[str] = mapped_column(String(40), unique=True)
    bank_reference: Mapped[str | None] = mapped_column(String(100))
    collected_by: Mapped[str | None] = mapped_column(String(300))  # cash: who took it
    # VietQR: the citizen showed the bank's confirmation at the counter. Provisional only: nothing is
    # booked until the statement line matches (payments.provisional).
    provisional_bank_reference: Mapped[str | None] = mapped_column(String(100))
    provisional_by: Mapped[str | None] = mapped_column(String(300))
    provisional_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    gateway_fee_vnd: Mapped[int | None] = mapped_column(BigInteger)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    # Loaded when read (the refund pages, refundable()), not with every payment: most reads never need them.
    refunds: Mapped[list[Refund]] = relationship(back_populates="payment", order_by="Refund.id")

    def components(self) -> dict[str, int]:
        return {"state_fee": self.state_fee_vnd, "service_fee": self.service_fee_vnd,
                "courier_fee": self.courier_fee_vnd}


class CardAttempt(db.Model):
    """One confirmation of the intent with a card; its key is stored before the gateway call."""

    __tablename__ = "payment_card_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    payment_method: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str | None] = mapped_column(String(40))  # the intent's status, or the decline code
    created_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Refund(db.Model):
    __tablename__ = "payment_refunds"
    __table_args__ = (CheckConstraint("amount_vnd > 0", name="refund_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    amount_vnd: Mapped[int] = mapped_column(BigInteger)
    components: Mapped[dict] = mapped_column(JSON)  # how much of each component goes back
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))  # pending | succeeded | failed
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    gateway_refund_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    requested_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    payment: Mapped[Payment] = relationship(back_populates="refunds")


class LedgerTransaction(db.Model):
    """A balanced set of entries; (kind, reference) is unique, so nothing is booked twice."""

    __tablename__ = "ledger_transactions"
    __table_args__ = (UniqueConstraint("kind", "reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    reference: Mapped[str] = mapped_column(String(120))
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id"), index=True)
    booked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    memo: Mapped[str | None] = mapped_column(String(500))

    entries: Mapped[list[LedgerEntry]] = relationship(order_by="LedgerEntry.id", lazy="selectin")


class LedgerEntry(db.Model):
    __tablename__ = "ledger_entries"
    __table_args__ = (CheckConstraint("amount_vnd <> 0", name="entry_not_zero"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    account: Mapped[str] = mapped_column(String(40), index=True)
    party: Mapped[str | None] = mapped_column(String(40))  # the agent organisation a payable or cash is owed by/to
    amount_vnd: Mapped[int] = mapped_column(BigInteger)  # debit > 0, credit < 0


class WebhookEvent(db.Model):
    """Every verified gateway event, once (by its id), with what became of it."""

    __tablename__ = "payment_webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(100), unique=True)
    type: Mapped[str] = mapped_column(String(100))
    object_id: Mapped[str | None] = mapped_column(String(100))
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    outcome: Mapped[str] = mapped_column(String(20), default="pending")  # pending | processed | ignored
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReceiptCounter(db.Model):
    __tablename__ = "receipt_counters"

    series: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class Receipt(db.Model):
    """A signed document: a state fee receipt (biên lai) or a service invoice (hóa đơn), numbered
    without gaps per series. ``document`` says which; ``combined`` is a receipt of before the split."""

    __tablename__ = "receipts"
    __table_args__ = (UniqueConstraint("series", "number"), UniqueConstraint("document", "kind", "source_reference"))

    id: Mapped[int] = mapped_column(primary_key=True)
    series: Mapped[str] = mapped_column(String(40))
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # payment | refund
    document: Mapped[str] = mapped_column(String(20))  # fee_receipt | service_invoice | combined (before 0022)
    source_reference: Mapped[str] = mapped_column(String(120))  # the payment or refund it is for
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    canonical: Mapped[str] = mapped_column(Text)  # exactly the signed bytes (UTF-8 JSON)
    signature: Mapped[str] = mapped_column(String(200))
    key_id: Mapped[str] = mapped_column(String(32))
    verify_token: Mapped[str] = mapped_column(String(40), unique=True)


class BankStatementImport(db.Model):
    __tablename__ = "bank_statement_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)  # the same file twice is refused
    imported_by: Mapped[str] = mapped_column(String(300))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    summary: Mapped[dict] = mapped_column(JSON, default=dict)


class BankStatementLine(db.Model):
    __tablename__ = "bank_statement_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("bank_statement_imports.id"), index=True)
    bank_reference: Mapped[str] = mapped_column(String(100), unique=True)  # a transfer is booked once
    booked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    amount_vnd: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(String(1000))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(20))  # matched | unmatched | wrong_amount | already_paid
