"""The transactional outbox: side effects that run after the state change commits.

A use case calls ``enqueue`` inside its own transaction, so the message exists if and
only if the change does. Handlers are registered per topic with ``@handler``; each takes
the message's payload (plain ids and values), opens its own transaction, and checks the
current state first, so running twice does no harm.

Events between packages: a package *publishes* what happened to it (``publish("dossiers.status_changed",
{...})``) without knowing who listens; a package that cares *subscribes* (``@subscriber("dossiers.status_changed",
name="notify")``). The publisher owns the event's name and payload (plain values), declared once
with ``declare_event(name)``; it never names a consumer's topic. Fan-out happens at enqueue time: ``publish``
writes one outbox row per interested subscriber, topic ``"<subscriber>@<event>"`` (e.g.
``notify@dossiers.status_changed``), in the publisher's transaction. So each subscriber's work is
claimed, retried with backoff, deduplicated, marked failed and requeued on its own row by the
machinery below, and lands on its own rq queue (the prefix before ``@``): one subscriber failing
never re-runs another. (Fan-out at dispatch time would need a per-subscriber progress record
inside one row, and one slow or failing consumer would hold back the others.) The price: a
subscriber registered later does not see events published before it; subscribers register at
import, which the app factory does before serving anything. A subscriber may say ``when``
(a predicate over the payload: only those events make a row) and ``dedupe`` (its own key per
event, e.g. one shipment per dossier).

Statuses: ``pending`` (waiting for ``due_at``), ``queued`` (handed to rq by the relay in
``core.jobs``; ``claimed_until`` says when it is handed again if no worker took it),
``running`` (a runner claimed it until ``claimed_until``), ``done``, ``failed``.

``run_due`` claims due messages one by one (``pending`` and ``due_at`` passed, or a claim
that expired because its runner or relay died), runs the handler, and marks the message
``done``; a failure is retried with exponential backoff (a later ``due_at``: the database
holds future times) until ``OUTBOX_MAX_ATTEMPTS``, then the message is ``failed`` and stays
listed for a person to look at (``flask jobs failed``). ``run_one`` also takes a ``queued``
message at once: that is the rq job the relay handed over. In the embedded default a daemon
thread per process runs due messages (woken at once by ``enqueue``); with ``REDIS_URL`` set
the same thread is the relay instead. The tests call ``run_due`` themselves
(``OUTBOX_THREAD=False``).

Cost per message (PostgreSQL): the claim is one ``UPDATE … RETURNING`` (topic, payload, attempts: no
second read) and the result one ``UPDATE``, each on an autocommit connection with asynchronous commit
(``ledger()``: one round trip, no fsync wait; why that loses nothing is said there); a handler that
left its own work uncommitted has the result written in its transaction instead.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import (
    JSON,
    DateTime,
    Engine,
    Index,
    Integer,
    String,
    Text,
    bindparam,
    create_engine,
    event,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from core.extensions import db
from core.timeutil import as_utc, utcnow

log = logging.getLogger(__name__)

Handler = Callable[[dict], None]
HANDLERS: dict[str, Handler] = {}
CLAIM_S = 300  # a claim older than this belonged to a runner that died
_PENDING = text("status = 'pending'")
_CLAIMED = text("status IN ('queued', 'running')")


class OutboxMessage(db.Model):
    __tablename__ = "outbox"
    __table_args__ = (
        # The scans for due work, each over the few rows it needs (done ones are never in them):
        # pending messages in due order, and claims by expiry.
        Index("ix_outbox_pending_due", "due_at", "id", postgresql_where=_PENDING, sqlite_where=_PENDING),
        Index("ix_outbox_claimed_until", "claimed_until", postgresql_where=_CLAIMED, sqlite_where=_CLAIMED),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict] = mapped_column(JSON)
    # One message per business event when set (e.g. a webhook event id): a second enqueue is a no-op.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending|queued|running|done|failed
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


@dataclass(frozen=True)
class Subscriber:
    event: str
    name: str
    func: Handler
    when: Callable[[dict], bool] | None = None
    dedupe: Callable[[dict], str | None] | None = None

    @property
    def topic(self) -> str:
        """The topic of this subscriber's rows: ``notify@dossiers.status_changed`` (its queue: ``notify``)."""
        return f"{self.name}@{self.event}"

    def wants(self, payload: dict) -> bool:
        return self.when is None or bool(self.when(payload))

    def dedupe_key(self, payload: dict, event_key: str | None) -> str | None:
        """The subscriber's own key for this event, else ``<topic>:<the publisher's key>``, else none."""
        own = self.dedupe(payload) if self.dedupe is not None else None
        if own is not None:
            return f"{self.topic}:{own}"
        return f"{self.topic}:{event_key}" if event_key is not None else None


EVENTS: set[str] = set()  # every event some package publishes (``declare_event``)
SUBSCRIBERS: dict[str, dict[str, Subscriber]] = {}  # event -> subscriber name -> subscriber
_subscriptions_version = [0]  # bumped on every (un)subscription: caches built from SUBSCRIBERS check it


def declare_event(name: str) -> str:
    """Declare an event a package publishes; returns its name.

    ``STATUS_CHANGED = outbox.declare_event("dossiers.status_changed")``: ``publish`` refuses an
    undeclared name, and a test checks that every subscription names a declared event.
    """
    if "@" in name or "." not in name:
        raise ValueError(f"an event is named '<package>.<what happened>', not {name!r}")
    EVENTS.add(name)
    return name


def subscriber(event_name: str, *, name: str, when: Callable[[dict], bool] | None = None,
               dedupe: Callable[[dict], str | None] | None = None) -> Callable[[Handler], Handler]:
    """Register a handler for ``event_name``: every publish it ``wants`` writes one row for it.

    ``name`` starts with the subscribing package (``notify``, ``courier.booking``): it names the
    rows' topic and so their rq queue. Registering the same name again replaces it (reloads).
    """
    def register(func: Handler) -> Handler:
        found = Subscriber(event_name, name, func, when, dedupe)
        SUBSCRIBERS.setdefault(event_name, {})[name] = found
        HANDLERS[found.topic] = func
        _subscriptions_version[0] += 1
        return func

    return register


def unsubscribe(event_name: str, name: str) -> None:
    """Remove a subscription (the tests' own subscribers)."""
    found = SUBSCRIBERS.get(event_name, {}).pop(name, None)
    if found is not None:
        HANDLERS.pop(found.topic, None)
        _subscriptions_version[0] += 1


def subscribers(event_name: str, payload: dict | None = None) -> list[Subscriber]:
    """The event's subscribers in name order; with ``payload``, only those that want it."""
    found = sorted(SUBSCRIBERS.get(event_name, {}).values(), key=lambda s: s.name)
    return found if payload is None else [s for s in found if s.wants(payload)]


def subscriptions_version() -> int:
    return _subscriptions_version[0]


def publish(event_name: str, payload: dict, *, due_at: datetime | None = None,
            dedupe_key: str | None = None) -> list[OutboxMessage]:
    """Tell the subscribers of ``event_name``: one row per subscriber that wants it, in the current transaction.

    ``dedupe_key`` identifies the event (a second publish of it is a no-op for every subscriber);
    each row is keyed per subscriber, so deduplication, like retries, is per subscriber.
    """
    if event_name not in EVENTS:
        raise LookupError(f"event {event_name!r} was never declared with outbox.declare_event()")
    return [enqueue(sub.topic, dict(payload), due_at=due_at, dedupe_key=sub.dedupe_key(payload, dedupe_key))
            for sub in subscribers(event_name, payload)]


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
    # In UTC: the embedded SQLite stores a datetime's wall time and drops its zone, so a Hanoi-time due_at
    # would read back seven hours late.
    message = OutboxMessage(topic=topic, payload=payload, dedupe_key=dedupe_key, status="pending",
                            due_at=as_utc(due_at) if due_at is not None else utcnow(), attempts=0)
    db.session.add(message)
    db.session.info["outbox_wake"] = True  # the runner is woken once this transaction commits
    return message


def backoff(attempts: int) -> timedelta:
    base = float(current_app.config.get("OUTBOX_RETRY_BASE_S", 5))
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 6 * 3600))


def pending_due(now: datetime) -> ColumnElement[bool]:
    return (OutboxMessage.status == "pending") & (OutboxMessage.due_at <= now)


def claim_expired(now: datetime) -> ColumnElement[bool]:
    """Claimed (handed to rq, or running) by someone who did not finish in time: the relay, Redis or a runner died."""
    return (OutboxMessage.status.in_(("queued", "running")) & (OutboxMessage.claimed_until < now)
            & (OutboxMessage.due_at <= now))


def due_condition(now: datetime) -> ColumnElement[bool]:
    """Due: pending and its time has come, or claimed by someone whose claim expired."""
    return or_(pending_due(now), claim_expired(now))


LEDGER_IDLE_PING_S = 1.0  # a bookkeeping connection idle longer than this is pinged before use


def ping_when_idle(engine, idle_s: float) -> None:
    """Ping a pooled connection at checkout only if it sat idle over ``idle_s``; a dead one is replaced.

    ``pool_pre_ping`` pings at every checkout, and a worker checks a connection out several times a
    job (every transaction): a ping of a connection put back milliseconds ago is a round trip that
    finds nothing. A database restart is still met by the first use after an idle second.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection, record) -> None:
        if record is not None:
            record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, proxy) -> None:
        since = record.info.get("checked_in_at")
        if since is not None and time.monotonic() - since <= idle_s:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)  # what pool_pre_ping does at every checkout
        except Exception as exc:  # noqa: BLE001 - any failure: the pool retries with a new connection
            raise DisconnectionError(f"pooled connection dead: {type(exc).__name__}") from exc


def ledger() -> Engine:
    """The engine of the outbox's own bookkeeping on PostgreSQL: autocommit, asynchronous commit.

    A claim, a result, a failure is one statement, committed at once (one round trip, no BEGIN and
    COMMIT) without waiting for the WAL to reach the disk (``synchronous_commit=off``: ~0.2 ms
    instead of an fsync, ~2 ms here). Visibility is unchanged (the claim is as atomic), only
    durability across a crash *of PostgreSQL* is: the last fraction of a second of bookkeeping may be
    lost, never a handler's own writes (their commits are synchronous and flush every earlier record).
    A lost claim is a message not run yet; a lost result, a message whose claim expires and runs
    again, finding its work done (handlers check the current state first). One per app and process.
    """
    app = current_app._get_current_object()
    found = app.extensions.get("outbox_ledger")
    if found is None or found[0] != os.getpid():
        engine = create_engine(db.engine.url, isolation_level="AUTOCOMMIT", pool_size=1, max_overflow=4,
                               pool_recycle=1800, hide_parameters=True,
                               connect_args={"options": "-c synchronous_commit=off"})
        ping_when_idle(engine, LEDGER_IDLE_PING_S)
        found = app.extensions["outbox_ledger"] = (os.getpid(), engine)
    return found[1]


def dispose_ledger(app: Flask) -> None:
    """Close the bookkeeping engine's connections (tests; a process that forked)."""
    found = app.extensions.pop("outbox_ledger", None)
    if found is not None:
        found[1].dispose(close=found[0] == os.getpid())


def _write(statement, params: dict | None = None, *, rows: bool = False):
    """One statement of the outbox's own bookkeeping (a claim, a result), committed at once.

    On PostgreSQL through ``ledger()`` (one round trip, asynchronous commit). Elsewhere (SQLite) in
    the session, committed. Returns the rows (``rows=True``) or the row count.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        with ledger().connect() as connection:
            result = connection.execute(statement, params)
            return result.all() if rows else result.rowcount
    result = db.session.execute(statement, params)
    found = result.all() if rows else result.rowcount
    db.session.commit()
    return found


def _forget(message_id: int) -> None:
    """Expire the message if this session holds it: it was written by a statement, not through it
    (sessions keep what they loaded after a commit, ``expire_on_commit=False``)."""
    session = db.session()
    held = session.identity_map.get(session.identity_key(OutboxMessage, message_id))
    if held is not None:
        session.expire(held)


_statements: dict[str, object] = {}


def _claim_statement():
    """The claim, built once (its parameters bound at each run): building it costs more than running it."""
    found = _statements.get("claim")
    if found is None:
        now = bindparam("now", type_=DateTime(timezone=True))
        # A queued message is the rq job the relay handed over: it was due when handed, so it is
        # taken whatever the worker's clock says; everything else must be due.
        found = _statements["claim"] = (
            update(OutboxMessage)
            .where(OutboxMessage.id == bindparam("message_id"),
                   or_(OutboxMessage.status == "queued", due_condition(now)))
            .values(status="running", attempts=OutboxMessage.attempts + 1,
                    claimed_until=bindparam("until", type_=DateTime(timezone=True)))
            # What the runner needs comes back with the claim: no second statement to read the row.
            .returning(OutboxMessage.topic, OutboxMessage.payload, OutboxMessage.attempts)
            # Not evaluated against rows loaded in the session (SQLite hands back naive times, which do not
            # compare with ``now``).
            .execution_options(synchronize_session=False))
    return found


def _done_statement():
    found = _statements.get("done")
    if found is None:
        found = _statements["done"] = (
            update(OutboxMessage).where(OutboxMessage.id == bindparam("message_id"))
            .values(status="done", finished_at=bindparam("finished_at", type_=DateTime(timezone=True)),
                    claimed_until=None)
            .execution_options(synchronize_session=False))
    return found


def _claim(message_id: int, now: datetime):
    """Claim the message in one atomic UPDATE; returns (topic, payload, attempts) if this runner got it."""
    found = _write(_claim_statement(), {"message_id": message_id, "now": now,
                                        "until": now + timedelta(seconds=CLAIM_S)}, rows=True)
    return found[0] if found else None


def run_one(message_id: int, now: datetime | None = None) -> bool | None:
    """Run one message if it is due (or queued) and unclaimed: True done, False failed this time, None not run.

    The claim is one atomic UPDATE, so a message handed over twice (two rq jobs, a runner and
    a worker) runs once. Handler errors are recorded and retried later; database errors while
    claiming or recording propagate (the rq job is then retried by rq).
    """
    now = now or utcnow()
    claimed = _claim(message_id, now)
    if claimed is None:
        return None
    _forget(message_id)
    topic, payload, attempts = claimed
    func = HANDLERS.get(topic)
    try:
        if func is None:
            raise LookupError(f"no handler for topic {topic!r}")
        func(dict(payload))
    except Exception as exc:  # noqa: BLE001 - every failure is recorded and retried
        db.session.rollback()
        error = f"{type(exc).__name__}: {exc}"[:2000]
        limit = int(current_app.config.get("OUTBOX_MAX_ATTEMPTS", 8))
        if attempts >= limit:
            values = {"status": "failed", "finished_at": utcnow()}
        else:
            values = {"status": "pending", "due_at": utcnow() + backoff(attempts)}
        _write(update(OutboxMessage).where(OutboxMessage.id == message_id)
               .values(last_error=error, claimed_until=None, **values)
               .execution_options(synchronize_session=False))
        _forget(message_id)
        log.warning("outbox %s #%s failed (attempt %s): %s", topic, message_id, attempts, error)
        return False
    done = {"message_id": message_id, "finished_at": utcnow()}
    if db.session().in_transaction():
        # The handler left work in the session (no unit of work of its own): it commits with the result.
        db.session.execute(_done_statement(), done)
        db.session.commit()
    else:
        _write(_done_statement(), done)
    _forget(message_id)
    return True


def run_batch(message_ids: list[int], now: datetime | None = None) -> list[bool | None]:
    """Run several messages, each claimed, run and recorded on its own (``run_one``), in order.

    One failing handler is recorded and retried alone; the others run. Database errors while
    claiming or recording propagate (the caller's job is retried; what was done stays done).
    """
    results: list[bool | None] = []
    for message_id in message_ids:
        try:
            results.append(run_one(int(message_id), now))
        finally:
            db.session.remove()  # each message starts from a clean session
    return results


def due_ids(now: datetime | None = None, limit: int = 100, topic: str | None = None) -> list[int]:
    now = now or utcnow()
    query = (select(OutboxMessage.id).where(due_condition(now))
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
    """Seconds until the next message becomes due (a pending one's time, or a claim's expiry); None: none open."""
    now = now or utcnow()
    pending = db.session.scalar(select(func.min(OutboxMessage.due_at)).where(OutboxMessage.status == "pending"))
    claim = db.session.scalar(select(func.min(OutboxMessage.claimed_until))  # both read off a partial index
                              .where(OutboxMessage.status.in_(("queued", "running"))))
    times = [as_utc(t) for t in (pending, claim) if t is not None]
    return None if not times else max((min(times) - now).total_seconds(), 0.0)


def wait_for_work(timeout: float | None) -> bool:
    """Block until a commit enqueued a message (True) or ``timeout`` seconds passed (False)."""
    woken = _wakeup.wait(timeout)
    _wakeup.clear()
    return woken


def wake() -> None:
    """Wake the runner or relay of this process now (e.g. after putting messages back to pending)."""
    _wakeup.set()


# ---------------------------------------------------------------- the embedded runner

_wakeup = threading.Event()
_runner: threading.Thread | None = None
_runner_lock = threading.Lock()
_stop = threading.Event()


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    if session.info.pop("outbox_wake", False):
        _wakeup.set()


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop("outbox_wake", None)


def start_runner(app: Flask) -> None:
    """A daemon thread per process: runs due messages (embedded) or, with ``REDIS_URL``, relays them to rq."""
    global _runner
    with _runner_lock:
        if _runner is not None and _runner.is_alive():
            return
        _stop.clear()
        if app.config.get("REDIS_URL"):
            from core.jobs import relay_forever  # the relay hands due messages to rq instead

            target, name = relay_forever, "outbox-relay"
        else:
            target, name = _loop, "outbox-runner"
        _runner = threading.Thread(target=target, args=(app, _stop), name=name, daemon=True)
        _runner.start()


def stop_runner(timeout: float = 10.0) -> None:
    """Stop this process's runner thread (tests; a clean shutdown)."""
    global _runner
    with _runner_lock:
        thread, _runner = _runner, None
    if thread is not None:
        _stop.set()
        _wakeup.set()
        thread.join(timeout)


def _loop(app: Flask, stop: threading.Event | None = None) -> None:
    poll = float(app.config.get("OUTBOX_POLL_S", 2.0))
    stop = stop or threading.Event()
    with app.app_context():
        from core.periodic import ensure_scheduled_quietly

        ensure_scheduled_quietly()
        db.session.remove()
    while not stop.is_set():
        wait_for_work(poll)
        if stop.is_set():
            break
        try:
            with app.app_context():
                while run_due(limit=50):
                    pass
                db.session.remove()
        except Exception:  # noqa: BLE001 - the runner must outlive a database hiccup
            log.exception("outbox runner")


def init_outbox(app: Flask) -> None:
    from core.jobs_admin import init_jobs  # the rq side: the admin dashboard when asked for

    init_jobs(app)
    if not app.config.get("OUTBOX_THREAD", True):
        return

    @app.before_request
    def _ensure_runner() -> None:  # started lazily: after gunicorn forks, once per worker
        # OUTBOX_THREAD turned off at run time holds it back (the demo month plays its past outbox itself;
        # its in-process gateway requests must not start a runner working by the frozen clock).
        if (_runner is None or not _runner.is_alive()) and app.config.get("OUTBOX_THREAD", True):
            start_runner(app)
