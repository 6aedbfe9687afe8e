"""Finance's own records: cash handed over by agents, and the exception queue.

Both are append-only in spirit: a handover is never edited (a wrong one is reversed by a new
one); an exception item keeps its detected facts as they were found, and what finance did about
it is a row in ``finance_exception_actions`` (who, when, what, why). The item's ``status`` and
``assignee`` are the latest action's outcome, kept on the row for the queue's queries and changed
only together with the action that explains them.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models import enum_column
from core.timeutil import utcnow


class HandoverMethod(enum.StrEnum):
    BANK_DEPOSIT = "bank_deposit"  # paid into the centre's account: the statement line confirms it
    COUNTER = "counter"  # counted at the centre's cashier, against a signed receipt


class CashHandover(db.Model):
    """Cash an agent point gave the centre, against what it collected.

    Never edited: a wrong handover is cancelled by a reversal, a second row naming it in ``reverses_id``.
    """

    __tablename__ = "cash_handovers"
    __table_args__ = (CheckConstraint("amount_vnd > 0", name="handover_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    agent_point_id: Mapped[int | None] = mapped_column(ForeignKey("agent_points.id"), index=True)
    amount_vnd: Mapped[int] = mapped_column(BigInteger)
    handed_over_on: Mapped[date] = mapped_column(Date)
    method: Mapped[HandoverMethod] = mapped_column(enum_column(HandoverMethod, "handover_method"))
    # The bank's reference of the deposit, or the number of the centre's counter receipt: unique among the
    # handovers that stand (a reversed one and its reversal keep it, so the corrected record may reuse it).
    reference: Mapped[str] = mapped_column(String(100), index=True)
    received_by: Mapped[str] = mapped_column(String(300))  # who at the centre received it
    note: Mapped[str | None] = mapped_column(Text)
    # A bank deposit is confirmed when the statement line with its reference is imported (one standing
    # handover per line; a reversed deposit's line may confirm the corrected one).
    bank_line_id: Mapped[int | None] = mapped_column(ForeignKey("bank_statement_lines.id"), index=True)
    ledger_transaction_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id"))
    recorded_by: Mapped[str] = mapped_column(String(300))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # A reversal: the handover it cancels (same amount, same reference; its ledger entries reversed).
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("cash_handovers.id"), unique=True)


class ExceptionKind(enum.StrEnum):
    """Every class of mismatch the reconciliation finds."""

    MISSING_AT_GATEWAY = "missing_at_gateway"  # in the ledger, not among the gateway's balance transactions
    MISSING_IN_LEDGER = "missing_in_ledger"  # at the gateway, not in the ledger
    AMOUNT_MISMATCH = "amount_mismatch"  # both sides have it, the amounts differ
    FEE_MISMATCH = "fee_mismatch"  # the gateway's fee differs from the one booked
    DUPLICATE = "duplicate"  # the gateway charged or refunded the same thing twice
    REFUND_WITHOUT_PAYMENT = "refund_without_payment"  # a refund whose payment is nowhere
    PAYOUT_SUM_MISMATCH = "payout_sum_mismatch"  # a payout whose transactions do not sum to it
    PAYOUT_NOT_IN_BANK = "payout_not_in_bank"  # the gateway paid out; the bank statement never showed it
    BANK_UNMATCHED = "bank_unmatched"  # a credit on the bank statement nothing explains
    CASH_OVERDUE = "cash_overdue"  # cash an agent has not handed over after N working days


class ExceptionStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class ExceptionAction(enum.StrEnum):
    DETECTED = "detected"  # the reconciliation raised it
    ASSIGNED = "assigned"
    ADJUSTED = "adjusted"  # an adjustment was booked through the ledger
    LINKED = "linked"  # linked to the dossier it belongs to
    EXPLAINED = "explained"  # marked as explained, with the reason
    CLEARED = "cleared"  # the reconciliation found it matched since (e.g. a late statement line)
    REOPENED = "reopened"


class FinanceException(db.Model):
    """One mismatch, with the records on both sides as found; resolved by an action with a reason."""

    __tablename__ = "finance_exceptions"
    __table_args__ = (Index("ix_finance_exceptions_status_kind", "status", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ExceptionKind] = mapped_column(enum_column(ExceptionKind, "finance_exception_kind"))
    # What makes it one item: the same mismatch found by the next run is the same row (e.g. "txn:txn_123").
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    amount_vnd: Mapped[int] = mapped_column(BigInteger)  # the money in question (the difference, or the whole)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # its age counts from here
    detected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ours: Mapped[dict] = mapped_column(JSON, default=dict)  # our records: payment, refund, ledger, handover
    theirs: Mapped[dict] = mapped_column(JSON, default=dict)  # the gateway's or the bank's records
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    agent_point_id: Mapped[int | None] = mapped_column(ForeignKey("agent_points.id"))
    status: Mapped[ExceptionStatus] = mapped_column(enum_column(ExceptionStatus, "finance_exception_status"),
                                                    default=ExceptionStatus.OPEN)
    assignee_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    actions: Mapped[list[FinanceExceptionAction]] = relationship(order_by="FinanceExceptionAction.id",
                                                                 back_populates="item")


class FinanceExceptionAction(db.Model):
    """What was done about an exception item, by whom and why. Never updated, never deleted."""

    __tablename__ = "finance_exception_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    exception_id: Mapped[int] = mapped_column(ForeignKey("finance_exceptions.id"), index=True)
    action: Mapped[ExceptionAction] = mapped_column(enum_column(ExceptionAction, "finance_exception_action"))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict] = mapped_column(JSON, default=dict)  # e.g. the ledger transaction, the dossier
    actor: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    item: Mapped[FinanceException] = relationship(back_populates="actions")


class TreasuryTransfer(db.Model):
    """State fees paid to the State Treasury (Kho bạc Nhà nước) out of the centre's bank account.

    Booked through the ledger (treasury_payable debit, bank credit); never edited: a wrong one is
    answered by the treasury's own correction, recorded as what it is.
    """

    __tablename__ = "treasury_transfers"
    __table_args__ = (CheckConstraint("amount_vnd > 0", name="treasury_transfer_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    amount_vnd: Mapped[int] = mapped_column(BigInteger)
    transferred_on: Mapped[date] = mapped_column(Date, index=True)  # the local day the money left
    # The State Treasury's receipt number or the bank's reference of the transfer.
    reference: Mapped[str] = mapped_column(String(100), unique=True)
    note: Mapped[str | None] = mapped_column(Text)
    ledger_transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"))
    recorded_by: Mapped[str] = mapped_column(String(300))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
