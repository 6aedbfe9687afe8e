"""The transactional outbox: side effects that run after the state change commits.

A use case calls ``enqueue`` inside its own transaction, so the message exists if and
only if the change does. Handlers are registered per topic with ``@handler``; each takes
the message's payload (plain ids and values), opens its own transaction, and checks the
current state first, so running twice does no harm.

``run_due`` claims due messages one by one (``pending`` and ``due_at`` passed, or a claim
that expired because its runner died), runs the handler, and marks the message ``done``;
a failure is retried with exponential backoff until ``OUTBOX_MAX_ATTEMPTS``, then the
message is ``failed`` and stays listed for a person to look at. In the embedded default a
daemon thread per process runs due messages (woken at once by ``enqueue``); the tests call
``run_due`` themselves (``OUTBOX_THREAD=False``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import JSON, DateTime, Integer, String, Text, event, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.extensions import db
from core.timeutil import as_utc, utcnow

log = logging.getLogger(__name__)

Handler = Callable[[dict], None]
HANDLERS: dict[str, Handler] = {}
CLAIM_S = 300  # a claim older than this belonged to a runner that died


class OutboxMessage(db.Model):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict] = mapped_column(JSON)
    # One message per business event when set (e.g. a webhook event id): a second enqueue is a no-op.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending|running|done|failed
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def handler(topic: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        HANDLERS[topic] = func
        return func

    return register


def enqueue(topic: str, payload: dict, *, due_at: datetime | None = None,
            dedupe_key: str | None = None) -> OutboxMessage:
    """Add a message to the current transaction; it runs only if that transaction commits.

    With ``dedupe_key``, a message already enqueued under that key is returned instead (the
    unique index stops a concurrent second one at commit).
    """
    if dedupe_key is not None:
        existing = db.session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key)).first()
        if existing is not None:
            return existing
    message = OutboxMessage(topic=topic, payload=payload, dedupe_key=dedupe_key, status="pending",
                            due_at=due_at or utcnow(), attempts=0)
    db.session.add(message)
    db.session.info["outbox_wake"] = True  # the runner is woken once this transaction commits
    return message


def backoff(attempts: int) -> timedelta:
    base = float(current_app.config.get("OUTBOX_RETRY_BASE_S", 5))
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 6 * 3600))


def _claim(message_id: int, now: datetime) -> bool:
    claimed = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.due_at <= now,
               or_(OutboxMessage.status == "pending",
                   (OutboxMessage.status == "running") & (OutboxMessage.claimed_until < now)))
        .values(status="running", attempts=OutboxMessage.attempts + 1,
                claimed_until=now + timedelta(seconds=CLAIM_S))
    ).rowcount
    db.session.commit()
    return claimed == 1


def run_one(message_id: int, now: datetime | None = None) -> bool | None:
    """Run one message if it is due and unclaimed: True done, False failed this time, None not run."""
    now = now or utcnow()
    if not _claim(message_id, now):
        return None
    message = db.session.get(OutboxMessage, message_id)
    func = HANDLERS.get(message.topic)
    try:
        if func is None:
            raise LookupError(f"no handler for topic {message.topic!r}")
        func(dict(message.payload))
    except Exception as exc:  # noqa: BLE001 - every failure is recorded and retried
        db.session.rollback()
        message = db.session.get(OutboxMessage, message_id)
        message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        limit = int(current_app.config.get("OUTBOX_MAX_ATTEMPTS", 8))
        if message.attempts >= limit:
            message.status = "failed"
            message.finished_at = utcnow()
        else:
            message.status = "pending"
            message.due_at = utcnow() + backoff(message.attempts)
        message.claimed_until = None
        db.session.commit()
        log.warning("outbox %s #%s failed (attempt %s): %s", message.topic, message.id, message.attempts,
                    message.last_error)
        return False
    message = db.session.get(OutboxMessage, message_id)
    message.status, message.finished_at, message.claimed_until = "done", utcnow(), None
    db.session.commit()
    return True


def due_ids(now: datetime | None = None, limit: int = 100, topic: str | None = None) -> list[int]:
    now = now or utcnow()
    query = (select(OutboxMessage.id)
             .where(OutboxMessage.due_at <= now,
                    or_(OutboxMessage.status == "pending",
                        (OutboxMessage.status == "running") & (OutboxMessage.claimed_until < now)))
             .order_by(OutboxMessage.due_at, OutboxMessage.id).limit(limit))
    if topic:
        query = query.where(OutboxMessage.topic == topic)
    return list(db.session.scalars(query))


def run_due(now: datetime | None = None, limit: int = 100, topic: str | None = None) -> int:
    """Run every due message (up to ``limit``); returns how many were done."""
    done = 0
    for message_id in due_ids(now, limit, topic):
        done += bool(run_one(message_id, now))
    return done


def next_due_in(now: datetime | None = None) -> float | None:
    now = now or utcnow()
    soonest = db.session.scalars(select(OutboxMessage.due_at).where(OutboxMessage.status == "pending")
                                 .order_by(OutboxMessage.due_at).limit(1)).first()
    return None if soonest is None else max((as_utc(soonest) - now).total_seconds(), 0.0)


# ---------------------------------------------------------------- the embedded runner

_wakeup = threading.Event()
_runner: threading.Thread | None = None
_runner_lock = threading.Lock()


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    if session.info.pop("outbox_wake", False):
        _wakeup.set()


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop("outbox_wake", None)


def start_runner(app: Flask) -> None:
    """A daemon thread per process running due messages (the embedded default; no Redis)."""
    global _runner
    with _runner_lock:
        if _runner is not None and _runner.is_alive():
            return
        _runner = threading.Thread(target=_loop, args=(app,), name="outbox-runner", daemon=True)
        _runner.start()


def _loop(app: Flask) -> None:
    poll = float(app.config.get("OUTBOX_POLL_S", 2.0))
    while True:
        _wakeup.wait(poll)
        _wakeup.clear()
        try:
            with app.app_context():
                while run_due(limit=50):
                    pass
                db.session.remove()
        except Exception:  # noqa: BLE001 - the runner must outlive a database hiccup
            log.exception("outbox runner")


def init_outbox(app: Flask) -> None:
    if not app.config.get("OUTBOX_THREAD", True):
        return

    @app.before_request
    def _ensure_runner() -> None:  # started lazily: after gunicorn forks, once per worker
        if _runner is None or not _runner.is_alive():
            start_runner(app)
