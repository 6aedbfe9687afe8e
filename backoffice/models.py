"""The audit trail of administrators' changes made in the back office."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.timeutil import utcnow


class AdminAuditEvent(db.Model):
    """Who changed what, when: one row per change made through the admin pages."""

    __tablename__ = "admin_audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(300))  # the administrator's label (user:email)
    action: Mapped[str] = mapped_column(String(60))  # e.g. point.create, user.deactivate, key.issue
    target: Mapped[str] = mapped_column(String(300))  # the point code, the user's email, the key prefix
    details: Mapped[dict] = mapped_column(JSON, default=dict)  # never a secret (keys: the prefix only)
