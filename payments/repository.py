"""Payments queries (select() style). Flushes, never commits."""

from __future__ import annotations

from sqlalchemy import DateTime, Integer, String, bindparam, func, select, text

from core.extensions import db
from core.timeutil import utcnow
from payments import ledger
from payments.models import (
    LedgerEntry,
    LedgerTransaction,
    Payment,
    Receipt,
    ServiceFeeRule,
    WebhookEvent,
)


def fee_rules(organisation_id: int) -> list[ServiceFeeRule]:
    return list(db.session.scalars(select(ServiceFeeRule).where(ServiceFeeRule.organisation_id == organisation_id)
                                   .order_by(ServiceFeeRule.effective_from)))


def payment_for_dossier(dossier_id: int, *, lock: bool = False) -> Payment | None:
    query = select(Payment).where(Payment.dossier_id == dossier_id)
    if lock:
        query = query.with_for_update()
    return db.session.scalars(query).one_or_none()


def payment_by_id(payment_id: int, *, lock: bool = False) -> Payment | None:
    query = select(Payment).where(Payment.id == payment_id)
    if lock:
        query = query.with_for_update()
    return db.session.scalars(query.execution_options(populate_existing=True)).one_or_none()


def payment_by_intent(intent_id: str) -> Payment | None:
    return db.session.scalars(select(Payment).where(Payment.gateway_intent_id == intent_id)).one_or_none()


def payment_by_key(idempotency_key: str) -> Payment | None:
    return db.session.scalars(select(Payment).where(Payment.intent_idempotency_key == idempotency_key)).one_or_none()


def payment_by_transfer_reference(reference: str) -> Payment | None:
    return db.session.scalars(select(Payment).where(Payment.transfer_reference == reference)).one_or_none()


def is_booked(kind: str, reference: str) -> bool:
    return db.session.scalar(select(func.count()).select_from(LedgerTransaction).where(
        LedgerTransaction.kind == kind, LedgerTransaction.reference == reference)) > 0


def book(transaction: ledger.Transaction, *, dossier_id: int | None = None, memo: str | None = None) -> bool:
    """Store a balanced transaction once; False when (kind, reference) is already booked.

    Callers book under the row lock of what the money is for (the payment), so the check
    cannot race; the unique (kind, reference) is the backstop that makes a racing second
    writer fail and retry. ``ledger.Transaction`` has already refused anything unbalanced.
    """
    if is_booked(transaction.kind, transaction.reference):
        return False
    row = LedgerTransaction(kind=transaction.kind, reference=transaction.reference, dossier_id=dossier_id, memo=memo)
    db.session.add(row)
    db.session.flush()
    db.session.add_all(LedgerEntry(transaction_id=row.id, account=str(e.account), party=e.party,
                                   amount_vnd=e.amount_vnd) for e in transaction.entries)
    db.session.flush()
    return True


def balances() -> list[tuple[str, str | None, int]]:
    """(account, party, balance) over the whole ledger."""
    rows = db.session.execute(select(LedgerEntry.account, LedgerEntry.party, func.sum(LedgerEntry.amount_vnd))
                              .group_by(LedgerEntry.account, LedgerEntry.party)
                              .order_by(LedgerEntry.account, LedgerEntry.party)).all()
    return [(account, party, int(total)) for account, party, total in rows]


_NEXT_RECEIPT = text(
    "INSERT INTO receipt_counters (series, last_number) VALUES (:series, 1) "
    "ON CONFLICT (series) DO UPDATE SET last_number = receipt_counters.last_number + 1 "
    "RETURNING last_number"
).bindparams(bindparam("series", type_=String()))


def next_receipt_number(series: str) -> int:
    """The series' next number, taken inside the caller's transaction (a rollback gives it back)."""
    return int(db.session.execute(_NEXT_RECEIPT.columns(last_number=Integer()), {"series": series}).scalar_one())


def receipt_by_token(token: str) -> Receipt | None:
    return db.session.scalars(select(Receipt).where(Receipt.verify_token == token)).one_or_none()


def receipt_for(document: str, kind: str, source_reference: str) -> Receipt | None:
    return db.session.scalars(select(Receipt).where(Receipt.document == document, Receipt.kind == kind,
                                                    Receipt.source_reference == source_reference)).one_or_none()


def receipts_of_payment(payment_id: int) -> list[Receipt]:
    return list(db.session.scalars(select(Receipt).where(Receipt.payment_id == payment_id).order_by(Receipt.id)))


def receipts_of_dossier(dossier_id: int) -> list[Receipt]:
    return list(db.session.scalars(select(Receipt).where(Receipt.dossier_id == dossier_id).order_by(Receipt.id)))


def webhook_event(event_id: str) -> WebhookEvent | None:
    return db.session.scalars(select(WebhookEvent).where(WebhookEvent.event_id == event_id)).one_or_none()


_RECORD_EVENT_PG = text(
    "WITH e AS (INSERT INTO payment_webhook_events (event_id, type, object_id, payload, received_at, outcome) "
    "VALUES (:event_id, :type, :object_id, :payload, :now, 'pending') ON CONFLICT (event_id) DO NOTHING "
    "RETURNING event_id) "
    "INSERT INTO outbox (topic, payload, status, due_at, attempts, created_at) "
    "SELECT :topic, json_build_object('event_id', e.event_id), 'pending', :now, 0, :now FROM e RETURNING id"
).bindparams(*(bindparam(name, type_=String()) for name in ("event_id", "type", "object_id", "payload", "topic")),
             bindparam("now", type_=DateTime(timezone=True)))  # the platform's clock, not the database's


def record_webhook_event(event_id: str, type_: str, object_id: str | None, payload: str, topic: str) -> bool:
    """Store a gateway event and its outbox message once; False when the event id is already stored.

    On PostgreSQL one statement does both (the webhook path is the hot one), and it commits by
    itself: a single statement is atomic, so autocommit spares the BEGIN and COMMIT round
    trips while the commit stays durable. Elsewhere the ORM does it in the caller's
    transaction and a duplicate is the unique index's IntegrityError.
    """
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            values = {"event_id": event_id, "type": type_, "object_id": object_id, "payload": payload,
                      "topic": topic, "now": utcnow()}
            return conn.execute(_RECORD_EVENT_PG, values).first() is not None
    from core.outbox import enqueue

    if db.session.scalar(select(func.count()).select_from(WebhookEvent).where(WebhookEvent.event_id == event_id)):
        return False
    db.session.add(WebhookEvent(event_id=event_id, type=type_, object_id=object_id, payload=payload,
                                outcome="pending"))
    enqueue(topic, {"event_id": event_id})
    return True
