"""What the sandbox courier remembers: the shipments and pickups booked with it.

These tables belong to the sandbox (a courier of its own, served by this app for the
embedded default), not to the platform: the sandbox writes them on its own connection and
transaction, as a carrier's database would be written, never in the platform's session.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.timeutil import utcnow
from sandboxes.db import SandboxModel


class SandboxShipment(SandboxModel):
    __tablename__ = "courier_sandbox_shipments"

    tracking_number: Mapped[str] = mapped_column(String(32), primary_key=True)
    shipment_id: Mapped[str] = mapped_column(String(40), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    reference: Mapped[str] = mapped_column(String(60))
    recipient_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SandboxPickup(SandboxModel):
    __tablename__ = "courier_sandbox_pickups"

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_number: Mapped[str] = mapped_column(ForeignKey("courier_sandbox_shipments.tracking_number"),
                                                 index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    window_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    confirmation: Mapped[str] = mapped_column(String(40), unique=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
