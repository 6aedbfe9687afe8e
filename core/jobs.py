"""The rq side of the outbox: the relay, the job function, the worker class, the admin dashboard.

With ``REDIS_URL`` set, the relay claims due outbox rows in one statement (``pending`` →
``queued``, ``claimed_until`` = now + ``JOBS_HANDOFF_S``; ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL so several relays share the work) and pushes one rq job per row in one Redis
transaction, queue chosen by the topic's prefix: rows of one queue go ``JOBS_BATCH_SIZE`` (20) to a job,
``run_batch(ids)`` (job id ``outbox-<first id>-<how many more>``), a lone row is the job ``run_message(id)``
(job id ``outbox-<id>``). A batch costs rq's ~40 Redis commands once instead of once per message;
each of its messages is still claimed atomically on its own when its turn comes, so a batch handed
over twice, or a message in a batch and in a single job, runs each message once. The claim commits
only after Redis accepted every job: with Redis down it is rolled back and the rows stay
pending. A row handed over but never run (the relay died after the push, Redis lost the job,
a worker died) becomes due again when its claim expires (``JOBS_HANDOFF_S``, 30 s): the relay
then asks Redis whether the job is still there (waiting in its queue, scheduled for a retry,
running); if so the claim is only extended, otherwise the job is handed over again. A backlog
waiting in Redis is thus never duplicated, and a job Redis lost runs within a minute.

Workers: ``rq worker-pool --worker-class core.jobs.AppSimpleWorker`` (``make worker``) runs the
short jobs without a fork per job; ``core.jobs.AppWorker`` is rq's forking worker for long or
memory-hungry work. Both come back after a Redis outage (rq's loop quits on one) and stop their
scheduler process when they die, even by SIGKILL (the scheduler's lock is released, so the next
worker's scheduler takes it).

The job, ``run_message(id)`` (``run_batch(ids)``: each in turn), calls ``outbox.run_one`` in an app
context: its atomic claim makes a second job for the same row a no-op, handler failures are retried through the
database (a later ``due_at``), and only infrastructure failures (the database unreachable)
escape to rq, which retries them after ``JOBS_RETRY_INTERVALS`` (``rq worker
--with-scheduler``). Without ``REDIS_URL`` none of this runs: the embedded runner thread in
``core.outbox`` runs due rows in-process.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import threading
import time
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, current_app, has_app_context
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry
from sqlalchemy import select, update

from core import outbox
from core.extensions import db
from core.outbox import OutboxMessage
from core.timeutil import utcnow

log = logging.getLogger(__name__)

JOB_PREFIX = "outbox-"
DASHBOARD_PREFIX = "/admin/rq"


class RelayUnavailable(RuntimeError):
    """Redis did not take the jobs: the claim was rolled back, the rows stay pending."""


# ---------------------------------------------------------------- names and connections

def queue_names(config: Mapping | None = None) -> list[str]:
    """The rq queues, in the order a worker should listen to them (``JOBS_NAMESPACE`` applied)."""
    config = config if config is not None else current_app.config
    names = [n.strip() for n in str(config.get("JOBS_QUEUES") or "default").split(",") if n.strip()]
    namespace = config.get("JOBS_NAMESPACE") or ""
    return [namespace + name for name in (names or ["default"])]


def queue_for(topic: str, config: Mapping | None = None) -> str:
    """A topic's queue: its prefix (``payments.webhook_event`` → ``payments``; a subscriber's row
    ``notify@dossiers.status_changed`` → ``notify``) if that queue exists, else the first."""
    config = config if config is not None else current_app.config
    names = queue_names(config)
    wanted = (config.get("JOBS_NAMESPACE") or "") + re.split(r"[.@]", topic, maxsplit=1)[0]
    return wanted if wanted in names else names[0]


def job_id(message_id: int, config: Mapping | None = None) -> str:
    config = config if config is not None else current_app.config
    return f"{config.get('JOBS_NAMESPACE') or ''}{JOB_PREFIX}{message_id}"


def message_id_of(rq_job_id: str, config: Mapping | None = None) -> int | None:
    prefix = job_id(0, config)[:-1]
    tail = rq_job_id[len(prefix):] if rq_job_id.startswith(prefix) else ""
    return int(tail) if tail.isdigit() else None


def safe_url(url: str) -> str:
    """The Redis URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


_connections: dict[str, Redis] = {}
_queues: dict[tuple[str, str], Queue] = {}
_conn_lock = threading.Lock()


def redis_connection(url: str | None = None) -> Redis:
    """One client (and connection pool) per URL per process; short timeouts so an outage is seen quickly."""
    url = url or current_app.config.get("REDIS_URL") or ""
    if not url:
        raise RuntimeError("REDIS_URL is not set: jobs run in-process (embedded runner, `flask jobs run`)")
    with _conn_lock:
        if url not in _connections:
            _connections[url] = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10,
                                               health_check_interval=30)
        return _connections[url]


def _queue(url: str, name: str) -> Queue:
    # Cached: a Queue asks Redis its server version once and keeps it.
    with _conn_lock:
        key = (url, name)
        if key not in _queues:
            _queues[key] = Queue(name, connection=_connections[url])
        return _queues[key]


def retry_policy(config: Mapping | None = None) -> Retry | None:
    """rq's own retries, for infrastructure failures only (handler errors are retried by the outbox)."""
    config = config if config is not None else current_app.config
    raw = str(config.get("JOBS_RETRY_INTERVALS") or "")
    intervals = [int(float(v)) for v in raw.split(",") if v.strip()]
    return Retry(max=len(intervals), interval=intervals) if intervals else None


# ---------------------------------------------------------------- the relay

class Claimed(NamedTuple):
    id: int
    topic: str
    reclaimed: bool  # handed over before and never started: its job may still wait in Redis


def claim_due(now: datetime, limit: int, handoff_s: float) -> list[Claimed]:
    """Mark up to ``limit`` due rows ``queued`` in the current transaction; returns them, oldest first.

    Expired claims first, then pending rows in due order: two statements, each walking its own
    partial index, so a backlog of rows already handed over costs nothing. On PostgreSQL the rows
    are locked (``FOR UPDATE SKIP LOCKED``): concurrent relays and runners skip them until this
    transaction ends. The caller commits or rolls back.
    """
    claimed: list = []
    expired = outbox.claim_expired(now)
    conditions = (
        # Running past its claim (longer than rq's job timeout allows): its worker died; hand it over.
        (False, expired & (OutboxMessage.status == "running")),
        # Handed over, never started: Redis is asked whether it lost the job (relay_once).
        (True, expired & (OutboxMessage.status == "queued")),
        (False, outbox.pending_due(now)),
    )
    for reclaimed, condition in conditions:
        room = limit - len(claimed)
        if room <= 0:
            break
        due = (select(OutboxMessage.id).where(condition)
               .order_by(OutboxMessage.due_at, OutboxMessage.id).limit(room))
        if db.session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        claimed += [(row, reclaimed) for row in db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(due.scalar_subquery()), condition)
            .values(status="queued", claimed_until=now + timedelta(seconds=handoff_s))
            .returning(OutboxMessage.id, OutboxMessage.topic, OutboxMessage.due_at)
            .execution_options(synchronize_session=False)
        ).all()]
    claimed.sort(key=lambda item: (item[0].due_at, item[0].id))
    return [Claimed(row.id, row.topic, reclaimed) for row, reclaimed in claimed]


BATCH_SIZE = 20  # messages of one queue per rq job (one job per message costs ~40 Redis commands)
BATCHES_KEY = "outbox-batches"  # a Redis hash, message id -> the batch job that carries it


def batch_job_id(message_ids: list[int], config: Mapping | None = None) -> str:
    """A batch's job id: ``outbox-<first id>-<how many more>`` (rq allows letters, digits, ``_`` and ``-``)."""
    return f"{job_id(message_ids[0], config)}-{len(message_ids) - 1}"


def _batches_key(config: Mapping) -> str:
    return f"{config.get('JOBS_NAMESPACE') or ''}{BATCHES_KEY}"


def hand_over(rows: list[tuple[int, str]], config: Mapping | None = None, batch_size: int | None = None) -> None:
    """Push the rows to rq in ONE Redis transaction: all of them are accepted, or none.

    Rows of the same queue go ``batch_size`` (``JOBS_BATCH_SIZE``) to a job, ``run_batch(ids)``, each
    message still claimed atomically on its own when its turn comes; a batch of one is the job
    ``run_message(id)`` (job id ``outbox-<id>``). Which batch job carries which message is kept in a
    Redis hash (``outbox-batches``) for ``still_in_redis``.
    """
    config = config if config is not None else current_app.config
    size = max(1, int(batch_size or config.get("JOBS_BATCH_SIZE") or BATCH_SIZE))
    url = config["REDIS_URL"]
    connection = redis_connection(url)
    retry = retry_policy(config)
    # Never longer than run_one's claim: a job still running after it could be handed over again.
    # A batch's members are each claimed when their turn comes, so each ends before its own claim does.
    timeout = min(int(config.get("JOBS_TIMEOUT_S", outbox.CLAIM_S)), outbox.CLAIM_S)
    result_ttl = int(config.get("JOBS_RESULT_TTL_S", 3600))
    by_queue: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for message_id, topic in rows:
        by_queue[queue_for(topic, config)].append((message_id, topic))
    batches_key = _batches_key(config)
    with connection.pipeline(transaction=True) as pipe:
        for name, items in by_queue.items():
            queue = _queue(url, name)
            prepared, rq_ids, singles, members = [], [], [], {}
            for start in range(0, len(items), size):
                chunk = items[start:start + size]
                ids = [message_id for message_id, _ in chunk]
                if len(chunk) == 1:
                    rq_id = job_id(ids[0], config)
                    prepared.append(Queue.prepare_data(
                        run_message, args=(ids[0],), job_id=rq_id, timeout=timeout, result_ttl=result_ttl,
                        retry=retry, description=f"outbox #{ids[0]} {chunk[0][1]}"))
                    singles.append(ids[0])
                else:
                    rq_id = batch_job_id(ids, config)
                    topics = sorted({topic for _, topic in chunk})
                    prepared.append(Queue.prepare_data(
                        run_batch, args=(ids,), job_id=rq_id, timeout=timeout, result_ttl=result_ttl, retry=retry,
                        description=f"outbox #{ids[0]}…#{ids[-1]} ({len(ids)}) {', '.join(topics)}"))
                    members.update({message_id: rq_id for message_id in ids})
                rq_ids.append(rq_id)
            queue.enqueue_many(prepared, pipeline=pipe)
            pipe.zrem(FailedJobRegistry(queue=queue).key, *rq_ids)  # handed over again: no longer a failure
            if members:
                pipe.hset(batches_key, mapping=members)
            if singles:
                pipe.hdel(batches_key, *singles)
        pipe.execute()


_ALIVE = {JobStatus.SCHEDULED, JobStatus.STARTED, JobStatus.DEFERRED}


def still_in_redis(rows: list[tuple[int, str]], config: Mapping | None = None) -> set[int]:
    """Of these messages, those whose rq job Redis still holds: waiting in its queue, scheduled or running.

    Asked of rows whose claim expired before the relay hands them over again: a job that is merely
    waiting behind a backlog is not lost, and pushing it again would only grow the backlog. A
    message's job is its own (``outbox-<id>``) or the batch that carries it (``outbox-batches``).
    """
    config = config if config is not None else current_app.config
    if not rows:
        return set()
    url = config["REDIS_URL"]
    connection = redis_connection(url)
    batches = connection.hmget(_batches_key(config), [message_id for message_id, _ in rows])
    candidates = [(message_id, topic, job_id(message_id, config)) for message_id, topic in rows]
    candidates += [(message_id, topic, batch.decode()) for (message_id, topic), batch in zip(rows, batches, strict=True)
                   if batch is not None]
    alive: set[int] = set()
    jobs = Job.fetch_many([rq_id for _, _, rq_id in candidates], connection=connection)
    for (message_id, topic, _), job in zip(candidates, jobs, strict=True):
        if job is None or message_id in alive:
            continue
        status = job.get_status(refresh=False)
        if status in _ALIVE or (status == JobStatus.QUEUED and
                                _queue(url, queue_for(topic, config)).get_job_position(job.id) is not None):
            alive.add(message_id)
    return alive


def relay_once(limit: int | None = None) -> int:
    """Claim a batch of due rows and hand them to rq; returns how many. Raises RelayUnavailable if Redis refused."""
    return _relay_batch(limit)[1]


def _relay_batch(limit: int | None = None) -> tuple[int, int]:
    """(claimed, handed over): a claim whose job Redis still holds is extended, not handed over again."""
    config = current_app.config
    if not config.get("REDIS_URL"):
        raise RuntimeError("REDIS_URL is not set: there is nothing to relay to (use `flask jobs run`)")
    limit = limit or int(config.get("JOBS_RELAY_BATCH", 500))
    rows: list[tuple[int, str]] = []
    claimed: list[Claimed] = []
    try:
        claimed = claim_due(utcnow(), limit, float(config.get("JOBS_HANDOFF_S", 30)))
        alive = still_in_redis([(c.id, c.topic) for c in claimed if c.reclaimed], config)
        rows = [(c.id, c.topic) for c in claimed if c.id not in alive]  # the others keep their new claim
        if rows:
            hand_over(rows, config)
    except RedisError as exc:
        db.session.rollback()
        raise RelayUnavailable(f"Redis at {safe_url(config['REDIS_URL'])} did not take {len(rows)} "
                               f"message(s), they stay pending: {type(exc).__name__}: {exc}") from exc
    except BaseException:
        db.session.rollback()
        raise
    # Only now, with every job in Redis. Should this commit fail, the rows stay pending and the
    # jobs already pushed find them so (run_one takes a due pending row too): nothing runs twice.
    db.session.commit()
    return len(claimed), len(rows)


def relay_due(limit: int | None = None) -> int:
    """Relay every due row, batch after batch; returns how many."""
    batch = limit or int(current_app.config.get("JOBS_RELAY_BATCH", 500))
    total = 0
    while True:
        claimed, handed = _relay_batch(batch)
        total += handed
        if claimed < batch:
            return total


def relay_forever(app: Flask, stop: threading.Event | None = None) -> None:
    """Hand due rows to rq as they become due: woken at once by a commit that enqueued, else every
    ``JOBS_RELAY_POLL_S`` seconds or sooner when a row's time comes. Outlives Redis and database outages."""
    poll = float(app.config.get("JOBS_RELAY_POLL_S", 1.0))
    stop = stop or threading.Event()
    outage_since: float | None = None
    wait = 0.0
    with app.app_context():
        from core.periodic import ensure_scheduled_quietly

        ensure_scheduled_quietly()
        db.session.remove()
    while not stop.is_set():
        if wait > 0:
            outbox.wait_for_work(wait)
            if stop.is_set():
                break
        wait = poll
        try:
            with app.app_context():
                try:
                    handed = relay_due()
                    if handed:
                        log.info("outbox relay: %s message(s) handed to rq", handed)
                    if outage_since is not None:
                        log.warning("outbox relay: Redis is back after %.0f s", time.monotonic() - outage_since)
                        outage_since = None
                    soonest = outbox.next_due_in()
                    if soonest is not None:
                        wait = max(min(poll, soonest), 0.05)
                finally:
                    db.session.remove()
        except RelayUnavailable as exc:
            if outage_since is None:  # said once per outage, not every second
                log.error("outbox relay: %s; retrying every %.0f s", exc, poll)
                outage_since = time.monotonic()
        except Exception:  # noqa: BLE001 - the relay must outlive a database hiccup
            log.exception("outbox relay")


# ---------------------------------------------------------------- the rq job and worker

APP_FACTORY_MODULE = "app"
_app: Flask | None = None
_app_pid: int | None = None
_app_lock = threading.Lock()


IDLE_PING_S = 1.0  # a worker's pooled connection idle longer than this is pinged before use


def worker_app() -> Flask:
    """The Flask app of a worker process, created once (``app.create_app()``, configured from the environment).

    With ``DATABASE_PRE_PING`` on, a pooled connection is pinged at checkout only when it sat idle
    in the pool for over ``IDLE_PING_S``: a worker checks a connection out several times per job
    (each transaction), and a ping of one put back milliseconds ago is a round trip that finds nothing.
    """
    global _app, _app_pid
    with _app_lock:
        if _app is None:
            from core.config import load_config

            pre_ping = bool(load_config().get("DATABASE_PRE_PING", True))
            # The composition root is looked up by name: core builds on nothing above it.
            create_app = importlib.import_module(APP_FACTORY_MODULE).create_app
            _app = create_app({"OUTBOX_THREAD": False, "DATABASE_PRE_PING": False})
            if pre_ping:
                with _app.app_context():
                    outbox.ping_when_idle(db.engine, IDLE_PING_S)
            _app_pid = os.getpid()
        return _app


def _job_app() -> Flask:
    """The app a job runs in: the current one (an in-process worker, the tests), else the worker's."""
    global _app_pid
    if has_app_context():
        return current_app._get_current_object()
    app = worker_app()
    if _app_pid != os.getpid():  # a forked work horse: never reuse the parent's pooled connections
        with app.app_context():
            db.engine.dispose(close=False)
        outbox.dispose_ledger(app)
        _app_pid = os.getpid()
    return app


def run_message(message_id: int) -> bool | None:
    """The rq job: run outbox message ``message_id`` once (True done, False handler failed, None not due/taken).

    Inside an app context (an in-process worker, the tests) that app is used; otherwise the
    worker's app. Database errors propagate, so rq retries the job.
    """
    app = _job_app()
    with app.app_context():
        try:
            return outbox.run_one(int(message_id))
        finally:
            db.session.remove()


def run_batch(message_ids: list[int]) -> list[bool | None]:
    """The rq job for a batch: run each message once (``outbox.run_batch``), then forget the batch's members.

    A message another job already took (a batch handed over twice, a single job for the same row)
    is a no-op here: each claim is its own atomic UPDATE. Database errors propagate (rq retries the
    whole batch; what was done stays done, so only the rest runs).
    """
    app = _job_app()
    with app.app_context():
        try:
            results = outbox.run_batch([int(i) for i in message_ids])
        finally:
            db.session.remove()
        if app.config.get("REDIS_URL"):
            try:
                redis_connection().hdel(_batches_key(app.config), *message_ids)
            except RedisError:  # a stale entry only makes the relay ask about a finished job
                log.warning("outbox batch: could not forget its %s member(s) in Redis", len(message_ids))
        return results


# The worker classes live in core.workers; rq is told ``core.jobs.AppSimpleWorker`` / ``core.jobs.AppWorker``.
from core.workers import AppSimpleWorker, AppWorker  # noqa: E402, F401 - re-exported names
