"""Batches: the relay hands rq one job per batch of due messages of a queue, each message still run once.

A real Redis and an rq worker in this process (as in tests/core/test_jobs.py), under a key namespace
of its own.
"""

from __future__ import annotations

import signal
import uuid
from datetime import timedelta

import pytest
from redis import Redis
from rq import Queue, SimpleWorker

from core import jobs, outbox
from core.extensions import db
from core.outbox import OutboxMessage
from core.timeutil import utcnow

pytestmark = pytest.mark.redis

TOPIC = "test.batch"
RAN: list[int] = []
FAIL_ON: set[int] = set()


@outbox.handler(TOPIC)
def _run(payload: dict) -> None:
    if payload["n"] in FAIL_ON:
        raise RuntimeError(f"message {payload['n']} cannot be sent")
    RAN.append(payload["n"])


@pytest.fixture(autouse=True)
def _fresh_state():
    RAN.clear()
    FAIL_ON.clear()
    yield
    RAN.clear()
    FAIL_ON.clear()


@pytest.fixture
def rq_app(app, redis_url, monkeypatch):
    namespace = f"b{uuid.uuid4().hex[:8]}-"
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    monkeypatch.setitem(app.config, "JOBS_NAMESPACE", namespace)
    monkeypatch.setitem(app.config, "JOBS_QUEUES", "default,test")
    yield app
    connection = Redis.from_url(redis_url)
    for key in connection.scan_iter(match=f"*{namespace}*", count=1000):
        connection.delete(key)
    for key in ("rq:queues", "rq:workers"):
        stale = [m for m in connection.smembers(key) if namespace.encode() in m]
        if stale:
            connection.srem(key, *stale)


def add(app, *numbers: int) -> list[int]:
    with app.app_context():
        messages = [outbox.enqueue(TOPIC, {"n": n}) for n in numbers]
        db.session.commit()
        return [m.id for m in messages]


def relay(app) -> int:
    with app.app_context():
        return jobs.relay_due()


def work(app) -> None:
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with app.app_context():
            SimpleWorker(jobs.queue_names(), connection=jobs.redis_connection(),
                         name=f"{app.config['JOBS_NAMESPACE']}worker-{uuid.uuid4().hex[:6]}").work(
                burst=True, logging_level="WARNING")
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def queue(app) -> Queue:
    return Queue(app.config["JOBS_NAMESPACE"] + "test", connection=jobs.redis_connection(app.config["REDIS_URL"]))


def rows(app, ids: list[int]) -> list[tuple[str, int]]:
    with app.app_context():
        try:
            return [(m.status, m.attempts) for m in (db.session.get(OutboxMessage, i) for i in ids)]
        finally:
            db.session.remove()


def members_in_redis(app) -> dict:
    with app.app_context():
        return jobs.redis_connection().hgetall(app.config["JOBS_NAMESPACE"] + jobs.BATCHES_KEY)


def test_a_batch_job_runs_each_message_once(rq_app):
    ids = add(rq_app, 1, 2, 3, 4, 5)
    assert relay(rq_app) == 5
    with rq_app.app_context():
        assert queue(rq_app).job_ids == [jobs.batch_job_id(ids)]  # one rq job for the five
    assert len(members_in_redis(rq_app)) == 5
    work(rq_app)
    assert sorted(RAN) == [1, 2, 3, 4, 5]
    assert rows(rq_app, ids) == [("done", 1)] * 5
    assert members_in_redis(rq_app) == {}  # the batch forgot its members once done


def test_batches_hold_at_most_the_batch_size(rq_app, monkeypatch):
    monkeypatch.setitem(rq_app.config, "JOBS_BATCH_SIZE", 2)
    ids = add(rq_app, 1, 2, 3, 4, 5)
    assert relay(rq_app) == 5
    with rq_app.app_context():
        # Two batches of two, and the last one alone: its own job, as without batches.
        assert queue(rq_app).job_ids == [jobs.batch_job_id(ids[0:2]), jobs.batch_job_id(ids[2:4]),
                                         jobs.job_id(ids[4])]
    work(rq_app)
    assert sorted(RAN) == [1, 2, 3, 4, 5] and rows(rq_app, ids) == [("done", 1)] * 5


def test_one_failing_message_does_not_stop_the_batch_and_is_retried_alone(rq_app, clock):
    ids = add(rq_app, 1, 2, 3)
    FAIL_ON.add(2)
    assert relay(rq_app) == 3
    work(rq_app)
    assert sorted(RAN) == [1, 3]  # the ones after the failure ran too
    assert rows(rq_app, ids) == [("done", 1), ("pending", 1), ("done", 1)]
    with rq_app.app_context():
        failed = db.session.get(OutboxMessage, ids[1])
        assert "message 2 cannot be sent" in failed.last_error
        assert failed.due_at.replace(tzinfo=None) > utcnow().replace(tzinfo=None)  # backed off
    assert relay(rq_app) == 0  # not due yet
    FAIL_ON.clear()
    clock.advance(seconds=60)
    assert relay(rq_app) == 1  # only the failed one, alone
    with rq_app.app_context():
        assert queue(rq_app).job_ids == [jobs.job_id(ids[1])]
    work(rq_app)
    assert sorted(RAN) == [1, 2, 3]  # 1 and 3 did not run again
    assert rows(rq_app, ids) == [("done", 1), ("done", 2), ("done", 1)]


def test_a_batch_handed_over_twice_runs_each_message_once(rq_app):
    ids = add(rq_app, 1, 2, 3)
    assert relay(rq_app) == 3
    with rq_app.app_context():
        jobs.hand_over([(i, TOPIC) for i in ids])  # the same batch again (e.g. a re-handed claim)
        jobs.hand_over([(i, TOPIC) for i in ids[1:]])  # and part of it in another batch
        jobs.hand_over([(ids[2], TOPIC)])  # and one alone
    assert queue(rq_app).count == 4
    work(rq_app)
    assert sorted(RAN) == [1, 2, 3]
    assert rows(rq_app, ids) == [("done", 1)] * 3


def test_a_lost_batch_is_handed_over_again_and_a_waiting_one_is_not_duplicated(rq_app, clock, monkeypatch):
    monkeypatch.setitem(rq_app.config, "JOBS_BATCH_SIZE", 2)
    ids = add(rq_app, 1, 2, 3, 4)
    assert relay(rq_app) == 4
    with rq_app.app_context():
        queue(rq_app).remove(jobs.batch_job_id(ids[2:4]))  # Redis lost this batch; the other waits
        handoff = float(rq_app.config["JOBS_HANDOFF_S"])
    assert relay(rq_app) == 0  # within the handoff every claim holds
    clock.advance(seconds=handoff + 1)
    assert relay(rq_app) == 2  # the lost batch's two messages, not the waiting batch's
    assert queue(rq_app).count == 2  # the waiting batch once, the lost messages again
    work(rq_app)
    assert sorted(RAN) == [1, 2, 3, 4]
    assert rows(rq_app, ids) == [("done", 1)] * 4


def test_run_batch_outside_rq_runs_each_due_message_once(rq_app):
    ids = add(rq_app, 1, 2)
    with rq_app.app_context():
        assert jobs.run_batch(ids) == [True, True]
        assert jobs.run_batch(ids) == [None, None]  # done: a second delivery is a no-op
    assert RAN == [1, 2]


def test_due_later_is_not_taken_by_a_batch(rq_app):
    with rq_app.app_context():
        message = outbox.enqueue(TOPIC, {"n": 9}, due_at=utcnow() + timedelta(hours=1))
        db.session.commit()
        later = message.id
        assert jobs.run_batch([later]) == [None]
    assert RAN == [] and rows(rq_app, [later]) == [("pending", 0)]
