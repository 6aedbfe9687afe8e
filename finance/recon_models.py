"""The gateway reconciliation's own tables: what the gateway said (staged), and each run.

``finance_gateway_transactions`` and ``finance_gateway_payouts`` hold the gateway's balance
transactions and payouts as fetched for a period, upserted by the gateway's id, so a second fetch
of the same period replaces rather than duplicates. The matching (finance.recon_sql) compares them
with the ledger in set-based SQL. ``payment_intent`` is resolved at fetch time from the expanded
``source`` (a charge's or a refund's PaymentIntent): our ledger references intents, the gateway's
balance transactions reference charges.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.timeutil import utcnow


class GatewayTransaction(db.Model):
    """One balance transaction as the gateway gave it."""

    __tablename__ = "finance_gateway_transactions"
    __table_args__ = (Index("ix_finance_gateway_transactions_type_created", "type", "created"),)

    id: Mapped[str] = mapped_column(String(100), primary_key=True)  # txn_…
    type: Mapped[str] = mapped_column(String(40))  # charge | payment | refund | payout | adjustment | …
    source: Mapped[str | None] = mapped_column(String(100), index=True)  # ch_ / py_ / re_ / po_ as given
    payment_intent: Mapped[str | None] = mapped_column(String(100), index=True)  # the source's intent, if any
    amount: Mapped[int] = mapped_column(BigInteger)
    fee: Mapped[int] = mapped_column(BigInteger, default=0)
    net: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="vnd")
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payout_id: Mapped[str | None] = mapped_column(String(100), index=True)  # the payout that contains it
    reporting_category: Mapped[str | None] = mapped_column(String(60))
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GatewayPayout(db.Model):
    """One payout of the gateway to the centre's bank account, and the statement line it arrived as."""

    __tablename__ = "finance_gateway_payouts"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)  # po_…
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="vnd")
    arrival_date: Mapped[date] = mapped_column(Date, index=True)  # Hanoi date the bank should show it
    status: Mapped[str] = mapped_column(String(20))  # paid | pending | in_transit | canceled | failed
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    bank_line_id: Mapped[int | None] = mapped_column(ForeignKey("bank_statement_lines.id"), unique=True)
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReconciliationRun(db.Model):
    """One reconciliation of a period: when, by whom, what it fetched and found per class."""

    __tablename__ = "finance_reconciliation_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="running")  # running | succeeded | failed
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # {"fetched": {...}, "found": {kind: n}, "new": {kind: n}, "cleared": n, "bank": {...}}
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    actor: Mapped[str] = mapped_column(String(300))
    error: Mapped[str | None] = mapped_column(Text)
