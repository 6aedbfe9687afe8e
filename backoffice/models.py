"""The audit trail of administrators' changes made in the back office."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, Index, Integer, String, Text, text
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


class QualityAlert(db.Model):
    """A quality alert raised by the monitoring job (backoffice.alerts): one open alert per kind and subject,
    kept after it is acknowledged (who, when, the note) so the trail stays."""

    __tablename__ = "quality_alerts"
    __table_args__ = (
        # De-duplication: a second open alert for the same subject and kind cannot exist.
        Index("uq_quality_alerts_open_subject", "kind", "subject", unique=True,
              postgresql_where=text("acknowledged_at IS NULL"), sqlite_where=text("acknowledged_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # capacity | deadline | on_time | low_rating
    subject: Mapped[str] = mapped_column(String(64))  # the point's code, the dossier's number
    service_point_code: Mapped[str | None] = mapped_column(String(32))
    dossier_number: Mapped[str | None] = mapped_column(String(40))
    details: Mapped[dict] = mapped_column(JSON, default=dict)  # the figures behind it (load, rate, rating)
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[str | None] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(Text)


class MonitoringDaily(db.Model):
    """The monitoring's summary: per local day (Asia/Ho_Chi_Minh), service point, agent organisation and
    procedure level, the dossiers received that day (and routed outside the service radius), the
    resolutions of that day (early, on time, late, and their processing times in working days as a
    histogram ``{"working days": count}``) and the ratings given that day (one count per star).

    On PostgreSQL it is kept by triggers in the same transaction as every change of ``dossiers``,
    ``dossier_resolutions`` and ``feedback`` (migration 0025), whoever writes them; ``monitoring_daily_rebuild()``
    recomputes it from the raw rows. The figures of a period then read a few thousand rows instead of
    millions (``backoffice.monitoring``). Elsewhere (the embedded SQLite) it stays empty and the figures are
    computed from the raw rows.
    """

    __tablename__ = "monitoring_daily"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    service_point_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    level: Mapped[str] = mapped_column(String(16), primary_key=True)
    received: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    outside_radius: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    resolved: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    early: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    on_time: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    late: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    working_days: Mapped[dict] = mapped_column(JSON, default=dict)  # {"3": 12}: 12 resolved in 3 working days
    rated_1: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rated_2: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rated_3: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rated_4: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rated_5: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
