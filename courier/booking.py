"""Booking a result's return: the point's pickup windows, the shipment, each attempt's pickup.

``on_result_ready`` stores the shipment (with the idempotency key the carrier will see), its
first attempt at the point's next window and the poll due then, in one commit; ``book`` then
calls the carrier. Every later booking (a next attempt, a slot the citizen chose) goes through
the ``courier.book_pickup`` outbox message, so a carrier that is down is simply retried.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy.exc import IntegrityError

from core import outbox
from core.calendar import is_working_day
from core.extensions import db
from core.timeutil import as_utc
from core.uow import commit_point, unit_of_work
from courier import clock, repository, windows
from courier.adapters import adapter
from courier.adapters.base import SHIPMENT_FINAL, Address, PickupRequest, ShipmentRequest, ShipmentStatus
from courier.models import DeliveryAttempt, Shipment
from dossiers import service as dossiers
from dossiers.models import DeliveryMethod, Status

S = ShipmentStatus


def config(name: str):
    return current_app.config[name]


def point_windows(service_point_id: int) -> list[windows.Window]:
    """The point's windows, or the default ones when it has none of its own."""
    rows = repository.windows_of(service_point_id)
    if rows:
        return [windows.Window(row.weekday, row.start_time, row.end_time) for row in rows]
    return windows.default_windows(config("COURIER_PICKUP_WINDOWS"))


def lead_time() -> timedelta:
    return timedelta(minutes=float(config("COURIER_PICKUP_LEAD_MIN")))


def next_pickup(service_point_id: int, after: datetime, from_day=None) -> windows.Slot:
    """The point's next pickup slot on a working day, at least the lead time after ``after``."""
    slot = windows.next_slot(point_windows(service_point_id), after, is_working_day, lead=lead_time(),
                             from_day=from_day)
    if slot is None:
        raise RuntimeError(f"service point {service_point_id} has no pickup window in the coming weeks")
    return slot


def offered_slots(shipment: Shipment, now: datetime) -> list[windows.Slot]:
    return windows.offered(point_windows(shipment.service_point_id), now, is_working_day, lead=lead_time(),
                           working_days=int(config("COURIER_RESCHEDULE_DAYS")))


def new_attempt(shipment: Shipment, number: int, slot: windows.Slot, by: str) -> DeliveryAttempt:
    attempt = DeliveryAttempt(number=number, status=S.PENDING, pickup_start=slot.start, pickup_end=slot.end,
                              scheduled_by=by, revision=0, pickup_key=f"{shipment.idempotency_key}-a{number}-r0",
                              created_at=clock.now())
    shipment.attempt_rows.append(attempt)
    shipment.attempts, shipment.pickup_at = number, slot.start
    return attempt


def schedule_poll(shipment: Shipment, due: datetime) -> None:
    """The one live poll of a shipment (an older one finds ``next_poll_at`` moved and does nothing)."""
    due = as_utc(due).replace(microsecond=0)
    shipment.next_poll_at = due
    outbox.enqueue("courier.poll", {"shipment_id": shipment.id, "due": due.isoformat()}, due_at=due,
                   dedupe_key=f"courier.poll:{shipment.id}:{due.isoformat()}")


def wants_shipment(change: dict) -> bool:
    """A ``dossiers.status_changed`` that books a shipment: a courier dossier's result ready for the
    first time (from processing; a failed attempt's return to result-ready books its own next attempt)."""
    return (change.get("to_status") == Status.RESULT_READY.value
            and change.get("from_status") == Status.PROCESSING.value
            and change.get("delivery_method") == DeliveryMethod.COURIER.value)


def on_result_ready(dossier_id: int) -> int | None:
    """A courier dossier's result is ready (``courier/jobs.py``): the dossier's shipment, booked; returns its id."""
    try:
        with unit_of_work():
            shipment_id = _store_shipment(dossier_id)
    except IntegrityError:  # another runner created it first (this one rolled back)
        shipment_id = repository.shipment_of_dossier(dossier_id).id
    if shipment_id is not None:
        book(shipment_id)
    return shipment_id


def _store_shipment(dossier_id: int) -> int | None:
    """The dossier's shipment, stored with its first attempt and poll if it has none yet; its id."""
    shipment = repository.shipment_of_dossier(dossier_id)
    if shipment is None:
        dossier = dossiers.by_id(dossier_id)
        if dossier is None or dossier.delivery_method is not DeliveryMethod.COURIER \
                or dossier.status is not Status.RESULT_READY:
            return None
        now = clock.now()
        slot = next_pickup(dossier.service_point_id, now)
        shipment = Shipment(dossier_id=dossier_id, service_point_id=dossier.service_point_id,
                            carrier=adapter().name, idempotency_key=f"hpa-shp-{dossier_id}-{secrets.token_hex(6)}",
                            status=S.PENDING, max_attempts=int(config("COURIER_MAX_ATTEMPTS")),
                            created_at=now, updated_at=now)
        new_attempt(shipment, 1, slot, "system")
        db.session.add(shipment)
        db.session.flush()
        schedule_poll(shipment, slot.start)
    return shipment.id


@unit_of_work()
def book(shipment_id: int) -> None:
    """Create the shipment and book the current attempt's pickup with the carrier, if not done yet.

    Every call carries the key stored before it, so a retry after a timeout is the same call. No
    transaction stays open while the carrier answers; what it answered is written under a lock.
    """
    shipment = repository.shipment(shipment_id)
    if shipment is None or shipment.status in SHIPMENT_FINAL:
        return
    courier = adapter()
    dossier = dossiers.by_id(shipment.dossier_id)
    shipper = _point_address(dossiers.receiving_point(dossier))
    if shipment.external_id is None:
        request = ShipmentRequest(
            idempotency_key=shipment.idempotency_key, reference=dossier.number, shipper=shipper,
            recipient=Address(dossier.citizen_name, dossier.delivery_address or dossier.citizen_address or "",
                              dossier.citizen_phone))
        commit_point("courier.before_carrier_call")
        result = courier.create_shipment(request)
        shipment = repository.shipment(shipment_id, for_update=True)
        if shipment.external_id is None:
            shipment.external_id, shipment.tracking_number = result.shipment_id, result.tracking_number
            shipment.estimated_delivery = result.estimated_delivery or shipment.estimated_delivery
    attempt = repository.attempt(shipment.id, shipment.attempts)
    if attempt is None or attempt.status is not S.PENDING or attempt.pickup_confirmation is not None:
        return
    number, key, revision = attempt.number, attempt.pickup_key, attempt.revision
    request = PickupRequest(
        idempotency_key=key, shipment_id=shipment.external_id, tracking_number=shipment.tracking_number,
        attempt=number, window_start=as_utc(attempt.pickup_start), window_end=as_utc(attempt.pickup_end),
        address=shipper)
    commit_point("courier.before_carrier_call")
    result = courier.schedule_pickup(request)
    attempt = repository.attempt(shipment_id, number, for_update=True)
    if attempt.revision != revision:  # the citizen picked another slot meanwhile: that one is booked instead
        commit_point("courier.before_carrier_call")
        courier.cancel_pickup(result.confirmation, f"{key}-cancel")
        return
    if attempt.pickup_confirmation is None:  # (a concurrent call with the same key got the same answer)
        attempt.pickup_confirmation, attempt.booked_at = result.confirmation, clock.now()
        if result.estimated_delivery:
            attempt.shipment.estimated_delivery = result.estimated_delivery


def cancel_pickup(confirmation: str, idempotency_key: str) -> None:
    """Handler of ``courier.cancel_pickup`` (a slot the citizen replaced); the carrier's cancel is idempotent."""
    adapter().cancel_pickup(confirmation, idempotency_key)


def _point_address(point) -> Address:
    return Address(point.name, point.address, None, point.lat, point.lon)


def book_later(shipment: Shipment, attempt: DeliveryAttempt) -> None:
    outbox.enqueue("courier.book_pickup", {"shipment_id": shipment.id, "attempt": attempt.number},
                   dedupe_key=f"courier.book:{shipment.id}:{attempt.number}:{attempt.revision}")
