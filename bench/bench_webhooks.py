"""Webhook throughput benchmark: verified gateway events against a bare Flask JSON endpoint.

Requirement: on PostgreSQL under gunicorn with 2 workers, ``POST /api/v1/payments/webhook``
with valid ``Stripe-Signature`` headers processes at least 30% of the requests per second
of a bare Flask JSON endpoint served the same way, measured in the same run.

    .venv/bin/python bench/bench_webhooks.py [--duration 10] [--connections 32]

Every request is a distinct event, signed just before the run (the receiver refuses
signatures older than 300 s). The receiver verifies the HMAC over the raw body, parses it,
and commits the event and its outbox message in one transaction; the outbox is then drained
in this process (the gateway refetch and the event's effect) and that rate is reported too.
Writes bench/results/webhooks.json. Exit code 0 when the target holds with no errors.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_intake import (  # noqa: E402 - after the path set-up
    ADMIN_URL,
    RESULTS,
    ROOT,
    WORKERS,
    git_commit,
    gunicorn,
    preflight,
    run,
    wrk,
)
from core import signatures  # noqa: E402

TARGET_RATIO = 0.30
WARMUP_SECONDS = 2
SECRET = "whsec_bench"  # noqa: S105 - a throw-away secret for the run


def write_events(path: Path, count: int, run_id: str) -> None:
    now = int(time.time())
    with path.open("w") as out:
        for i in range(count):
            intent = f"pi_bench{run_id}{i:07d}"
            body = json.dumps({
                "id": f"evt_bench{run_id}{i:07d}", "object": "event", "api_version": "2024-06-20", "created": now,
                "type": "payment_intent.succeeded", "livemode": False, "pending_webhooks": 1,
                "request": {"id": None, "idempotency_key": None},
                "data": {"object": {"id": intent, "object": "payment_intent", "amount": 242000, "currency": "vnd",
                                    "status": "succeeded", "metadata": {"dossier": f"HN-BENCH-{i:07d}"}}},
            }, separators=(",", ":"))
            out.write(f"{signatures.header(body.encode(), SECRET, now)}\t{body}\n")


def measure(app: str, name: str, env: dict, args: argparse.Namespace):
    """Warm up on one file of events and measure on another, so no event is sent twice."""
    with gunicorn(app, env, RESULTS / f"webhooks-{name}-gunicorn.log") as base:
        warm, _ = wrk(base, "post_webhook.lua", WARMUP_SECONDS, args.connections,
                      {**env, "BENCH_WEBHOOK_FILE": env["BENCH_WARMUP_FILE"]})
        result, output = wrk(base, "post_webhook.lua", args.duration, args.connections, env)
    (RESULTS / f"webhooks-{name}-wrk.txt").write_text(output)
    duplicates = sum(int(x) for x in re.findall(r"duplicates=(\d+)", output))
    return warm, result, duplicates


def drain(db_url: str, limit: int) -> tuple[int, float, dict]:
    """Run the outbox (fetch the intent again, apply the event) in-process; events/s."""
    os.environ.update({"DATABASE_URL": db_url, "OUTBOX_THREAD": "0", "LOG_LEVEL": "WARNING"})
    from app import create_app
    from core import outbox
    from core.extensions import db

    app = create_app()
    with app.app_context():
        started = time.perf_counter()
        done = 0
        while done < limit:
            ran = outbox.run_due(limit=min(200, limit - done))
            if not ran:
                break
            done += ran
        elapsed = time.perf_counter() - started
        outcomes = dict(db.session.execute(db.text(
            "SELECT outcome, count(*) FROM payment_webhook_events GROUP BY outcome")).tuples().all())
    return done, elapsed, outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--events", type=int, default=120_000, help="signed events written for the run")
    parser.add_argument("--drain", type=int, default=2_000, help="outbox messages processed afterwards")
    parser.add_argument("--admin-url", default=ADMIN_URL)
    args = parser.parse_args(argv)
    admin = preflight(args.admin_url)
    if admin is None:
        return 2
    RESULTS.mkdir(parents=True, exist_ok=True)
    db_name = f"bench_webhooks_{os.getpid()}"
    db_url = args.admin_url.rsplit("/", 1)[0] + f"/{db_name}"
    run_id = uuid.uuid4().hex[:8]
    events_file, warmup_file = RESULTS / "webhook-events.tsv", RESULTS / "webhook-warmup-events.tsv"
    env = {**os.environ, "DATABASE_URL": db_url, "FLASK_APP": "wsgi", "LOG_LEVEL": "WARNING",
           "PYTHONDONTWRITEBYTECODE": "1", "PAYMENT_WEBHOOK_SECRET": SECRET, "OUTBOX_THREAD": "0",
           "BENCH_WEBHOOK_FILE": str(events_file), "BENCH_WARMUP_FILE": str(warmup_file), "BENCH_THREADS": "2"}
    try:
        with admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db_name)))
            print(f"database {db_name}: migrating…", flush=True)
            run([sys.executable, "-m", "flask", "db", "upgrade", "heads"], env)
            write_events(warmup_file, args.events // 3, run_id + "w")
            write_events(events_file, args.events, run_id)
            print(f"webhooks: gunicorn -w {WORKERS} wsgi:app, wrk -c{args.connections} -d{args.duration}s, "
                  f"{args.events:,} signed events…", flush=True)
            warm, hooks, duplicates = measure("wsgi:app", "receiver", env, args)
            with psycopg.connect(db_url) as conn:
                stored, queued = conn.execute(
                    "SELECT (SELECT count(*) FROM payment_webhook_events), (SELECT count(*) FROM outbox)").fetchone()
            print("baseline: gunicorn bench.bare_app:app, the same bodies to POST /echo…", flush=True)
            _, baseline, _ = measure("bench.bare_app:app", "baseline", {**env, "BENCH_WEBHOOK_PATH": "/echo"}, args)
            print(f"processing: draining {args.drain:,} outbox messages in-process…", flush=True)
            processed, seconds, outcomes = drain(db_url, args.drain)
    except RuntimeError as exc:
        print(f"benchmark aborted: {exc}", file=sys.stderr)
        return 1
    finally:
        events_file.unlink(missing_ok=True)
        warmup_file.unlink(missing_ok=True)
        with psycopg.connect(args.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db_name)))

    accepted = warm.ok_2xx + hooks.ok_2xx - duplicates
    ratio = hooks.requests_per_sec / baseline.requests_per_sec if baseline.requests_per_sec else 0.0
    checks = {
        "ratio": ratio >= TARGET_RATIO,
        "receiver_errors": hooks.errors == 0 and warm.errors == 0 and duplicates == 0,
        "baseline_errors": baseline.errors == 0,
        # Requests in flight when wrk stops may be stored without being counted: one per connection per run.
        "events_stored": 0 <= stored - accepted <= 2 * args.connections and stored == queued,
    }
    passed = all(checks.values())
    lines = [
        f"baseline (bare POST /echo)      {baseline.requests_per_sec:10,.1f} req/s   errors {baseline.errors}",
        f"webhooks (verified, recorded)   {hooks.requests_per_sec:10,.1f} req/s   errors {hooks.errors}   "
        f"p50 {hooks.latency_p50_ms} ms  p99 {hooks.latency_p99_ms} ms",
        f"ratio webhooks/baseline         {ratio:.1%}   (target >= {TARGET_RATIO:.0%})",
        f"events stored / outbox rows     {stored:,} / {queued:,}   (2xx seen: {accepted:,})",
        f"processed afterwards            {processed:,} in {seconds:.2f} s = "
        f"{processed / seconds if seconds else 0:,.0f} events/s (gateway refetch + apply; outcomes {outcomes})",
        "checks                          " + ", ".join(f"{k}={'ok' if v else 'FAIL'}" for k, v in checks.items()),
        f"result                          {'PASS' if passed else 'FAIL'}",
    ]
    print("\n" + "\n".join(lines))
    out = RESULTS / "webhooks.json"
    out.write_text(json.dumps({
        "requirement": "verified webhook events >= 30% of a bare Flask endpoint's requests/sec "
                       "(PostgreSQL, gunicorn 2 sync workers, same run)",
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "commit": git_commit(),
        "settings": {"duration_s": args.duration, "connections": args.connections, "workers": WORKERS},
        "baseline_rps": baseline.requests_per_sec, "webhooks_rps": hooks.requests_per_sec, "ratio": round(ratio, 4),
        "stored": stored, "outbox": queued, "accepted_2xx": accepted,
        "processed": processed, "processing_seconds": round(seconds, 3), "outcomes": outcomes,
        "checks": checks, "result": "PASS" if passed else "FAIL",
    }, indent=2) + "\n")
    print(f"\nwritten: {out.relative_to(ROOT)}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
