"""Relay throughput benchmark: due outbox rows handed to Redis (rq) per second.

Requirement: the relay hands at least 1,000 outbox rows a second to Redis.

    .venv/bin/python bench/bench_relay.py [--rows 20000] [--batch 500]

Creates a throw-away PostgreSQL database (built by the migrations), inserts ``--rows`` due
outbox messages spread over four topics, then times ``core.jobs.relay_due``: claim a batch
(``UPDATE … FOR UPDATE SKIP LOCKED … RETURNING``), push one rq job per row in one Redis
transaction, commit; batch after batch until none is due. Checks that every row is
``queued`` and every job is in its rq queue. As references, in the same run: rq's
``enqueue_many`` alone (the same jobs, no database) and raw redis-py pipelined RPUSHes of as
many small payloads. Prints a table, writes bench/results/relay.json, removes its Redis keys
(its own namespace) and drops the database. Exit code: 0 when the target holds, 1 when not,
2 when PostgreSQL or Redis is missing.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
from psycopg import sql
from redis import Redis
from redis.exceptions import RedisError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
TARGET_ROWS_PER_S = 1000.0
TOPICS = ("payments.webhook_event", "courier.pickup", "notify.sms", "dossiers.reminder")


def git_commit() -> str | None:
    proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    return proc.stdout.strip() or None


def insert_due_rows(db_url: str, rows: int) -> None:
    """``rows`` pending messages, all due (spread over the last minute, in id order), four topics, small payloads."""
    now = datetime.now(timezone.utc)
    with psycopg.connect(db_url) as conn, conn.cursor() as cur:
        with cur.copy("COPY outbox (topic, payload, status, due_at, attempts, created_at) FROM STDIN") as copy:
            for n in range(rows):
                due = now - timedelta(seconds=60.0 * (rows - n) / rows)
                copy.write_row((TOPICS[n % len(TOPICS)], json.dumps({"id": n}), "pending", due, 0, now))
        cur.execute("ANALYZE outbox")


def forget_namespace(connection: Redis, namespace: str) -> None:
    for key in connection.scan_iter(match=f"*{namespace}*", count=5000):
        connection.delete(key)
    stale = [m for m in connection.smembers("rq:queues") if namespace.encode() in m]
    if stale:
        connection.srem("rq:queues", *stale)


def time_rq_only(app, rows: int, batch: int, namespace: str) -> float:
    """rq's enqueue_many of the same jobs in the same batches, no database: the Redis side of the relay."""
    from rq import Queue

    from core import jobs

    with app.app_context():
        connection = jobs.redis_connection()
        queue = Queue(f"{namespace}ref-rq", connection=connection)
        retry = jobs.retry_policy()
        start = time.perf_counter()
        for first in range(0, rows, batch):
            ids = range(first, min(first + batch, rows))
            with connection.pipeline(transaction=True) as pipe:
                queue.enqueue_many([Queue.prepare_data(jobs.run_message, args=(i,), job_id=f"{namespace}ref-{i}",
                                                       timeout=300, result_ttl=3600, retry=retry,
                                                       description=f"outbox #{i} ref") for i in ids], pipeline=pipe)
                pipe.execute()
        elapsed = time.perf_counter() - start
        assert queue.count == rows, (queue.count, rows)
        return elapsed


def time_raw_redis(connection: Redis, rows: int, batch: int, namespace: str) -> float:
    """Raw redis-py: RPUSH of as many small JSON payloads, pipelined in the same batches (MULTI/EXEC)."""
    key = f"{namespace}ref-raw"
    start = time.perf_counter()
    for first in range(0, rows, batch):
        with connection.pipeline(transaction=True) as pipe:
            for i in range(first, min(first + batch, rows)):
                pipe.rpush(key, json.dumps({"id": i, "topic": TOPICS[i % len(TOPICS)]}))
            pipe.execute()
    elapsed = time.perf_counter() - start
    assert connection.llen(key) == rows
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000, help="due outbox rows to relay (20000)")
    parser.add_argument("--batch", type=int, default=500, help="rows per claim and Redis transaction (500)")
    parser.add_argument("--admin-url", default=ADMIN_URL, help=f"PostgreSQL to create the database in ({ADMIN_URL})")
    parser.add_argument("--redis-url", default=REDIS_URL, help=f"Redis to relay to ({REDIS_URL})")
    args = parser.parse_args(argv)

    try:
        admin = psycopg.connect(args.admin_url, autocommit=True)
    except psycopg.OperationalError as exc:
        print(f"Cannot reach PostgreSQL at {args.admin_url}: {exc}", file=sys.stderr)
        return 2
    redis = Redis.from_url(args.redis_url, socket_connect_timeout=2)
    try:
        redis.ping()
    except RedisError as exc:
        print(f"Cannot reach Redis at {args.redis_url}: {exc}", file=sys.stderr)
        return 2

    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    RESULTS.mkdir(parents=True, exist_ok=True)
    db_name = f"bench_relay_{os.getpid()}"
    db_url = args.admin_url.rsplit("/", 1)[0] + f"/{db_name}"
    namespace = f"bench{os.getpid()}-"
    try:
        with admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db_name)))
            from flask_migrate import upgrade
            from sqlalchemy import func, select

            from app import create_app
            from core import jobs
            from core.extensions import db
            from core.outbox import OutboxMessage

            app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "OUTBOX_THREAD": False, "REDIS_URL": args.redis_url,
                              "JOBS_NAMESPACE": namespace, "JOBS_QUEUES": "default,payments,courier,notify",
                              "JOBS_RELAY_BATCH": args.batch})
            with app.app_context():
                upgrade(directory=str(ROOT / "migrations"), revision="heads")
                db.engine.dispose()
            print(f"database {db_name}: migrated; inserting {args.rows:,} due outbox rows…", flush=True)
            insert_due_rows(db_url, args.rows)

            print(f"relay:    core.jobs.relay_due, batches of {args.batch} → {args.redis_url} …", flush=True)
            with app.app_context():
                start = time.perf_counter()
                handed = jobs.relay_due(args.batch)
                relay_s = time.perf_counter() - start
                statuses = dict(db.session.execute(select(OutboxMessage.status, func.count())
                                                   .group_by(OutboxMessage.status)).all())
                queued_jobs = {name: redis.llen(f"rq:queue:{name}") for name in jobs.queue_names()}
                db.session.remove()
                db.engine.dispose()
            print("reference: rq enqueue_many alone, then raw redis-py pipelines…", flush=True)
            rq_s = time_rq_only(app, args.rows, args.batch, namespace)
            raw_s = time_raw_redis(redis, args.rows, args.batch, namespace)
    finally:
        forget_namespace(redis, namespace)
        with psycopg.connect(args.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(db_name)))

    relay_rate = handed / relay_s if relay_s else 0.0
    rq_rate = args.rows / rq_s if rq_s else 0.0
    raw_rate = args.rows / raw_s if raw_s else 0.0
    checks = {
        "rate": relay_rate >= TARGET_ROWS_PER_S,
        "all_handed": handed == args.rows,
        "all_queued": statuses == {"queued": args.rows},
        "all_jobs_in_redis": sum(queued_jobs.values()) == args.rows,
    }
    passed = all(checks.values())
    rows = [
        ("", "rows", "seconds", "rows/s"),
        ("relay (claim + rq jobs + commit)", f"{handed:,}", f"{relay_s:.3f}", f"{relay_rate:,.0f}"),
        ("reference: rq enqueue_many only", f"{args.rows:,}", f"{rq_s:.3f}", f"{rq_rate:,.0f}"),
        ("reference: raw redis-py RPUSH", f"{args.rows:,}", f"{raw_s:.3f}", f"{raw_rate:,.0f}"),
    ]
    width = [max(len(r[i]) for r in rows) for i in range(4)]
    print()
    for n, row in enumerate(rows):
        print("  ".join(c.ljust(width[i]) if i == 0 else c.rjust(width[i]) for i, c in enumerate(row)))
        if n == 0:
            print("  ".join("-" * w for w in width))
    print()
    print(f"relay / target          {relay_rate:,.0f} rows/s vs >= {TARGET_ROWS_PER_S:,.0f} rows/s "
          f"({relay_rate / TARGET_ROWS_PER_S:.1f}x)")
    print(f"relay / rq alone        {relay_rate / rq_rate:.1%}   relay / raw redis {relay_rate / raw_rate:.1%}")
    print(f"jobs in rq queues       {', '.join(f'{k.removeprefix(namespace)}={v:,}' for k, v in queued_jobs.items())}")
    print("checks                  " + ", ".join(f"{k}={'ok' if v else 'FAIL'}" for k, v in checks.items()))
    print(f"result                  {'PASS' if passed else 'FAIL'}")

    out = RESULTS / "relay.json"
    out.write_text(json.dumps({
        "requirement": "the relay hands at least 1,000 outbox rows a second to Redis",
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "host": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "settings": {"rows": args.rows, "batch": args.batch, "topics": list(TOPICS),
                     "queues": [q.removeprefix(namespace) for q in queued_jobs]},
        "relay": {"rows": handed, "seconds": round(relay_s, 4), "rows_per_s": round(relay_rate, 1)},
        "reference_rq_enqueue_many": {"rows": args.rows, "seconds": round(rq_s, 4), "rows_per_s": round(rq_rate, 1)},
        "reference_raw_redis_rpush": {"rows": args.rows, "seconds": round(raw_s, 4), "rows_per_s": round(raw_rate, 1)},
        "outbox_statuses_after": statuses,
        "jobs_in_queues": {k.removeprefix(namespace): v for k, v in queued_jobs.items()},
        "target_rows_per_s": TARGET_ROWS_PER_S,
        "checks": checks,
        "result": "PASS" if passed else "FAIL",
    }, indent=2) + "\n")
    print(f"\nwritten: {out.relative_to(ROOT)}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
