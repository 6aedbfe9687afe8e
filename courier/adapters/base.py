"""The courier adapter interface, after Karrio's: one shape for every carrier.

Karrio splits a carrier integration into settings, request mappers and a proxy, and maps
every carrier's tracking codes onto one set of statuses. Here an adapter is one class with
the five operations the platform needs, plain dataclasses in and out, and the shared status
vocabulary ``ShipmentStatus``; each adapter maps its carrier's codes onto it.

- ``create_shipment(request)`` → ``ShipmentResult`` (the carrier's id and tracking number);
- ``schedule_pickup(request)`` → ``PickupResult`` (a confirmation to cancel it by);
- ``cancel_pickup(confirmation, idempotency_key)``;
- ``get_tracking(tracking_number)`` → every ``TrackingEvent`` so far (the polling path);
- ``parse_webhook(headers, raw_body)`` → the ``TrackingEvent`` s a signed push carries; it
  verifies the signature first and raises ``WebhookError`` when it does not verify.

Every write carries the idempotency key the platform stored before the first call, so a
retried call is the same call. Adapters are pure of the platform's models: no session, no
dossier; times are aware UTC datetimes.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


class ShipmentStatus(enum.StrEnum):
    PENDING = "pending"  # booked, waiting for the courier at the service point
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERY_FAILED = "delivery_failed"  # this attempt failed; the result goes back to the point
    RETURNED_TO_BRANCH = "returned_to_branch"  # no more attempts: the citizen collects it
    DELIVERED = "delivered"


# How far along an attempt is: an event moves an attempt forward only.
RANK = {ShipmentStatus.PENDING: 0, ShipmentStatus.PICKED_UP: 1, ShipmentStatus.IN_TRANSIT: 2,
        ShipmentStatus.OUT_FOR_DELIVERY: 3, ShipmentStatus.DELIVERY_FAILED: 4, ShipmentStatus.DELIVERED: 5,
        ShipmentStatus.RETURNED_TO_BRANCH: 6}
ATTEMPT_FINAL = frozenset({ShipmentStatus.DELIVERY_FAILED, ShipmentStatus.DELIVERED})
SHIPMENT_FINAL = frozenset({ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED_TO_BRANCH})

# Failure reasons every adapter maps onto (the carrier's own words travel alongside).
REASON_NO_RECIPIENT = "no_recipient"
REASON_WRONG_ADDRESS = "wrong_address"
REASON_UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class Address:
    name: str
    address: str
    phone: str | None = None
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class ShipmentRequest:
    idempotency_key: str  # stored by the platform before the first call
    reference: str  # the dossier number
    shipper: Address  # the service point
    recipient: Address  # the citizen
    description: str = "Kết quả thủ tục hành chính"
    weight_g: int = 300


@dataclass(frozen=True)
class ShipmentResult:
    shipment_id: str  # the carrier's id
    tracking_number: str
    estimated_delivery: datetime | None = None


@dataclass(frozen=True)
class PickupRequest:
    idempotency_key: str  # our shipment id + attempt + revision
    shipment_id: str
    tracking_number: str
    attempt: int
    window_start: datetime
    window_end: datetime
    address: Address


@dataclass(frozen=True)
class PickupResult:
    confirmation: str
    estimated_delivery: datetime | None = None


@dataclass(frozen=True)
class TrackingEvent:
    event_id: str  # the carrier's, unique per carrier: a repeated event is recorded once
    tracking_number: str
    status: ShipmentStatus
    occurred_at: datetime
    attempt: int | None = None  # the delivery attempt it belongs to, when the carrier says
    reason: str | None = None  # the carrier's words for a failure
    reason_code: str | None = None  # one of REASON_*, when known
    recipient_name: str | None = None  # proof of delivery
    signature_ref: str | None = None
    photo_ref: str | None = None
    estimated_delivery: datetime | None = None
    raw: Mapping = field(default_factory=dict, compare=False)


class CourierError(Exception):
    """The carrier refused or could not be reached (after the adapter's own retries)."""


class WebhookError(ValueError):
    """A push that does not verify or does not parse: nothing of it may be recorded."""


class CourierAdapter(ABC):
    name: str = "courier"
    # True when the carrier pushes its events (webhooks): polling is then only the fallback.
    pushes_webhooks: bool = False

    @abstractmethod
    def create_shipment(self, request: ShipmentRequest) -> ShipmentResult: ...

    @abstractmethod
    def schedule_pickup(self, request: PickupRequest) -> PickupResult: ...

    @abstractmethod
    def cancel_pickup(self, confirmation: str, idempotency_key: str) -> None: ...

    @abstractmethod
    def get_tracking(self, tracking_number: str) -> list[TrackingEvent]: ...

    @abstractmethod
    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> list[TrackingEvent]: ...
