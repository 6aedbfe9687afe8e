"""SMS messages and the delivery receipts heard about them.

One row per (dossier, event[, extra]): ``dedupe_key`` is unique, so the same event never
sends two messages. Status: ``created`` → ``sending`` (handed to the provider) →
``delivered`` or ``failed``; the two final statuses never change again (``notify.service``
ignores, and records in ``sms_receipts``, a late receipt that would move them).
After ``SMS_RETENTION_DAYS`` the phone number and the body are nulled (``purged_at``).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, validates

from core.extensions import db
from core.models import enum_column
from core.pii import EncryptedString, blind_index
from core.timeutil import utcnow


class SmsStatus(enum.StrEnum):
    CREATED = "created"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"


FINAL = frozenset({SmsStatus.DELIVERED, SmsStatus.FAILED})


class SmsMessage(db.Model):
    __tablename__ = "sms_messages"
    __table_args__ = (
        # The rate limit's scan: what went to this phone in the last hour.
        Index("ix_sms_messages_phone_hash_sent_at", "phone_hash", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id"), index=True)
    event: Mapped[str] = mapped_column(String(32))
    # f"{dossier_id}:{event}[:{extra}]": one message per business event.
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    # Ours, sent to the provider as its Idempotency-Key: a retried send is sent once.
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    # E.164, stored encrypted (core/pii.py); None once purged. phone_hash: its blind index.
    phone: Mapped[str | None] = mapped_column(EncryptedString())
    phone_hash: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str | None] = mapped_column(Text)  # None once purged
    septets: Mapped[int] = mapped_column(Integer)  # GSM-7 length of the body (kept after purge)
    status: Mapped[SmsStatus] = mapped_column(enum_column(SmsStatus, "sms_status"), index=True)
    provider: Mapped[str | None] = mapped_column(String(16))
    provider_message_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @validates("phone")
    def _index_phone(self, key: str, value: str | None) -> str | None:
        self.phone_hash = None if value is None else blind_index("phone", value)
        return value


class SmsReceipt(db.Model):
    """Every delivery receipt, and what it did: applied, duplicate, ignored (final status kept), unknown."""

    __tablename__ = "sms_receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    sms_id: Mapped[int | None] = mapped_column(ForeignKey("sms_messages.id"), index=True)
    provider_message_id: Mapped[str] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(16))  # sending | delivered | failed
    error: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))  # applied | duplicate | ignored | unknown
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
