"""Periodic jobs on the outbox: one message per occurrence, each run schedules the next, nothing twice."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from core import outbox, periodic
from core.extensions import db
from core.outbox import OutboxMessage
from core.timeutil import LOCAL_TZ, as_utc

RUNS: list[datetime] = []


@pytest.fixture
def nightly():
    topic = "tests.nightly"
    periodic.periodic(topic, at=time(2, 0))(RUNS.append)
    RUNS.clear()
    yield periodic.SCHEDULES[topic]
    periodic.SCHEDULES.pop(topic, None)
    outbox.HANDLERS.pop(topic, None)


def test_the_next_occurrence_is_tonight_or_tomorrow_night_in_hanoi():
    daily = periodic.Schedule("t", at=time(2, 0))
    evening = datetime(2026, 12, 2, 22, 30, tzinfo=LOCAL_TZ)
    assert daily.next_after(evening) == datetime(2026, 12, 3, 2, 0, tzinfo=LOCAL_TZ)
    early = datetime(2026, 12, 3, 1, 0, tzinfo=LOCAL_TZ)
    assert daily.next_after(early) == datetime(2026, 12, 3, 2, 0, tzinfo=LOCAL_TZ)
    assert daily.next_after(datetime(2026, 12, 3, 2, 0, tzinfo=LOCAL_TZ)) == datetime(2026, 12, 4, 2, 0,
                                                                                       tzinfo=LOCAL_TZ)
    quarter = periodic.Schedule("q", every=timedelta(minutes=15))
    assert quarter.next_after(datetime(2026, 12, 3, 9, 7, tzinfo=LOCAL_TZ)) == datetime(2026, 12, 3, 9, 15,
                                                                                          tzinfo=LOCAL_TZ)
    with pytest.raises(ValueError):
        periodic.periodic("bad")


def test_scheduling_twice_waits_once_and_a_run_schedules_the_next_night(app, clock, nightly):
    clock.set(datetime(2026, 12, 2, 23, 0, tzinfo=LOCAL_TZ))
    with app.app_context():
        assert "tests.nightly" in periodic.ensure_scheduled()
        assert periodic.ensure_scheduled() == []  # another process starting: nothing more
        rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "tests.nightly")).all()
        assert len(rows) == 1 and as_utc(rows[0].due_at) == datetime(2026, 12, 3, 2, 0, tzinfo=LOCAL_TZ)

        assert outbox.run_due(now=as_utc(datetime(2026, 12, 3, 1, 59, tzinfo=LOCAL_TZ)), topic="tests.nightly") == 0
        clock.set(datetime(2026, 12, 3, 2, 0, 5, tzinfo=LOCAL_TZ))
        assert outbox.run_due(now=as_utc(datetime(2026, 12, 3, 2, 0, 5, tzinfo=LOCAL_TZ)), topic="tests.nightly") == 1
        assert RUNS == [datetime(2026, 12, 3, 2, 0, tzinfo=LOCAL_TZ)]
        db.session.expire_all()
        waiting = db.session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "tests.nightly",
                                                                 OutboxMessage.status == "pending")).all()
        assert [as_utc(m.due_at) for m in waiting] == [datetime(2026, 12, 4, 2, 0, tzinfo=LOCAL_TZ)]


@pytest.mark.smoke
def test_a_due_time_in_hanoi_time_is_stored_as_the_same_instant(app):
    """SQLite keeps a datetime's wall time and drops its zone: 10:00 in Hanoi must not come back as 10:00 UTC."""
    due = datetime(2026, 3, 20, 10, 0, tzinfo=LOCAL_TZ)
    with app.app_context():
        message = outbox.enqueue("test.due", {}, due_at=due)
        db.session.commit()
        db.session.expire_all()
        stored = db.session.get(OutboxMessage, message.id)
        assert as_utc(stored.due_at) == due
        assert db.session.scalar(select(OutboxMessage.id).where(outbox.pending_due(as_utc(due) - timedelta(minutes=1))
                                                                & (OutboxMessage.id == message.id))) is None
