"""The citizen's tracking links: only a hash of each token is stored.

A token is 128 random bits (``secrets.token_urlsafe(16)``) handed out once, in an SMS or on a
printed receipt; the database keeps its SHA-256, so a copy of the database opens no page.
A dossier may have several links (one per SMS or print); each opens the same page.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, SmallInteger, String
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


class Feedback(db.Model):
    """The citizen's rating of the service, given once per dossier after delivery or collection."""

    __tablename__ = "feedback"
    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating_1_to_5"),
                      # The monitoring: a period's ratings (SIPAS criteria, latest comments) from the index.
                      Index("ix_feedback_created_at", "created_at",
                            postgresql_include=["rating", "sipas_access", "sipas_procedure", "sipas_officer",
                                                "sipas_result", "sipas_feedback"]))

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), unique=True)
    rating: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(String(1000))
    # SIPAS (the satisfaction index of public administrative services): the citizen may also rate its five
    # criteria, 1 to 5 each, optional: access to the service, the procedure, the officers, the result,
    # the handling of the citizen's comments.
    sipas_access: Mapped[int | None] = mapped_column(SmallInteger)
    sipas_procedure: Mapped[int | None] = mapped_column(SmallInteger)
    sipas_officer: Mapped[int | None] = mapped_column(SmallInteger)
    sipas_result: Mapped[int | None] = mapped_column(SmallInteger)
    sipas_feedback: Mapped[int | None] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
