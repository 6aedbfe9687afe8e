"""The citizen's tracking links: only a hash of each token is stored.

A token is 128 random bits (``secrets.token_urlsafe(16)``) handed out once, in an SMS or on a
printed receipt; the database keeps its SHA-256, so a copy of the database opens no page.
A dossier may have several links (one per SMS or print); each opens the same page.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.timeutil import utcnow


class TrackingLink(db.Model):
    __tablename__ = "tracking_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(16))  # sms | receipt | api | legacy
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
