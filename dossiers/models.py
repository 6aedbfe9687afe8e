"""Procedures, dossiers, their timeline and documents.

The enums live in ``dossiers.enums`` (no SQLAlchemy or Flask) and are re-exported here.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models import enum_column
from core.pii import EncryptedString
from core.timeutil import utcnow
from dossiers.enums import DeliveryMethod, Level, Status

# Not yet resolved (no result yet): the dossiers that can be overdue now.
OPEN_STATUSES = (Status.RECEIVED, Status.ROUTED, Status.ACCEPTED, Status.PROCESSING, Status.SUPPLEMENT_REQUESTED)
OPEN_STATUSES_SQL = "status IN (%s)" % ", ".join(f"'{s.value}'" for s in OPEN_STATUSES)  # noqa: UP031


class Procedure(db.Model):
    __tablename__ = "procedures"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(400))
    name_en: Mapped[str | None] = mapped_column(String(400))
    level: Mapped[Level] = mapped_column(enum_column(Level, "procedure_level"))
    sector: Mapped[str] = mapped_column(String(200))
    fee_vnd: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_note: Mapped[str | None] = mapped_column(String(200))  # in English (legal references)
    fee_note_vi: Mapped[str | None] = mapped_column(String(200))  # the same note in Vietnamese
    processing_days: Mapped[int] = mapped_column(Integer)
    required_documents: Mapped[list[str]] = mapped_column(JSON, default=list)
    required_documents_en: Mapped[list[str] | None] = mapped_column(JSON)  # item for item, where translated
    # The national portal's code (dichvucong.gov.vn, e.g. "1.001193"), where the procedure has one.
    national_code: Mapped[str | None] = mapped_column(String(32))
    # The legal documents the procedure rests on ("123/2015/NĐ-CP; 04/2020/TT-BTP"); None: unsourced.
    legal_basis: Mapped[str | None] = mapped_column(String(1000))
    # Where the row's facts come from: the portal record's address, or the hand-checked file.
    source: Mapped[str | None] = mapped_column(String(300))
    # Lower-case, diacritic-free name used by search.
    search_text: Mapped[str] = mapped_column(String(800))
    is_active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class Dossier(db.Model):
    __tablename__ = "dossiers"
    # The registering caller's Idempotency-Key: a concurrent duplicate fails on this
    # unique index and replays the first dossier instead.
    __table_args__ = (
        UniqueConstraint("idempotency_owner", "idempotency_key"),
        # The branch queues: one point's (or every point's) dossiers of a status, by deadline.
        # The id ends them: a page's ids (by deadline, then id) come from the index alone.
        Index("ix_dossiers_queue", "service_point_id", "status", "deadline_at", "id"),
        Index("ix_dossiers_status_deadline", "status", "deadline_at", "id"),
        # The monitoring's indexes: the period's received dossiers read from the index alone, and the open
        # dossiers by deadline (overdue now, due within a working day) from a partial index.
        Index("ix_dossiers_monitoring_received", "received_at", "service_point_id", "organisation_id",
              "procedure_id", "outside_service_radius"),
        Index("ix_dossiers_open_deadline", "deadline_at", "service_point_id",
              postgresql_include=["organisation_id", "procedure_id"],
              postgresql_where=text(OPEN_STATUSES_SQL), sqlite_where=text(OPEN_STATUSES_SQL)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    procedure_id: Mapped[int] = mapped_column(ForeignKey("procedures.id"))
    status: Mapped[Status] = mapped_column(enum_column(Status, "dossier_status"), index=True)

    citizen_name: Mapped[str] = mapped_column(String(200))
    # CCCD and phone (E.164) are stored encrypted (core/pii.py); the *_hash blind indexes find them.
    citizen_id_number: Mapped[str] = mapped_column(EncryptedString())
    citizen_id_number_hash: Mapped[str] = mapped_column(String(64), index=True)
    citizen_phone: Mapped[str] = mapped_column(EncryptedString())
    citizen_phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    citizen_email: Mapped[str | None] = mapped_column(String(254))
    citizen_address: Mapped[str | None] = mapped_column(String(400))

    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    location_source: Mapped[str] = mapped_column(String(16))

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    agent_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The agent point (post office, tablet) that took it: the unit of finance statements and cash.
    agent_point_id: Mapped[int | None] = mapped_column(ForeignKey("agent_points.id"), index=True)
    agent_reference: Mapped[str | None] = mapped_column(String(100))

    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"), index=True)
    # The receiving agency's code (dossiers.codes) that starts the number; None for former-format numbers.
    agency_code: Mapped[str | None] = mapped_column(String(20))
    routing: Mapped[dict] = mapped_column(JSON)
    outside_service_radius: Mapped[bool] = mapped_column(default=False)

    delivery_method: Mapped[DeliveryMethod] = mapped_column(
        enum_column(DeliveryMethod, "delivery_method")
    )
    delivery_address: Mapped[str | None] = mapped_column(String(400))
    note: Mapped[str | None] = mapped_column(Text)

    fee_vnd: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deadline_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The branch's workspace: the officer it is assigned to, when its deadline was paused (waiting for the
    # citizen's supplement), and the row's version (optimistic locking: every ORM update bumps it, and
    # an action posted for an older version is refused).
    assigned_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    paused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}

    # The citizen's tracking link (/t/<token>, sent by SMS and printed as a QR code): unguessable.
    idempotency_owner: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    request_fingerprint: Mapped[str] = mapped_column(String(64))

    procedure: Mapped[Procedure] = relationship(lazy="joined")
    events: Mapped[list[DossierEvent]] = relationship(
        back_populates="dossier", order_by="DossierEvent.id", cascade="all, delete-orphan"
    )
    documents: Mapped[list[Document]] = relationship(
        back_populates="dossier", order_by="Document.id", cascade="all, delete-orphan"
    )


class DossierEvent(db.Model):
    """One line of a dossier's timeline and audit trail."""

    __tablename__ = "dossier_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(300))
    actor_role: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)

    dossier: Mapped[Dossier] = relationship(back_populates="events")


class Document(db.Model):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    uploaded_by: Mapped[str] = mapped_column(String(300))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    dossier: Mapped[Dossier] = relationship(back_populates="documents")


class DossierCounter(db.Model):
    """The last running number given per receiving agency (its code; a point code before 0021) and local day."""

    __tablename__ = "dossier_counters"

    unit_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer)


class DossierApology(db.Model):
    """A late (or soon late) dossier's apology and new date (Circular 01/2018/TT-VPCP, form 04)."""

    __tablename__ = "dossier_apologies"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    old_deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    new_deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    officer: Mapped[str] = mapped_column(String(300))  # the principal's label (user:email)
    officer_name: Mapped[str | None] = mapped_column(String(200))  # as printed on the form
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    dossier: Mapped[Dossier] = relationship()


class DossierResolution(db.Model):
    """One row per resolved dossier (its result first ready), written by the status change itself
    (``dossiers.service._move``, in the same transaction): the summary the monitoring figures read,
    so a month's on-time rate and processing times never scan the dossiers' timeline.

    ``working_days`` is the processing time in working days (``core.calendar``): the working days after
    the local day of receipt up to and including the local day of resolution. ``outcome`` is ``early``
    (resolved before the deadline's day), ``on_time`` (on the deadline's day, by the deadline) or ``late``.
    """

    __tablename__ = "dossier_resolutions"
    __table_args__ = (Index("ix_dossier_resolutions_resolved_point", "resolved_at", "service_point_id"),)

    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), primary_key=True)
    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    level: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deadline_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    working_days: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(8))  # early | on_time | late
