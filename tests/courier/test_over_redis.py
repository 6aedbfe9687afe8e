"""The courier return through the real job path: the outbox relayed to a real Redis, run by an rq worker.

- Redis is down when the result becomes ready: nothing is lost; once Redis is back the relay
  hands the message over and the worker books the courier.
- The pickup's follow-up is a database time: the relay hands it over only when it is due, and
  the worker runs it then.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import jobs, outbox
from core.extensions import db
from core.timeutil import as_utc
from tests.core import test_jobs
from tests.core.test_jobs import CLOSED_PORT_URL, relay, work
from tests.courier.conftest import BOOKING_TOPIC, outbox_rows, ready_courier_dossier, shipment

rq_app = test_jobs.rq_app  # the fixture: the test app relaying to the test Redis under its own namespace

pytestmark = pytest.mark.redis


def test_redis_down_when_the_result_is_ready_loses_nothing(rq_app, client, agent_key, officer_key, sandbox,
                                                            monkeypatch):
    app = rq_app
    created = ready_courier_dossier(client, agent_key, officer_key)
    [ready] = outbox_rows(app, BOOKING_TOPIC)
    real_redis = app.config["REDIS_URL"]

    monkeypatch.setitem(app.config, "REDIS_URL", CLOSED_PORT_URL)
    with app.app_context(), pytest.raises(jobs.RelayUnavailable):
        jobs.relay_due()
    with app.app_context():
        row = db.session.get(outbox.OutboxMessage, ready.id)
        assert row.status == "pending" and row.attempts == 0  # the claim was rolled back
    assert shipment(app, created["number"]) is None

    monkeypatch.setitem(app.config, "REDIS_URL", real_redis)
    assert relay(app) >= 1
    work(app)
    booked = shipment(app, created["number"])
    assert booked is not None and booked.status == "pending" and booked.pickup_at is not None
    with app.app_context():
        assert db.session.get(outbox.OutboxMessage, ready.id).status == "done"
    polls = outbox_rows(app, "courier.poll")
    assert polls and as_utc(polls[-1].due_at) == as_utc(booked.pickup_at)  # the pickup time lives in the database


def test_the_pickup_follow_up_runs_at_its_time_not_before(rq_app, client, agent_key, officer_key, sandbox,
                                                          clock):
    app = rq_app
    created = ready_courier_dossier(client, agent_key, officer_key)
    relay(app)
    work(app)
    [poll] = [row for row in outbox_rows(app, "courier.poll") if row.status == "pending"]
    due = as_utc(poll.due_at)  # the pickup slot, later that day
    clock.set(due - timedelta(minutes=1))
    relay(app)  # other messages may be due (the citizen's SMS); this one is not yet
    work(app)
    with app.app_context():
        assert db.session.get(outbox.OutboxMessage, poll.id).status == "pending"  # it stayed in the database
    clock.set(due)
    assert relay(app) >= 1
    work(app)
    with app.app_context():
        ran = db.session.get(outbox.OutboxMessage, poll.id)
        assert ran.status == "done" and as_utc(ran.finished_at) >= due
    assert shipment(app, created["number"]) is not None
