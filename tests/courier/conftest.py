"""Courier fixtures: the platform clock on a quiet Monday, the sandbox courier, courier dossiers, the outbox."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from core import outbox
from core.calendar import is_working_day
from core.extensions import db
from core.timeutil import LOCAL_TZ, as_utc
from courier.models import Shipment
from dossiers.models import Dossier
from sandboxes.courier.adapter import SandboxCourier
from tests.conftest import OFFICE_MORNING
from tests.factories import auth, create_dossier

COURIER_DELIVERY = {"method": "courier", "address": "5 Lý Thái Tổ, Hoàn Kiếm, Hà Nội"}


def local(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=LOCAL_TZ)


def quiet_week(after: date = OFFICE_MORNING.date()) -> date:
    """A Monday at least two weeks ahead whose fortnight has only working weekdays (no holidays).

    Counted from the ``clock`` fixture's start, so every run drives the same days.
    """
    day = after + timedelta(days=14)
    day += timedelta(days=(7 - day.weekday()) % 7)
    while not all(is_working_day(d) for d in (day + timedelta(days=i) for i in range(14)) if d.weekday() < 5):
        day += timedelta(days=7)
    return day


@pytest.fixture
def monday() -> date:
    return quiet_week()


@pytest.fixture
def clock(clock, monday):
    """The platform's frozen clock (tests/conftest.py), moved to 08:00 on ``monday``'s Monday.

    Everything runs by it: the courier service, the sandbox courier, the outbox's due times.
    """
    clock.set(local(monday, 8))
    return clock


@pytest.fixture
def failure_rate():
    return 0.0


@pytest.fixture
def sandbox(app, clock, failure_rate):
    from courier.adapters import build

    courier = build({**app.config, "COURIER_ADAPTER": "sandbox", "SANDBOX_COURIER_FAILURE_RATE": failure_rate},
                    app.extensions["courier_adapter_factories"])
    assert isinstance(courier, SandboxCourier)
    app.extensions["courier_adapter"] = courier
    yield courier
    app.extensions.pop("courier_adapter", None)


BOOKING_TOPIC = "courier@dossiers.status_changed"  # courier's subscription: a shipment when the result is ready
COURIER_TOPICS = (BOOKING_TOPIC, "courier.book_pickup", "courier.cancel_pickup", "courier.poll")


def run_outbox(app, now: datetime) -> int:
    """Run the courier's outbox messages due at ``now`` (the worker at that time); returns how many were done.

    Other packages' messages (notify.*, notify@…) stay pending: the tests read them as they were written.
    """
    now = as_utc(now)  # the database compares UTC (SQLite stores wall-clock text)
    with app.app_context():
        done = 0
        for _ in range(50):
            ran = sum(outbox.run_due(now=now, topic=topic) for topic in COURIER_TOPICS)
            if not ran:
                return done
            done += ran
        stuck = db.session.scalars(select(outbox.OutboxMessage).where(outbox.due_condition(now))).all()
        raise AssertionError(f"the outbox never settles: {[(m.topic, m.payload) for m in stuck]}")


def move(client, key: str, number: str, *statuses: str) -> None:
    for status in statuses:
        response = client.post(f"/api/v1/dossiers/{number}/transitions", json={"to": status}, headers=auth(key))
        assert response.status_code == 200, response.get_json()


def ready_courier_dossier(client, agent_key: str, officer_key: str, **overrides) -> dict:
    """A courier dossier the officer moved to result_ready (the outbox not run yet)."""
    created = create_dossier(client, agent_key, delivery=COURIER_DELIVERY, **overrides)
    move(client, officer_key, created["number"], "accepted", "processing", "result_ready")
    return created


def dossier(app, number: str) -> Dossier:
    with app.app_context():
        return db.session.scalar(select(Dossier).where(Dossier.number == number))


def shipment(app, number: str) -> Shipment | None:
    with app.app_context():
        dossier_id = db.session.scalar(select(Dossier.id).where(Dossier.number == number))
        found = db.session.scalar(select(Shipment).where(Shipment.dossier_id == dossier_id))
        if found is not None:
            found.attempt_rows  # noqa: B018 - loaded while the session is open
        return found


def outbox_rows(app, topic: str) -> list[outbox.OutboxMessage]:
    with app.app_context():
        return list(db.session.scalars(select(outbox.OutboxMessage).where(outbox.OutboxMessage.topic == topic)
                                       .order_by(outbox.OutboxMessage.id)))


def notify_events(app) -> list[tuple[str, dict]]:
    """The SMS events waiting for notify, in order: (event, payload) from notify's subscription rows."""
    from notify.service import sms_event_for

    found = []
    with app.app_context():
        rows = db.session.scalars(select(outbox.OutboxMessage).where(outbox.OutboxMessage.topic.startswith("notify@"))
                                  .order_by(outbox.OutboxMessage.id)).all()
        for row in rows:
            event = row.topic.split("@", 1)[1]
            if event == "dossiers.status_changed":
                found.append((sms_event_for(row.payload), row.payload))
            else:  # courier.attempt_failed, courier.returned_to_branch, payments.paid
                found.append((event.split(".", 1)[1], row.payload))
    return found
