"""Jobs that run at a time of day (the nightly reconciliation, the quality alerts), on the outbox.

``@periodic("finance.nightly_reconcile", at=time(2, 0))`` registers an outbox handler for the
topic and a schedule: every day at ``at`` Hanoi time (or every ``every`` from midnight, for jobs
that run several times a day). Each occurrence is one outbox message, due at its time and
deduplicated by ``periodic:<topic>:<occurrence>``, so it is retried, listed when failed and
requeued like any other job, runs on rq with ``REDIS_URL`` and in-process without it, and never
runs twice for the same occurrence however many processes schedule it. Running an occurrence
schedules the next one, in the same transaction as the job's own work; ``ensure_scheduled()``
(called when an outbox runner or relay starts, and by ``flask jobs schedule``) puts the next
occurrence of every periodic job in place if it is missing, so a fresh database or a job whose
chain broke (an occurrence marked failed) gets going again.

The payload names the occurrence (``{"occurrence": "2026-12-02T02:00:00+07:00"}``): a job that
runs late, after an outage, still knows which night it stands for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from core import outbox
from core.extensions import db
from core.timeutil import LOCAL_TZ, to_local, utcnow
from core.uow import unit_of_work

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Schedule:
    topic: str
    at: time | None = None  # daily at this local time
    every: timedelta | None = None  # or every so often, counted from local midnight

    def next_after(self, moment: datetime) -> datetime:
        """The first occurrence strictly after ``moment``, aware, in Hanoi time."""
        local = to_local(moment)
        midnight = datetime.combine(local.date(), time(0), tzinfo=LOCAL_TZ)
        if self.every is not None:
            steps = int((local - midnight) / self.every) + 1
            return midnight + steps * self.every
        candidate = datetime.combine(local.date(), self.at, tzinfo=LOCAL_TZ)
        return candidate if candidate > local else candidate + timedelta(days=1)

    def dedupe_key(self, occurrence: datetime) -> str:
        return f"periodic:{self.topic}:{to_local(occurrence).isoformat()}"


SCHEDULES: dict[str, Schedule] = {}


def periodic(topic: str, *, at: time | None = None, every: timedelta | None = None) -> Callable:
    """Register ``func(occurrence: datetime)`` to run at every occurrence of the schedule."""
    if (at is None) == (every is None):
        raise ValueError("a periodic job runs either daily `at` a time or `every` so often")
    schedule = Schedule(topic, at, every)

    def register(func: Callable[[datetime], object]) -> Callable:
        @outbox.handler(topic)
        def run(payload: dict) -> None:
            occurrence = datetime.fromisoformat(payload["occurrence"])
            with unit_of_work():
                func(occurrence)
                _schedule(schedule, schedule.next_after(max(occurrence, utcnow())))

        SCHEDULES[topic] = schedule
        return func

    return register


def _schedule(schedule: Schedule, occurrence: datetime) -> None:
    outbox.enqueue(schedule.topic, {"occurrence": to_local(occurrence).isoformat()},
                   due_at=occurrence, dedupe_key=schedule.dedupe_key(occurrence))


@unit_of_work()
def ensure_scheduled(now: datetime | None = None) -> list[str]:
    """Make sure every periodic job's next occurrence is waiting; the topics scheduled anew."""
    now = now or utcnow()
    added = []
    for schedule in SCHEDULES.values():
        pending = db.session.scalars(db.select(outbox.OutboxMessage.id).where(
            outbox.OutboxMessage.topic == schedule.topic,
            outbox.OutboxMessage.status.in_(("pending", "queued", "running")))).first()
        if pending is None:
            _schedule(schedule, schedule.next_after(now))
            added.append(schedule.topic)
    return added


def ensure_scheduled_quietly() -> None:
    """For a runner or relay starting up: a database hiccup here must not stop it."""
    try:
        ensure_scheduled()
    except Exception:  # noqa: BLE001 - retried at the next start, and by `flask jobs schedule`
        log.exception("periodic jobs: could not schedule the next occurrences")
