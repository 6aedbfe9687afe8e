"""The sandbox courier: the embedded default's carrier, with the same interface as a real one.

It remembers the shipments and pickups booked with it (``sandboxes.courier.models``, written on its own
connection, as another system's database) and makes each attempt's progress up from them,
deterministically: the times and the outcome of attempt ``n`` of a shipment come from a random
generator seeded with ``"<tracking number>:<n>"``, and ``get_tracking`` returns the events whose
time has come on the clock it was given (tests pass their own). The platform polls it through
the same service code as a real carrier (``courier.poll``).

An attempt, from its pickup window's start ``P``:

- ``picked_up`` at ``P`` + 5–50 minutes (inside the one-hour window);
- ``in_transit`` 30–90 minutes later;
- ``out_for_delivery`` 60–180 minutes later;
- 20–120 minutes later ``delivered`` (proof: the recipient's name, a signature and a photo
  reference), or, with probability ``failure_rate``, ``delivery_failed`` with a reason
  ("khong co nguoi nhan", "sai dia chi", "khong lien lac duoc").

After a failure nothing happens until the platform books a pickup for the next attempt. The
sandbox never pushes webhooks (polling is its only path); it still parses the signed webhook
format, so a tool can push events to the platform as a carrier would.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from core.timeutil import as_utc, utcnow
from courier.adapters.base import (
    REASON_NO_RECIPIENT,
    REASON_UNREACHABLE,
    REASON_WRONG_ADDRESS,
    CourierAdapter,
    CourierError,
    PickupRequest,
    PickupResult,
    ShipmentRequest,
    ShipmentResult,
    ShipmentStatus,
    TrackingEvent,
)
from courier.adapters.signing import parse_signed_webhook
from sandboxes.courier.models import SandboxPickup, SandboxShipment

S = ShipmentStatus
FAILURES = ((REASON_NO_RECIPIENT, "khong co nguoi nhan"), (REASON_WRONG_ADDRESS, "sai dia chi"),
            (REASON_UNREACHABLE, "khong lien lac duoc"))
# Minutes after the previous step (after the window's start for the pickup).
STEPS = ((S.PICKED_UP, 5, 50), (S.IN_TRANSIT, 30, 90), (S.OUT_FOR_DELIVERY, 60, 180))
OUTCOME_AFTER = (20, 120)
ESTIMATE_AFTER_WINDOW = timedelta(hours=5)

_shipments, _pickups = SandboxShipment.__table__, SandboxPickup.__table__


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class SandboxCourier(CourierAdapter):
    name = "sandbox"
    pushes_webhooks = False

    def __init__(self, engine: Callable[[], Engine], *, clock: Callable[[], datetime] = utcnow,
                 failure_rate: float = 0.15, webhook_secret: str = "", tolerance_s: int = 300):
        if not 0.0 <= failure_rate <= 1.0:
            raise ValueError("the failure rate is a probability, from 0 to 1")
        self._engine, self.clock, self.failure_rate = engine, clock, failure_rate
        self.webhook_secret, self.tolerance_s = webhook_secret, tolerance_s

    # -- writes: idempotent by key ----------------------------------------------------------------

    def create_shipment(self, request: ShipmentRequest) -> ShipmentResult:
        digest = _digest(request.idempotency_key)
        tracking_number = "SBX" + str(int(digest[:15], 16))[-10:].rjust(10, "0")
        row = {"tracking_number": tracking_number, "shipment_id": f"sbx_{digest[:16]}",
               "idempotency_key": request.idempotency_key, "reference": request.reference[:60],
               "recipient_name": request.recipient.name[:200], "created_at": self.clock()}
        self._insert_once(_shipments, row, _shipments.c.idempotency_key == request.idempotency_key)
        return ShipmentResult(row["shipment_id"], tracking_number)

    def schedule_pickup(self, request: PickupRequest) -> PickupResult:
        with self._engine().connect() as conn:
            known = conn.scalar(select(_shipments.c.tracking_number)
                                .where(_shipments.c.tracking_number == request.tracking_number))
        if known is None:
            raise CourierError(f"unknown tracking number {request.tracking_number}")
        row = {"tracking_number": request.tracking_number, "attempt": request.attempt,
               "window_start": request.window_start, "window_end": request.window_end,
               "idempotency_key": request.idempotency_key,
               "confirmation": f"pk_{_digest(request.idempotency_key)[:20]}", "created_at": self.clock()}
        stored = self._insert_once(_pickups, row, _pickups.c.idempotency_key == request.idempotency_key)
        return PickupResult(stored["confirmation"], as_utc(stored["window_end"]) + ESTIMATE_AFTER_WINDOW)

    def cancel_pickup(self, confirmation: str, idempotency_key: str) -> None:
        with self._engine().begin() as conn:
            conn.execute(update(_pickups).where(_pickups.c.confirmation == confirmation,
                                                _pickups.c.cancelled_at.is_(None))
                         .values(cancelled_at=self.clock()))

    def _insert_once(self, table, row: dict, same) -> Mapping:
        try:
            with self._engine().begin() as conn:
                conn.execute(insert(table).values(**row))
            return row
        except IntegrityError:  # the same key again: the first answer
            with self._engine().connect() as conn:
                return conn.execute(select(table).where(same)).mappings().one()

    # -- tracking ----------------------------------------------------------------------------------

    def get_tracking(self, tracking_number: str) -> list[TrackingEvent]:
        now = self.clock()
        return [event for event in self.planned_events(tracking_number) if event.occurred_at <= now]

    def planned_events(self, tracking_number: str) -> list[TrackingEvent]:
        """Every event of the attempts booked so far, past and future (the clock not applied)."""
        with self._engine().connect() as conn:
            shipment = conn.execute(select(_shipments).where(_shipments.c.tracking_number == tracking_number)
                                    ).mappings().first()
            if shipment is None:
                raise CourierError(f"unknown tracking number {tracking_number}")
            pickups = conn.execute(select(_pickups).where(_pickups.c.tracking_number == tracking_number,
                                                          _pickups.c.cancelled_at.is_(None))
                                   .order_by(_pickups.c.attempt, _pickups.c.id)).mappings().all()
        by_attempt = {p["attempt"]: p for p in pickups}  # the latest booking of each attempt
        events: list[TrackingEvent] = []
        after: datetime | None = None
        attempt = 1
        while attempt in by_attempt:
            pickup = by_attempt[attempt]
            start = as_utc(pickup["window_start"])
            if after is not None and start <= after:
                start = after + timedelta(minutes=1)
            attempt_events = self._attempt(tracking_number, attempt, start, shipment["recipient_name"])
            events.extend(attempt_events)
            if attempt_events[-1].status is S.DELIVERED:
                break
            after, attempt = attempt_events[-1].occurred_at, attempt + 1
        return events

    def _attempt(self, tracking_number: str, attempt: int, start: datetime, recipient: str) -> list[TrackingEvent]:
        rng = random.Random(int(_digest(f"{tracking_number}:{attempt}")[:16], 16))
        at, events = start, []
        times = []
        for status, low, high in STEPS:
            at = at + timedelta(minutes=rng.uniform(low, high))
            times.append((status, at))
        outcome_at = at + timedelta(minutes=rng.uniform(*OUTCOME_AFTER))
        failed = rng.random() < self.failure_rate
        code, reason = FAILURES[rng.randrange(len(FAILURES))]
        estimate = outcome_at.replace(second=0, microsecond=0) + timedelta(minutes=30)
        for status, when in times:
            events.append(TrackingEvent(f"{tracking_number}:{attempt}:{status.value}", tracking_number, status,
                                        when.replace(microsecond=0), attempt=attempt, estimated_delivery=estimate))
        prefix = f"{tracking_number}:{attempt}"
        outcome_at = outcome_at.replace(microsecond=0)
        if failed:
            events.append(TrackingEvent(f"{prefix}:{S.DELIVERY_FAILED.value}", tracking_number, S.DELIVERY_FAILED,
                                        outcome_at, attempt=attempt, reason=reason, reason_code=code))
        else:
            events.append(TrackingEvent(f"{prefix}:{S.DELIVERED.value}", tracking_number, S.DELIVERED, outcome_at,
                                        attempt=attempt, recipient_name=recipient,
                                        signature_ref=f"sandbox:signature/{tracking_number}-{attempt}.svg",
                                        photo_ref=f"sandbox:photo/{tracking_number}-{attempt}.jpg"))
        return events

    # -- pushes ------------------------------------------------------------------------------------

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> list[TrackingEvent]:
        return parse_signed_webhook(headers, raw_body, self.webhook_secret, self.tolerance_s)

