"""Issued (frozen) agent statements: the statement, its lines, and the counter that numbers them.

An issued statement never changes: its figures are stored as they were (JSON), its lines are the
ledger transactions behind them (one row each), and both are signed (Ed25519, the e-receipts' key).
A ledger transaction is on one issued statement per scope at most (the unique ``scope_key`` +
``ledger_transaction_id``): a late correction — a payment or refund booked after the statement of
its period was issued — is carried forward to the next statement issued for the scope.

Numbers are gap-free: ``finance_statement_counters`` holds the last number of the series, locked
FOR UPDATE by the issuing transaction (a rollback gives the number back); a sequence would skip.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.timeutil import utcnow


class StatementCounter(db.Model):
    __tablename__ = "finance_statement_counters"

    series: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class Statement(db.Model):
    """A statement issued for a period and a scope (the centre, an organisation or an agent point)."""

    __tablename__ = "finance_statements"
    __table_args__ = (UniqueConstraint("series", "number"),
                      Index("ix_finance_statements_scope_period", "scope_key", "period_start", "period_end"))

    id: Mapped[int] = mapped_column(primary_key=True)
    series: Mapped[str] = mapped_column(String(40))
    number: Mapped[int] = mapped_column(Integer)
    scope_key: Mapped[str] = mapped_column(String(40))  # "centre", "org:<id>" or "point:<id>"
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    agent_point_id: Mapped[int | None] = mapped_column(ForeignKey("agent_points.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)  # included
    figures: Mapped[dict] = mapped_column(JSON)  # the figures as issued (the period's, corrections, totals)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    issued_by: Mapped[str] = mapped_column(String(300))
    canonical: Mapped[str] = mapped_column(Text)  # exactly the signed bytes (UTF-8 JSON)
    signature: Mapped[str] = mapped_column(String(200))
    key_id: Mapped[str] = mapped_column(String(32))


class StatementLine(db.Model):
    """One ledger transaction (a payment or a refund) on an issued statement, with its amounts as booked."""

    __tablename__ = "finance_statement_lines"
    __table_args__ = (UniqueConstraint("scope_key", "ledger_transaction_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("finance_statements.id"), index=True)
    scope_key: Mapped[str] = mapped_column(String(40))
    ledger_transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"))
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id"))
    kind: Mapped[str] = mapped_column(String(30))  # payment | refund
    method: Mapped[str | None] = mapped_column(String(20))  # card | vietqr | cash
    booked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    amount_vnd: Mapped[int] = mapped_column(BigInteger)  # money in (> 0) or back out (< 0)
    state_fee_vnd: Mapped[int] = mapped_column(BigInteger)
    service_fee_vnd: Mapped[int] = mapped_column(BigInteger)
    courier_fee_vnd: Mapped[int] = mapped_column(BigInteger)
    correction: Mapped[bool] = mapped_column(Boolean, default=False)  # carried forward from an issued period
