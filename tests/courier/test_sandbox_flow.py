"""The embedded default end to end: result ready → shipment at the next window → the sandbox's clock
moves it → the dossier follows; failed attempts, the next working day, and the return to the point."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest

from core.extensions import db
from core.timeutil import LOCAL_TZ, as_utc
from courier import service
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
from tests.factories import auth, create_dossier

pytestmark = pytest.mark.smoke


def _events(sandbox, tracking_number):
    return {(e.attempt, e.status.value): e for e in sandbox.planned_events(tracking_number)}


def test_result_ready_books_one_shipment_at_the_next_window_and_a_poll_due_then(
        app, client, agent_key, officer_key, sandbox, clock, monday):
    number = ready_courier_dossier(client, agent_key, officer_key)["number"]
    clock.set(local(monday, 10, 45))  # Monday, during the morning window: the next one is the afternoon's
    run_outbox(app, clock.at)
    run_outbox(app, clock.at)  # a second run (and the handler's second call) changes nothing
    with app.app_context():
        service.on_result_ready(dossier(app, number).id)
    found = shipment(app, number)
    assert found.status.value == "pending" and found.carrier == "sandbox"
    assert found.tracking_number.startswith("SBX") and found.external_id.startswith("sbx_")
    pickup = local(monday, 15)
    assert as_utc(found.pickup_at) == pickup and found.attempts == 1 and found.max_attempts == 3
    [attempt] = found.attempt_rows
    assert attempt.pickup_confirmation and attempt.scheduled_by == "system"
    assert as_utc(attempt.pickup_end) == local(monday, 16)
    polls = outbox_rows(app, "courier.poll")
    assert [(as_utc(p.due_at), p.status) for p in polls] == [(pickup, "pending")]
    assert as_utc(found.next_poll_at) == pickup
    assert dossier(app, number).status.value == "result_ready"


def test_a_collect_dossier_gets_no_shipment(app, client, agent_key, officer_key, sandbox, clock):
    number = create_dossier(client, agent_key)["number"]
    for step in ("accepted", "processing", "result_ready"):
        client.post(f"/api/v1/dossiers/{number}/transitions", json={"to": step}, headers=auth(officer_key))
    run_outbox(app, clock.at)
    assert shipment(app, number) is None and outbox_rows(app, BOOKING_TOPIC) == []


def test_the_sandbox_clock_drives_the_delivery_and_the_dossier_follows(
        app, client, agent_key, officer_key, sandbox, clock, monday):
    number = ready_courier_dossier(client, agent_key, officer_key)["number"]
    run_outbox(app, clock.at)  # 08:00 Monday: pickup at 10:00
    tracking = shipment(app, number).tracking_number
    with app.app_context():
        plan = _events(sandbox, tracking)
    assert [s for _, s in plan] == ["picked_up", "in_transit", "out_for_delivery", "delivered"]
    assert local(monday, 10) < plan[(1, "picked_up")].occurred_at < local(monday, 11)

    run_outbox(app, clock.set(local(monday, 10)))  # the pickup time: the courier is not there yet
    assert shipment(app, number).status.value == "pending"
    run_outbox(app, clock.set(plan[(1, "picked_up")].occurred_at + timedelta(seconds=1)))
    assert shipment(app, number).status.value == "picked_up"
    assert dossier(app, number).status.value == "result_ready"  # nothing on the dossier yet

    # Poll after poll, a few minutes apart, until the courier is on its way.
    at = clock.at
    while at < plan[(1, "out_for_delivery")].occurred_at + timedelta(minutes=10):
        at = clock.set(at + timedelta(minutes=5))
        run_outbox(app, at)
    assert shipment(app, number).status.value == "out_for_delivery"
    assert dossier(app, number).status.value == "out_for_delivery"

    run_outbox(app, clock.set(plan[(1, "delivered")].occurred_at + timedelta(minutes=6)))
    found = shipment(app, number)
    assert found.status.value == "delivered" and found.next_poll_at is None
    assert dossier(app, number).status.value == "delivered"
    assert found.recipient_name == "Nguyễn Văn An"
    assert as_utc(found.delivered_at) == plan[(1, "delivered")].occurred_at
    assert found.signature_ref and found.photo_ref

    with app.app_context():
        summary = service.delivery_summary(found.dossier_id)
        recorded = db.session.query(ShipmentEvent).filter_by(shipment_id=found.id).count()
    assert summary["status"] == "delivered" and summary["proof"]["recipient_name"] == "Nguyễn Văn An"
    assert summary["proof"]["delivered_at"] == plan[(1, "delivered")].occurred_at
    assert summary["attempts"] == [{"at": plan[(1, "delivered")].occurred_at, "outcome": "delivered", "reason": None}]
    assert summary["can_reschedule"] is False and summary["slots"] == []
    assert recorded == 4  # each event once, however many polls saw it
    events = [event for event, _ in notify_events(app)]
    assert events.count("out_for_delivery") == 1 and events.count("delivered") == 1
    # The shipment is finished: no poll is left waiting.
    assert [p for p in outbox_rows(app, "courier.poll") if p.status == "pending"] == []


@pytest.mark.parametrize("failure_rate", [1.0])
def test_a_failed_attempt_is_recorded_and_the_next_working_day_is_booked(
        app, client, agent_key, officer_key, sandbox, clock, monday):
    friday = monday + timedelta(days=4)
    number = ready_courier_dossier(client, agent_key, officer_key)["number"]
    clock.set(local(friday, 12))
    run_outbox(app, clock.at)  # Friday noon: pickup at 15:00
    tracking = shipment(app, number).tracking_number
    with app.app_context():
        failed = _events(sandbox, tracking)[(1, "delivery_failed")]
    assert failed.reason in ("khong co nguoi nhan", "sai dia chi", "khong lien lac duoc")

    run_outbox(app, clock.set(failed.occurred_at + timedelta(minutes=1)))
    found = shipment(app, number)
    assert found.status.value == "delivery_failed" and found.attempts == 2
    first, second = found.attempt_rows
    assert first.status.value == "delivery_failed" and first.reason == failed.reason and first.reason_code
    assert as_utc(first.outcome_at) == failed.occurred_at
    # Friday's failure: the next attempt is Monday's first window, booked with the courier.
    next_monday = monday + timedelta(days=7)
    assert as_utc(second.pickup_start) == local(next_monday, 10) and second.scheduled_by == "system"
    assert second.status.value == "pending" and second.pickup_confirmation
    assert as_utc(found.next_poll_at) == local(next_monday, 10)
    assert dossier(app, number).status.value == "result_ready"
    notes = [payload for event, payload in notify_events(app) if event == "attempt_failed"]
    assert notes == [{"dossier_id": found.dossier_id, "reason": failed.reason,
                      "reason_code": failed.reason_code, "attempt": 1, "slot": local(next_monday, 10).astimezone(
                          timezone.utc).isoformat()}]
    with app.app_context():
        summary = service.delivery_summary(found.dossier_id)
    assert summary["status"] == "delivery_failed"
    assert summary["attempts"][0]["outcome"] == "failed" and summary["attempts"][0]["reason"]
    assert summary["can_reschedule"] is True
    assert {"start": local(next_monday, 10), "end": local(next_monday, 11)} in summary["slots"]


@pytest.mark.parametrize("failure_rate", [1.0])
def test_after_the_last_attempt_the_result_returns_to_the_point_for_collection(
        app, client, agent_key, officer_key, sandbox, clock, monday):
    number = ready_courier_dossier(client, agent_key, officer_key)["number"]
    run_outbox(app, clock.at)
    tracking = shipment(app, number).tracking_number
    for attempt in (1, 2, 3):
        with app.app_context():
            failed = _events(sandbox, tracking)[(attempt, "delivery_failed")]
        run_outbox(app, clock.set(failed.occurred_at + timedelta(minutes=1)))
        run_outbox(app, clock.at)  # the next attempt's booking
        if attempt < 3:
            assert shipment(app, number).attempts == attempt + 1
            start = as_utc(shipment(app, number).pickup_at).astimezone(LOCAL_TZ)
            assert start.date() > failed.occurred_at.astimezone(LOCAL_TZ).date()  # the next working day
    found = shipment(app, number)
    assert found.status.value == "returned_to_branch" and found.attempts == 3 and found.next_poll_at is None
    assert [a.status.value for a in found.attempt_rows] == ["delivery_failed"] * 3
    current = dossier(app, number)
    assert current.status.value == "result_ready" and current.delivery_method.value == "collect"
    events = [event for event, _ in notify_events(app)]
    assert events.count("attempt_failed") == 2 and events.count("returned_to_branch") == 1
    # The citizen now collects it at the point: the officer may record that.
    response = client.post(f"/api/v1/dossiers/{number}/transitions", json={"to": "collected"},
                           headers=auth(officer_key))
    assert response.status_code == 200
    with app.app_context():
        summary = service.delivery_summary(found.dossier_id)
    assert summary["status"] == "returned_to_branch" and len(summary["attempts"]) == 3
    assert summary["can_reschedule"] is False


def test_staff_see_the_shipment(app, client, agent_key, officer_key, sandbox, clock):
    number = ready_courier_dossier(client, agent_key, officer_key)["number"]
    assert client.get(f"/api/v1/dossiers/{number}/shipment", headers=auth(officer_key)).status_code == 404
    run_outbox(app, clock.at)
    response = client.get(f"/api/v1/dossiers/{number}/shipment", headers=auth(officer_key))
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "pending" and body["attempts"][0]["booked"] is True and body["events"] == []
    assert client.get(f"/api/v1/dossiers/{number}/shipment", headers=auth(agent_key)).status_code == 200
