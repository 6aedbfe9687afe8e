"""Accounts: agent organisations, users with roles, API keys."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, DateTime, Enum, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.roles import OrganisationKind, Role
from core.timeutil import utcnow


def enum_column(enum_cls: type[enum.Enum], name: str):
    """Store an enum by its value as a portable VARCHAR with a CHECK constraint."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda cls: [member.value for member in cls],
        validate_strings=True,
    )


class Organisation(db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrganisationKind] = mapped_column(enum_column(OrganisationKind, "organisation_kind"))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="organisation")


class AgentPointKind(enum.StrEnum):
    POST_OFFICE = "post_office"  # a counter at a post office (bưu cục)
    TABLET = "tablet"  # a mobile agent with a tablet, out in the communes
    ONLINE = "online"  # a technology company's own channel (app, website) through the API


class AgentPoint(db.Model):
    """Where an agent organisation takes dossiers: a post office, a tablet, an online channel.

    The unit finance statements and cash holdings are kept by: the cash a post office collected is
    held there until it is handed over to the centre.
    """

    __tablename__ = "agent_points"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[AgentPointKind] = mapped_column(enum_column(AgentPointKind, "agent_point_kind"))
    address: Mapped[str | None] = mapped_column(String(400))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    organisation: Mapped[Organisation] = relationship()


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role != 'agent' OR organisation_id IS NOT NULL", name="agent_has_organisation"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    # A branch officer works at one service point; none means all points (supervisor).
    service_point_id: Mapped[int | None] = mapped_column(ForeignKey("service_points.id"))
    # A branch lead also sees the dossiers of the reception points under the branch (service_points.parent_id).
    is_branch_lead: Mapped[bool] = mapped_column(default=False, server_default=false())
    # An agent works at one agent point (a post office, a tablet); the dossiers it takes are that point's.
    agent_point_id: Mapped[int | None] = mapped_column(ForeignKey("agent_points.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    organisation: Mapped[Organisation | None] = relationship(back_populates="users")


class ApiKey(db.Model):
    """A bearer key. Only its SHA-256 is stored; the key itself is shown once."""

    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint(
            "(organisation_id IS NULL) != (user_id IS NULL)", name="one_owner"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    organisation: Mapped[Organisation | None] = relationship()
    user: Mapped[User | None] = relationship()
