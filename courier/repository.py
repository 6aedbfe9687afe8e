"""Courier queries (select() style). May flush; never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, func, select

from core.extensions import db
from courier.models import DeliveryAttempt, PhoneCheckFailure, PickupWindow, Shipment, ShipmentEvent


def windows_of(service_point_id: int) -> list[PickupWindow]:
    return list(db.session.scalars(select(PickupWindow).where(PickupWindow.service_point_id == service_point_id)
                                   .order_by(PickupWindow.weekday, PickupWindow.start_time)))


def shipment_of_dossier(dossier_id: int) -> Shipment | None:
    return db.session.scalar(select(Shipment).where(Shipment.dossier_id == dossier_id))


def shipment_id_of(dossier_id: ColumnElement[int]) -> ColumnElement[int | None]:
    """The id of the shipment of ``dossier_id`` (a column of the caller's query), or NULL: a correlated
    scalar subquery, so another package's read model can say whether a shipment exists in its own
    single query without importing courier.models."""
    return select(Shipment.id).where(Shipment.dossier_id == dossier_id).correlate_except(Shipment).scalar_subquery()


def shipment(shipment_id: int, for_update: bool = False) -> Shipment | None:
    query = select(Shipment).where(Shipment.id == shipment_id)
    if for_update:
        query = query.with_for_update(of=Shipment)
    return db.session.scalar(query)


def shipment_by_tracking(carrier: str, tracking_number: str) -> Shipment | None:
    return db.session.scalar(select(Shipment).where(Shipment.carrier == carrier,
                                                    Shipment.tracking_number == tracking_number))


def attempt(shipment_id: int, number: int, for_update: bool = False) -> DeliveryAttempt | None:
    query = select(DeliveryAttempt).where(DeliveryAttempt.shipment_id == shipment_id,
                                          DeliveryAttempt.number == number)
    if for_update:
        query = query.with_for_update(of=DeliveryAttempt)
    return db.session.scalar(query)


def known_event_ids(carrier: str, external_ids: list[str]) -> set[str]:
    if not external_ids:
        return set()
    return set(db.session.scalars(select(ShipmentEvent.external_id).where(
        ShipmentEvent.carrier == carrier, ShipmentEvent.external_id.in_(external_ids))))


def events_of(shipment_id: int) -> list[ShipmentEvent]:
    return list(db.session.scalars(select(ShipmentEvent).where(ShipmentEvent.shipment_id == shipment_id)
                                   .order_by(ShipmentEvent.occurred_at, ShipmentEvent.id)))


def phone_failures_since(dossier_id: int, since: datetime) -> tuple[int, datetime | None]:
    """How many wrong tries since ``since``, and the oldest of them."""
    count, oldest = db.session.execute(
        select(func.count(PhoneCheckFailure.id), func.min(PhoneCheckFailure.at))
        .where(PhoneCheckFailure.dossier_id == dossier_id, PhoneCheckFailure.at > since)).one()
    return int(count), oldest
