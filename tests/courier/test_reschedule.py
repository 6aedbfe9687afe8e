"""The citizen picks another slot after a failed attempt: last 4 digits of the phone first, a lockout,
only offered slots; the old pickup is cancelled with the courier and the new one booked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.extensions import db
from core.timeutil import LOCAL_TZ, as_utc
from courier import service
from courier.errors import NothingToReschedule, PhoneDigitsMismatch, SlotNotOffered, TooManyTries
from courier.models import PhoneCheckFailure, RescheduleRequest
from sandboxes.courier.models import SandboxPickup
from tests.courier.conftest import local, outbox_rows, ready_courier_dossier, run_outbox, shipment

RIGHT = "5678"  # the factory's citizen phone is 0912345678


@pytest.fixture
def failure_rate():
    return 1.0


@pytest.fixture
def failed_once(app, client, agent_key, officer_key, sandbox, clock, monday):
    """A courier dossier whose first attempt (Monday 10:00) failed; the second is booked for Tuesday 10:00."""
    number = ready_courier_dossier(client, agent_key, officer_key)["number"]
    run_outbox(app, clock.at)
    with app.app_context():
        failed = next(e for e in sandbox.planned_events(shipment(app, number).tracking_number)
                      if e.status.value == "delivery_failed")
    run_outbox(app, clock.set(failed.occurred_at + timedelta(minutes=1)))
    run_outbox(app, clock.at)
    found = shipment(app, number)
    assert found.attempts == 2 and as_utc(found.pickup_at) == local(monday + timedelta(days=1), 10)
    return found


def _summary(app, dossier_id):
    with app.app_context():
        return service.delivery_summary(dossier_id)


def _reschedule(app, dossier_id, digits, start):
    with app.app_context():
        return service.reschedule(dossier_id, digits, start)


def test_right_digits_and_an_offered_slot_move_the_next_attempt(app, failed_once, sandbox, clock, monday):
    dossier_id = failed_once.dossier_id
    summary = _summary(app, dossier_id)
    assert summary["can_reschedule"] is True
    wednesday_pm = local(monday + timedelta(days=2), 15)
    assert {"start": wednesday_pm, "end": local(monday + timedelta(days=2), 16)} in summary["slots"]
    old_confirmation = failed_once.attempt_rows[1].pickup_confirmation

    _reschedule(app, dossier_id, RIGHT, wednesday_pm)
    found = shipment(app, _number(app, dossier_id))
    second = found.attempt_rows[1]
    assert as_utc(second.pickup_start) == wednesday_pm and second.scheduled_by == "citizen" and second.revision == 1
    assert second.pickup_confirmation is None and as_utc(found.pickup_at) == wednesday_pm
    assert as_utc(found.next_poll_at) == wednesday_pm
    with app.app_context():
        [request] = db.session.scalars(select(RescheduleRequest)).all()
    assert (as_utc(request.previous_start), as_utc(request.slot_start)) == (
        local(monday + timedelta(days=1), 10), wednesday_pm)

    run_outbox(app, clock.at)  # cancel the old pickup, book the new one
    found = shipment(app, _number(app, dossier_id))
    assert found.attempt_rows[1].pickup_confirmation not in (None, old_confirmation)
    with app.app_context():
        pickups = {p.confirmation: p for p in db.session.scalars(select(SandboxPickup)
                                                                 .where(SandboxPickup.attempt == 2))}
    assert pickups[old_confirmation].cancelled_at is not None
    assert as_utc(pickups[found.attempt_rows[1].pickup_confirmation].window_start) == wednesday_pm

    # Tuesday's poll finds its time was given up; the courier comes on Wednesday afternoon.
    run_outbox(app, clock.set(local(monday + timedelta(days=1), 18)))
    assert shipment(app, _number(app, dossier_id)).attempt_rows[1].status.value == "pending"
    with app.app_context():
        second_try = [e for e in sandbox.planned_events(found.tracking_number) if e.attempt == 2]
    assert second_try[0].status.value == "picked_up" and wednesday_pm < second_try[0].occurred_at
    assert [(m.payload["confirmation"], m.status) for m in outbox_rows(app, "courier.cancel_pickup")] == [
        (old_confirmation, "done")]


def test_wrong_digits_are_refused_and_five_lock_it_for_fifteen_minutes(app, failed_once, clock):
    dossier_id = failed_once.dossier_id
    slot = _summary(app, dossier_id)["slots"][-1]["start"]
    for left in (4, 3, 2, 1):
        with pytest.raises(PhoneDigitsMismatch) as refused:
            _reschedule(app, dossier_id, "1234", slot)
        assert refused.value.extra["tries_left"] == left and "4 số cuối" in refused.value.detail.vi
        assert refused.value.detail.en.endswith(f"{left} tries left." if left > 1 else "1 try left.")
    with pytest.raises(TooManyTries):
        _reschedule(app, dossier_id, "0000", slot)
    with pytest.raises(TooManyTries) as locked:  # even the right digits, while locked
        _reschedule(app, dossier_id, RIGHT, slot)
    assert "15 phút" in locked.value.detail.vi
    with app.app_context():
        assert db.session.query(PhoneCheckFailure).count() == 5
    assert shipment(app, _number(app, dossier_id)).attempt_rows[1].scheduled_by == "system"

    locked_at = clock.at
    clock.set(locked_at + timedelta(minutes=14, seconds=30))
    with pytest.raises(TooManyTries) as almost:
        _reschedule(app, dossier_id, RIGHT, slot)
    assert almost.value.detail.en.endswith("Please try again in 1 minute.")  # not "1 minutes"
    assert almost.value.detail.vi.endswith("thử lại sau 1 phút.")
    clock.set(locked_at + timedelta(minutes=16))
    _reschedule(app, dossier_id, "56 78", slot)  # spaces are fine
    assert as_utc(shipment(app, _number(app, dossier_id)).attempt_rows[1].pickup_start) == slot


def test_only_offered_slots_and_only_after_a_failed_attempt(app, client, agent_key, officer_key, failed_once, clock):
    dossier_id = failed_once.dossier_id
    current = as_utc(failed_once.pickup_at)
    with pytest.raises(SlotNotOffered):
        _reschedule(app, dossier_id, RIGHT, current + timedelta(minutes=30))
    with pytest.raises(SlotNotOffered):  # a Sunday morning
        sunday = (current.astimezone(LOCAL_TZ) + timedelta(days=(6 - current.astimezone(LOCAL_TZ).weekday())))
        _reschedule(app, dossier_id, RIGHT, sunday)
    _reschedule(app, dossier_id, RIGHT, current)  # the slot already booked: nothing changes
    assert shipment(app, _number(app, dossier_id)).attempt_rows[1].revision == 0

    number = ready_courier_dossier(client, agent_key, officer_key)["number"]
    run_outbox(app, clock.at)
    fresh = shipment(app, number)
    assert _summary(app, fresh.dossier_id)["can_reschedule"] is False
    with pytest.raises(NothingToReschedule):
        _reschedule(app, fresh.dossier_id, RIGHT, as_utc(fresh.pickup_at))

    # Once the next pickup is close, the slot can no longer be moved.
    clock.set(current - timedelta(minutes=10))
    assert _summary(app, dossier_id)["can_reschedule"] is False and _summary(app, dossier_id)["slots"] == []


def _number(app, dossier_id):
    from dossiers import service as dossiers

    with app.app_context():
        return dossiers.by_id(dossier_id).number
