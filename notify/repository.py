"""SMS queries (select() style). Flushes, never commits."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import func, or_, select, text, update

from core.extensions import db
from core.pii import blind_index
from notify.models import FINAL, SmsMessage, SmsReceipt, SmsStatus


def by_id(sms_id: int, *, lock: bool = False) -> SmsMessage | None:
    query = select(SmsMessage).where(SmsMessage.id == sms_id)
    if lock:
        query = query.with_for_update()
    return db.session.scalars(query.execution_options(populate_existing=True)).one_or_none()


def by_dedupe_key(key: str) -> SmsMessage | None:
    return db.session.scalars(select(SmsMessage).where(SmsMessage.dedupe_key == key)).one_or_none()


def by_provider_id(provider_message_id: str, *, lock: bool = False) -> SmsMessage | None:
    query = select(SmsMessage).where(SmsMessage.provider_message_id == provider_message_id)
    if lock:
        query = query.with_for_update()
    return db.session.scalars(query.execution_options(populate_existing=True)).one_or_none()


def commit_without_waiting_for_disk() -> None:
    """This transaction's commit does not wait for its WAL to be flushed (PostgreSQL; a no-op elsewhere).

    Only for writes that a crash of the database may lose without harm: it stays visible and
    atomic, and a later synchronous commit flushes it too.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL synchronous_commit = off"))


def record_sent(sms_id: int, provider_message_id: str, sent_at: datetime) -> tuple[bool, bool]:
    """Store the provider's id and the time sent, unless the row has a provider id already: one UPDATE,
    which takes the row's lock. Returns (stored, whether receipts for that id came before it)."""
    early = (select(SmsReceipt.id).where(SmsReceipt.provider_message_id == provider_message_id,
                                         SmsReceipt.outcome == "unknown").exists())
    row = db.session.execute(
        update(SmsMessage).where(SmsMessage.id == sms_id, SmsMessage.provider_message_id.is_(None))
        .values(provider_message_id=provider_message_id, sent_at=sent_at, last_error=None)
        .returning(early).execution_options(synchronize_session=False)).first()
    return (row is not None, bool(row[0]) if row is not None else False)


def lock_phone(phone: str) -> None:
    """Serialise the rate-limit check per phone until the transaction ends (PostgreSQL; SQLite has one writer)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(f"sms:{phone}".encode()).digest()[:8], "big", signed=True)
    db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def recent_sends(phone: str, since: datetime, exclude_id: int) -> list[datetime | None]:
    """When each message to ``phone`` counted by the rate limit was sent: those sent since ``since``,
    and those being handed over right now (``None``)."""
    query = (select(SmsMessage.sent_at)
             .where(SmsMessage.phone_hash == blind_index("phone", phone), SmsMessage.id != exclude_id,
                    or_(SmsMessage.sent_at >= since,
                        (SmsMessage.status == SmsStatus.SENDING) & SmsMessage.sent_at.is_(None))))
    return list(db.session.scalars(query))


def unmatched_receipts(provider_message_id: str) -> list[SmsReceipt]:
    """Receipts that came before we stored the provider's id (a fast gateway), oldest first."""
    return list(db.session.scalars(
        select(SmsReceipt).where(SmsReceipt.provider_message_id == provider_message_id,
                                 SmsReceipt.outcome == "unknown").order_by(SmsReceipt.id)))


def newest(limit: int = 200) -> list[SmsMessage]:
    return list(db.session.scalars(select(SmsMessage).order_by(SmsMessage.id.desc()).limit(limit)))


def purge_before(cutoff: datetime, now: datetime) -> int:
    return db.session.execute(
        # Only final messages: a created or sending one still needs its phone and body to be sent.
        update(SmsMessage).where(SmsMessage.created_at < cutoff, SmsMessage.purged_at.is_(None),
                                 SmsMessage.status.in_(FINAL))
        .values(phone=None, phone_hash=None, body=None, purged_at=now)
        .execution_options(synchronize_session=False)).rowcount


def oldest_unpurged() -> datetime | None:
    return db.session.scalar(select(func.min(SmsMessage.created_at)).where(SmsMessage.purged_at.is_(None)))
