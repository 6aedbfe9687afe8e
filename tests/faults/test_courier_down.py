"""The courier down when a result becomes ready, then back: the HTTP courier adapter (``COURIER_ADAPTER=http``)
against a carrier stub on 127.0.0.1 that honours Idempotency-Key and fails on demand.

The booking job is retried by the outbox with backoff (the platform's clock moved past each one), through
503s, dropped connections and an answer lost after the carrier booked: one shipment, one pickup. After the
recovery the carrier's pushes (twice over) and the polling fallback move the dossier to delivered once,
and the citizen gets each step's SMS once.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from core import outbox
from core.extensions import db
from core.timeutil import utcnow
from courier.adapters.base import ShipmentStatus as S
from courier.models import ShipmentEvent
from dossiers.models import DossierEvent
from notify.models import SmsMessage
from tests.courier.conftest import COURIER_DELIVERY, local, move, quiet_week, shipment
from tests.courier.conftest import dossier as dossier_row
from tests.courier.stub_courier import API_KEY, SECRET
from tests.factories import create_dossier
from tests.faults.peers import DownCourier

pytestmark = pytest.mark.postgres

S_BOOKING = "courier@dossiers.status_changed"
WEBHOOK = "/api/v1/courier/webhook"


@pytest.fixture
def monday(clock):
    day = quiet_week()
    clock.set(local(day, 8))
    return day


@pytest.fixture
def carrier(app, monkeypatch):
    """The platform configured for a real carrier's HTTP API, pointed at the stub."""
    with DownCourier() as stub:
        for name, value in {"COURIER_ADAPTER": "http", "COURIER_API_URL": stub.url, "COURIER_API_KEY": API_KEY,
                            "COURIER_WEBHOOK_SECRET": SECRET, "COURIER_NAME": "stubpost"}.items():
            monkeypatch.setitem(app.config, name, value)
        previous = app.extensions.pop("courier_adapter", None)  # built again from the configuration
        yield stub
        app.extensions["courier_adapter"] = previous


def run_outbox(app) -> int:
    """Every due message at the platform's (frozen) time, as the runner would: courier's, notify's, all."""
    with app.app_context():
        done = 0
        while ran := outbox.run_due():
            done += ran
        return done


def booking(app) -> outbox.OutboxMessage:
    with app.app_context():
        [message] = db.session.scalars(select(outbox.OutboxMessage).where(outbox.OutboxMessage.topic == S_BOOKING))
        db.session.expunge(message)
        return message


def sms_events(app) -> Counter:
    with app.app_context():
        return Counter(db.session.scalars(select(SmsMessage.event)))


def test_courier_down_when_the_result_is_ready_then_back_one_shipment_one_pickup_delivered_once(
        app, client, agent_key, officer_key, carrier, clock, monday):
    number = create_dossier(client, agent_key, delivery=COURIER_DELIVERY)["number"]
    move(client, officer_key, number, "accepted", "processing", "result_ready")

    # Down: the booking job fails, and the outbox retries it after each backoff (the clock moved past it).
    outages = ["503", "drop", "503", "lost"]
    for attempt, outage in enumerate(outages, start=1):
        carrier.down = outage
        if attempt > 1:
            due = booking(app).due_at
            assert due > clock.at  # a backoff, not a hot loop
            clock.set(due + timedelta(seconds=1))
        run_outbox(app)
        message = booking(app)
        assert (message.status, message.attempts) == ("pending", attempt), message.last_error
        assert "CourierError" in message.last_error
    stored = shipment(app, number)
    assert stored is not None and stored.external_id is None and stored.tracking_number is None
    # The "lost" call booked at the carrier: one shipment there, under the key stored before the first call.
    assert list(carrier.shipments) == [stored.idempotency_key] and carrier.pickups == {}
    assert dossier_row(app, number).status.value == "result_ready"

    # Back: the next retry creates the shipment (the carrier answers the same key with the same one) and
    # books the pickup.
    carrier.down = None
    clock.set(booking(app).due_at + timedelta(seconds=1))
    run_outbox(app)
    assert booking(app).status == "done"
    booked = shipment(app, number)
    assert (booked.external_id, booked.tracking_number, booked.carrier) == ("shp_1", "VN000000001", "stubpost")
    assert list(carrier.shipments) == [booked.idempotency_key]  # one shipment
    [pickup] = carrier.pickups.values()  # one pickup
    assert booked.attempt_rows[0].pickup_confirmation == pickup["id"] and pickup["attempt"] == 1
    assert carrier.calls("POST", "/shipments", down=True) == 3  # 503, drop, 503
    assert carrier.calls("POST", "/shipments", down=False) == 2  # the lost one and its replay
    assert carrier.calls("POST", "/pickups", down=False) == 1
    tracking = booked.tracking_number

    # The courier picks it up and takes it out; it pushes that (and, as carriers do, pushes it twice).
    picked = carrier.add_event(tracking, S.PICKED_UP, local(monday, 10, 20))
    out = carrier.add_event(tracking, S.OUT_FOR_DELIVERY, local(monday, 11, 0))
    body, headers = carrier.webhook([picked, out])
    clock.set(local(monday, 11, 1))
    first = client.post(WEBHOOK, data=body, headers=headers)
    second = client.post(WEBHOOK, data=body, headers=headers)
    assert first.status_code == second.status_code == 200
    assert (first.get_json()["recorded"], second.get_json()["recorded"]) == (2, 0)
    assert dossier_row(app, number).status.value == "out_for_delivery"

    # Delivered; that push never arrives: the polling fallback finds it.
    delivered = carrier.add_event(tracking, S.DELIVERED, local(monday, 12, 40), recipient_name="Nguyễn Văn An")
    at = local(monday, 11, 1)
    while at < local(monday, 15, 0) and dossier_row(app, number).status.value != "delivered":
        at += timedelta(minutes=15)
        clock.set(at)
        run_outbox(app)
    assert dossier_row(app, number).status.value == "delivered"
    assert carrier.calls("GET", "/tracking", down=False) >= 1
    # The push arrives after all, late, twice: nothing more happens.
    late_body, late_headers = carrier.webhook([delivered])
    for _ in range(2):
        late = client.post(WEBHOOK, data=late_body, headers=late_headers)
        assert late.status_code == 200 and late.get_json()["recorded"] == 0
    clock.set(at + timedelta(hours=2))
    run_outbox(app)

    final = shipment(app, number)
    assert final.status.value == "delivered" and final.next_poll_at is None and final.recipient_name == "Nguyễn Văn An"
    assert len(carrier.shipments) == 1 and len(carrier.pickups) == 1
    with app.app_context():
        steps = Counter(db.session.scalars(select(DossierEvent.to_status).where(
            DossierEvent.dossier_id == final.dossier_id)))
        recorded = sorted(db.session.scalars(select(ShipmentEvent.external_id)))
        backlog = [(m.topic, m.status, m.last_error) for m in db.session.scalars(
            select(outbox.OutboxMessage).where(outbox.OutboxMessage.status != "done",
                                               outbox.OutboxMessage.due_at <= clock.at))]
    assert steps["delivered"] == 1 and steps["out_for_delivery"] == 1 and steps["result_ready"] == 1
    assert recorded == sorted([picked.event_id, out.event_id, delivered.event_id])
    assert backlog == []
    # The citizen's SMS: one per step, none twice for the retries.
    assert sms_events(app) == Counter({"received": 1, "result_ready": 1, "out_for_delivery": 1, "delivered": 1})
    assert not any(r for r in carrier.requests if r[0] == "POST" and "cancel" in r[1])


def step(app, clock) -> None:
    """Move the platform's clock to the next message's due time (a backoff ending) and run what is due."""
    with app.app_context():
        wait = outbox.next_due_in()
    assert wait is not None, "nothing left to run"
    clock.advance(seconds=wait + 1)
    run_outbox(app)


def test_a_courier_outage_longer_than_the_booking_jobs_retries_is_booked_by_the_pickup_poll_once(
        app, client, agent_key, officer_key, carrier, clock, monday):
    number = create_dossier(client, agent_key, delivery=COURIER_DELIVERY)["number"]
    move(client, officer_key, number, "accepted", "processing", "result_ready")
    carrier.down = "503"
    run_outbox(app)
    while booking(app).status != "failed":  # every retry the outbox allows, each after its backoff
        step(app, clock)
    assert booking(app).attempts == app.config["OUTBOX_MAX_ATTEMPTS"]
    assert clock.at < local(monday, 10)  # the pickup window has not come yet
    window = shipment(app, number).attempt_rows[0]
    assert window.pickup_confirmation is None

    # Still down when the pickup window comes: its poll tries to book, and is retried in turn.
    clock.set(local(monday, 10, 0))
    run_outbox(app)
    for _ in range(2):
        step(app, clock)
    with app.app_context():
        [poll] = db.session.scalars(select(outbox.OutboxMessage).where(outbox.OutboxMessage.topic == "courier.poll",
                                                                        outbox.OutboxMessage.status == "pending"))
        assert poll.attempts == 3 and "CourierError" in poll.last_error
    assert carrier.shipments == {}

    carrier.down = None  # back: the poll's next retry books it
    step(app, clock)
    booked = shipment(app, number)
    assert booked.tracking_number == "VN000000001" and booked.attempt_rows[0].pickup_confirmation == "pk_1"
    assert len(carrier.shipments) == 1 and len(carrier.pickups) == 1
    # The operator puts the failed booking job back (flask jobs requeue): it finds the work done.
    with app.app_context():
        from core import jobs_admin

        assert jobs_admin.requeue_messages(None) == [booking(app).id]
    run_outbox(app)
    assert booking(app).status == "done"
    assert len(carrier.shipments) == 1 and len(carrier.pickups) == 1 and carrier.calls("POST", "/pickups",
                                                                                       down=False) == 1

    delivered = carrier.add_event(booked.tracking_number, S.DELIVERED, local(monday, 11, 30), recipient_name="An")
    clock.set(local(monday, 12, 0))  # no push: thirty minutes without news, the poll asks
    run_outbox(app)
    assert dossier_row(app, number).status.value == "delivered"
    with app.app_context():
        assert list(db.session.scalars(select(ShipmentEvent.external_id))) == [delivered.event_id]
    # Out for delivery and delivered came in one poll: that SMS is superseded (notify.service.SUPERSEDED_BY).
    assert sms_events(app) == Counter({"received": 1, "result_ready": 1, "delivered": 1})


@pytest.mark.redis
@pytest.mark.slow  # boots an rq worker pool
def test_courier_down_through_the_relay_and_rq_workers_one_booking_and_each_sms_once(
        app, client, agent_key, officer_key, carrier, private_redis, database_url, tmp_path, monkeypatch):
    """The same outage as production runs it: the relay hands due rows to a pool of real rq workers
    (their own processes, on their own clock: a short retry base, and waits on what they did)."""
    from tests.faults.rq_helpers import Workers, relay
    from tests.waiting import wait_for

    monkeypatch.setitem(app.config, "REDIS_URL", private_redis.url)
    monkeypatch.setitem(app.config, "JOBS_NAMESPACE", f"c{uuid.uuid4().hex[:6]}-")
    monkeypatch.setitem(app.config, "JOBS_QUEUES", "default,courier,notify")
    carrier.down = "503"
    workers = Workers(app, database_url, tmp_path)
    try:
        workers.start("core.jobs.AppSimpleWorker", pool=2, env={
            "COURIER_ADAPTER": "http", "COURIER_API_URL": carrier.url, "COURIER_API_KEY": API_KEY,
            "COURIER_WEBHOOK_SECRET": SECRET, "COURIER_NAME": "stubpost", "OUTBOX_RETRY_BASE_S": "0.2"})
        number = create_dossier(client, agent_key, delivery=COURIER_DELIVERY)["number"]
        move(client, officer_key, number, "accepted", "processing", "result_ready")
        wait_for(lambda: relay(app) is not None and booking(app).attempts >= 3,
                 "the booking job failing three times while the courier is down")
        assert carrier.shipments == {} and shipment(app, number).external_id is None

        carrier.down = None
        wait_for(lambda: relay(app) is not None and booking(app).status == "done",
                 "the booking job done once the courier is back")
        booked = shipment(app, number)
        assert booked.attempt_rows[0].pickup_confirmation == "pk_1"
        out = carrier.add_event(booked.tracking_number, S.OUT_FOR_DELIVERY, utcnow() - timedelta(minutes=30))
        delivered = carrier.add_event(booked.tracking_number, S.DELIVERED, utcnow() - timedelta(minutes=1),
                                      recipient_name="An")
        for events in ([out], [out]):  # the courier's push, twice
            body, headers = carrier.webhook(events)
            assert client.post(WEBHOOK, data=body, headers=headers).status_code == 200
        # (Waited for: an out-for-delivery SMS still queued when the delivery lands is superseded.)
        wait_for(lambda: relay(app) is not None and sms_events(app).get("out_for_delivery") == 1,
                 "the out-for-delivery SMS")
        for events in ([out, delivered], [delivered]):  # overlapping and repeated pushes
            body, headers = carrier.webhook(events)
            assert client.post(WEBHOOK, data=body, headers=headers).status_code == 200
        wait_for(lambda: relay(app) is not None and sms_events(app).get("delivered") == 1
                 and _due_backlog(app) == [], "the delivered SMS sent and nothing due left open")
    except AssertionError as exc:
        logs = "".join(open(p.log_path).read()[-3000:] for p in workers.procs)
        raise AssertionError(f"{exc}; workers:\n{logs}") from exc
    finally:
        workers.close()
    assert dossier_row(app, number).status.value == "delivered"
    assert len(carrier.shipments) == 1 and len(carrier.pickups) == 1
    assert carrier.calls("POST", "/shipments", down=False) == 1 and carrier.calls("POST", "/pickups", down=False) == 1
    assert sms_events(app) == Counter({"received": 1, "result_ready": 1, "out_for_delivery": 1, "delivered": 1})


def _due_backlog(app) -> list[tuple[str, str]]:
    with app.app_context():
        try:
            return [(m.topic, m.status) for m in db.session.scalars(select(outbox.OutboxMessage).where(
                outbox.OutboxMessage.status.not_in(("done", "failed")), outbox.OutboxMessage.due_at <= utcnow()))]
        finally:
            db.session.remove()
