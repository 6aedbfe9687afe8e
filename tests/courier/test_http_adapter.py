"""The HTTP courier against a stub of its API: booking with idempotency keys, signed webhooks recorded
once, a bad signature refused, GET retries, and polling as the fallback when a push went missing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.extensions import db
from core.timeutil import as_utc
from courier import service
from courier.adapters import build, wire
from courier.adapters.base import CourierError, ShipmentStatus
from courier.adapters.http import HttpCourier
from courier.models import ShipmentEvent
from tests.courier.conftest import (
    BOOKING_TOPIC,
    dossier,
    local,
    notify_events,
    outbox_rows,
    ready_courier_dossier,
    run_outbox,
    shipment,
)
from tests.courier.stub_courier import API_KEY, SECRET, StubCourier

S = ShipmentStatus
WEBHOOK = "/api/v1/courier/webhook"


@pytest.fixture
def stub():
    with StubCourier() as running:
        yield running


@pytest.fixture
def http_courier(app, stub, clock):
    courier = build({**app.config, "COURIER_ADAPTER": "http", "COURIER_API_URL": stub.url,
                     "COURIER_API_KEY": API_KEY, "COURIER_WEBHOOK_SECRET": SECRET, "COURIER_NAME": "stubpost"})
    assert isinstance(courier, HttpCourier) and courier.pushes_webhooks
    app.extensions["courier_adapter"] = courier
    yield courier
    app.extensions.pop("courier_adapter", None)


def _recorded(app) -> int:
    with app.app_context():
        return db.session.query(ShipmentEvent).count()


def test_booking_survives_a_courier_error_without_a_second_shipment(
        app, client, agent_key, officer_key, stub, http_courier, clock, monday):
    number = ready_courier_dossier(client, agent_key, officer_key)["number"]
    stub.fail_next[("POST", "/shipments")] = [500]  # the courier is down at the first try
    run_outbox(app, clock.at)
    found = shipment(app, number)
    assert found is not None and found.external_id is None  # stored with its key, not booked yet
    [message] = outbox_rows(app, BOOKING_TOPIC)
    assert message.status == "pending" and message.attempts == 1 and "500" in message.last_error

    run_outbox(app, clock.set(clock.at + timedelta(minutes=5)))  # the outbox retries
    found = shipment(app, number)
    assert found.external_id == "shp_1" and found.tracking_number == "VN000000001" and found.carrier == "stubpost"
    assert list(stub.shipments) == [found.idempotency_key]  # one shipment, however many calls
    assert stub.count("POST", "/shipments") == 2
    [pickup] = stub.pickups.values()
    assert pickup["attempt"] == 1 and pickup["window_start"] == wire.format_time(local(monday, 10))
    assert pickup["address"]["name"] and pickup["tracking_number"] == found.tracking_number
    assert found.attempt_rows[0].pickup_confirmation == pickup["id"]
    # Calling again (a second delivery of the message) books nothing new.
    with app.app_context():
        service.on_result_ready(found.dossier_id)
    assert len(stub.shipments) == 1 and len(stub.pickups) == 1


def test_signed_webhooks_move_the_shipment_once_and_bad_ones_record_nothing(
        app, client, agent_key, officer_key, stub, http_courier, clock, monday):
    number = ready_courier_dossier(client, agent_key, officer_key)["number"]
    run_outbox(app, clock.at)
    tracking = shipment(app, number).tracking_number
    picked = stub.add_event(tracking, S.PICKED_UP, local(monday, 10, 20))
    out = stub.add_event(tracking, S.OUT_FOR_DELIVERY, local(monday, 12, 0), estimated_delivery=local(monday, 14))
    body, headers = stub.webhook([picked, out])

    forged = dict(headers, **{"X-Courier-Signature": headers["X-Courier-Signature"][:-4] + "0000"})
    response = client.post(WEBHOOK, data=body, headers=forged)
    assert response.status_code == 400 and response.get_json()["code"] == "bad_signature"
    stale_body, stale = stub.webhook([picked, out], timestamp=1_700_000_000)
    assert client.post(WEBHOOK, data=stale_body, headers=stale).status_code == 400
    other_secret_body, other_secret = stub.webhook([picked, out], secret="not-the-secret")
    assert client.post(WEBHOOK, data=other_secret_body, headers=other_secret).status_code == 400
    assert client.post(WEBHOOK, data=body).status_code == 400  # no signature at all
    assert _recorded(app) == 0 and shipment(app, number).status.value == "pending"

    clock.set(local(monday, 12, 1))
    response = client.post(WEBHOOK, data=body, headers=headers)
    assert response.status_code == 200 and response.get_json() == {"received": True, "events": 2, "recorded": 2}
    found = shipment(app, number)
    assert found.status.value == "out_for_delivery" and as_utc(found.estimated_delivery) == local(monday, 14)
    assert dossier(app, number).status.value == "out_for_delivery"

    again = client.post(WEBHOOK, data=body, headers=headers)  # the courier sends the same push again
    assert again.status_code == 200 and again.get_json()["recorded"] == 0
    assert _recorded(app) == 2
    assert [event for event, _ in notify_events(app)].count("out_for_delivery") == 1


def test_polling_picks_up_what_a_missed_webhook_did_not_say(
        app, client, agent_key, officer_key, stub, http_courier, clock, monday):
    number = ready_courier_dossier(client, agent_key, officer_key)["number"]
    run_outbox(app, clock.at)
    tracking = shipment(app, number).tracking_number
    out = stub.add_event(tracking, S.OUT_FOR_DELIVERY, local(monday, 11, 30))
    body, headers = stub.webhook([out])
    clock.set(local(monday, 11, 31))
    assert client.post(WEBHOOK, data=body, headers=headers).status_code == 200
    delivered = stub.add_event(tracking, S.DELIVERED, local(monday, 12, 40), recipient_name="Nguyễn Văn An",
                               signature_ref="sig-123", photo_ref="photo-123")  # its push never arrives

    # While webhooks keep coming, polls do not call the courier: the first one only moves itself on.
    run_outbox(app, clock.set(local(monday, 11, 45)))
    assert stub.count("GET", "/tracking") == 0
    assert as_utc(shipment(app, number).next_poll_at) == local(monday, 12, 1)
    run_outbox(app, clock.set(local(monday, 11, 59)))
    assert stub.count("GET", "/tracking") == 0 and shipment(app, number).status.value == "out_for_delivery"

    # Thirty minutes without news: the fallback asks, and finds the delivery.
    stub.fail_next[("GET", "/tracking")] = [503, 502]  # retried by urllib3 within the same call
    run_outbox(app, clock.set(local(monday, 13, 0)))
    assert stub.count("GET", "/tracking") == 3
    found = shipment(app, number)
    assert found.status.value == "delivered" and found.next_poll_at is None
    assert (found.recipient_name, found.signature_ref, found.photo_ref) == ("Nguyễn Văn An", "sig-123", "photo-123")
    assert as_utc(found.delivered_at) == delivered.occurred_at
    assert dossier(app, number).status.value == "delivered"
    assert _recorded(app) == 2
    with app.app_context():
        events = {e.external_id: e.source for e in db.session.query(ShipmentEvent)}
    assert events == {out.event_id: "webhook", delivered.event_id: "poll"}


def test_posts_are_not_retried_blindly_and_errors_surface(stub):
    courier = HttpCourier(stub.url, API_KEY, SECRET, backoff_s=0)
    stub.fail_next[("GET", "/tracking")] = [503, 503, 503, 503]
    with pytest.raises(CourierError):
        courier.get_tracking("VN000000009")
    assert stub.count("GET", "/tracking") == 4  # the first try and three retries
    with pytest.raises(ValueError):
        courier._call("POST", "/pickups", {})  # a POST without its idempotency key is refused here
    wrong_key = HttpCourier(stub.url, "ck_wrong", SECRET)
    with pytest.raises(CourierError, match="401"):
        wrong_key.get_tracking("VN000000009")
