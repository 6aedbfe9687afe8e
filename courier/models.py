"""Courier return of results: pickup windows, shipments, their events and delivery attempts.

One shipment per dossier. Each delivery attempt starts with a pickup at the service point in
one of its windows; the carrier's events are recorded once each (unique per carrier and event
id), so a repeated webhook or an overlapping poll adds nothing. Times are stored in UTC.
"""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Integer, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models import enum_column
from core.timeutil import utcnow
from courier.adapters.base import ShipmentStatus


class PickupWindow(db.Model):
    """When the courier may collect at a point (local time). A point without rows has the default."""

    __tablename__ = "pickup_windows"
    __table_args__ = (UniqueConstraint("service_point_id", "weekday", "start_time"),
                      CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday_range"),
                      CheckConstraint("start_time < end_time", name="window_order"))

    id: Mapped[int] = mapped_column(primary_key=True)
    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)


class Shipment(db.Model):
    __tablename__ = "shipments"
    __table_args__ = (UniqueConstraint("carrier", "tracking_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), unique=True)
    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"), index=True)  # picked up here
    carrier: Mapped[str] = mapped_column(String(32))  # the adapter's name
    # Stored before the first call to the carrier; every retry of the creation reuses it.
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    external_id: Mapped[str | None] = mapped_column(String(100))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[ShipmentStatus] = mapped_column(enum_column(ShipmentStatus, "shipment_status"), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=1)  # the current attempt's number
    max_attempts: Mapped[int] = mapped_column(Integer)
    pickup_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # the current attempt's window
    estimated_delivery: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Proof of delivery.
    recipient_name: Mapped[str | None] = mapped_column(String(200))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    signature_ref: Mapped[str | None] = mapped_column(String(500))
    photo_ref: Mapped[str | None] = mapped_column(String(500))
    # When the carrier last told us something new, and when the live poll is due.
    last_news_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_poll_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    attempt_rows: Mapped[list[DeliveryAttempt]] = relationship(
        back_populates="shipment", order_by="DeliveryAttempt.number", cascade="all, delete-orphan")


class DeliveryAttempt(db.Model):
    """One try: a pickup window at the point, then the courier's progress, then the outcome."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (UniqueConstraint("shipment_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[ShipmentStatus] = mapped_column(enum_column(ShipmentStatus, "attempt_status"))
    pickup_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    pickup_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    scheduled_by: Mapped[str] = mapped_column(String(32))  # system | citizen
    # The pickup's idempotency key (shipment, attempt, revision: a new slot is a new booking).
    revision: Mapped[int] = mapped_column(Integer, default=0)
    pickup_key: Mapped[str] = mapped_column(String(120), unique=True)
    pickup_confirmation: Mapped[str | None] = mapped_column(String(100))
    booked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(String(300))  # the carrier's words
    reason_code: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    shipment: Mapped[Shipment] = relationship(back_populates="attempt_rows")


class ShipmentEvent(db.Model):
    """A carrier event as received, once: the unique (carrier, external id) makes a repeat a no-op."""

    __tablename__ = "shipment_events"
    __table_args__ = (UniqueConstraint("carrier", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"), index=True)
    carrier: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(120))
    status: Mapped[ShipmentStatus] = mapped_column(enum_column(ShipmentStatus, "shipment_event_status"))
    attempt: Mapped[int | None] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(String(300))
    payload: Mapped[dict] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(16))  # webhook | poll
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RescheduleRequest(db.Model):
    """A citizen's choice of another slot for the next attempt (from the tracking page)."""

    __tablename__ = "reschedule_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    previous_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    slot_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    slot_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PhoneCheckFailure(db.Model):
    """A wrong "last 4 digits of your phone" on the tracking page: enough of them lock rescheduling."""

    __tablename__ = "phone_check_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
