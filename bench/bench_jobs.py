"""Job throughput benchmark: outbox messages end to end through the relay and rq workers, per second.

Requirement: at least 200 jobs a second on this 2-core machine (PostgreSQL, Redis, the relay and
the workers all on it), against the old set-up measured in the same run: rq's forking worker
(``core.jobs.AppWorker``, a fork per job).

    .venv/bin/python bench/bench_jobs.py [--jobs 4000] [--baseline-jobs 400] [--workers 2]

Creates a throw-away PostgreSQL database (the migrations), then for each set-up: COPYs ``--jobs``
SMS to send (``sms_messages`` rows ``created``, one phone each, so the per-phone rate limit never
defers one) and their ``notify.send_sms`` outbox messages, all due; starts the workers and waits
until they are registered; starts ``flask jobs relay`` (the clock starts) and waits until every SMS
is ``sent`` through the dev provider, or ``--timeout`` seconds passed (the clock stops; the rate is
what was sent by then). Checks that no message ran twice (attempts ≤ 1) and no SMS was sent twice.
Prints a table, writes bench/results/jobs.json, removes its
Redis keys (its own namespace) and drops the database. Exit code: 0 when the target holds, 1 when
not, 2 when PostgreSQL or Redis is missing.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import psycopg
from cryptography.fernet import Fernet
from psycopg import sql
from redis import Redis
from redis.exceptions import RedisError
from rq import Worker

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
TARGET_JOBS_PER_S = 200.0
QUEUES = "default,payments,courier,notify"
# The code before this work (one rq job per message, a claim and a result in three statements and two commits
# each): its workers and relay run from a `git archive` of it, beside this tree's, in the same run.
BASELINE_REF = "c949a92df4191a400bb63a5b9359e63f0c8ee698"
BATCH_SIZE = 20  # core.jobs.BATCH_SIZE (not imported: the bench runs the app only in its subprocesses)
# The bench's own personal-data keys, given to the workers too: the phones are seeded encrypted, as the app stores them.
PII_ENCRYPTION_KEY = Fernet.generate_key().decode()
PII_HASH_KEY = Fernet.generate_key().decode()


def _phone_columns(phone: str) -> tuple[str, str]:
    """(ciphertext, blind index) of a phone, as core.pii writes them (EncryptedString, blind_index)."""
    token = Fernet(PII_ENCRYPTION_KEY.encode()).encrypt(phone.encode()).decode("ascii")
    return token, hmac.new(PII_HASH_KEY.encode(), f"phone:{phone}".encode(), hashlib.sha256).hexdigest()


def seed(db_url: str, jobs: int, run: str) -> None:
    """``jobs`` SMS waiting to be sent, each with its outbox message, all due now."""
    now = datetime.now(timezone.utc)
    with psycopg.connect(db_url) as conn, conn.cursor() as cur:
        with cur.copy("COPY sms_messages (event, dedupe_key, reference, phone, phone_hash, body, septets, status, "
                      "attempts, created_at) FROM STDIN") as copy:
            for n in range(jobs):
                copy.write_row(("registered", f"bench:{run}:{n}", f"B{run}{n:06d}", *_phone_columns(f"+8490{n:07d}"),
                                f"Ho so {run}-{n} da duoc tiep nhan.", 40, "created", 0, now))
        cur.execute("SELECT id FROM sms_messages WHERE dedupe_key LIKE %s ORDER BY id", (f"bench:{run}:%",))
        ids = [row[0] for row in cur.fetchall()]
        with cur.copy("COPY outbox (topic, payload, status, due_at, attempts, created_at) FROM STDIN") as copy:
            for sms_id in ids:
                copy.write_row(("notify.send_sms", json.dumps({"sms_id": sms_id}), "pending", now, 0, now))
        cur.execute("ANALYZE sms_messages")
        cur.execute("ANALYZE outbox")


def counts(db_url: str, run: str) -> dict:
    with psycopg.connect(db_url) as conn:
        sent, twice = conn.execute(
            "SELECT count(*) FILTER (WHERE status <> 'created' AND provider_message_id IS NOT NULL), "
            "count(*) FILTER (WHERE attempts > 1) FROM sms_messages WHERE dedupe_key LIKE %s",
            (f"bench:{run}:%",)).fetchone()
        statuses = dict(conn.execute("SELECT status || '/' || attempts, count(*) FROM outbox "
                                     "WHERE topic = 'notify.send_sms' GROUP BY 1").fetchall())
    return {"sent": sent, "sent_twice": twice, "outbox": statuses}


def start(args: list[str], env: dict, log: Path, cwd: Path = ROOT) -> subprocess.Popen:
    out = open(log, "w")  # noqa: SIM115 - handed to the process
    return subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def export_tree(ref: str, into: Path) -> Path:
    """The project as it was at ``ref`` (``git archive``), to run the old code beside the new."""
    archive = subprocess.run(["git", "archive", "--format=tar", ref], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def measure(label: str, worker_args: list[str], expected_workers: int, db_url: str, redis: Redis,
            redis_url: str, jobs: int, namespace: str, timeout_s: float, code: Path = ROOT) -> dict:
    run = label
    seed(db_url, jobs, run)
    env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis_url, "JOBS_NAMESPACE": namespace,
           "JOBS_QUEUES": QUEUES, "OUTBOX_THREAD": "0", "LOG_LEVEL": "WARNING", "PYTHONPATH": str(code),
           "FLASK_APP": "wsgi", "INSTANCE_DIR": str(code / "instance"),
           "SMS_DEV_RECEIPT_DELAY_S": "3600",  # the receipts come after the measurement
           "PII_ENCRYPTION_KEYS": PII_ENCRYPTION_KEY, "PII_HASH_KEY": PII_HASH_KEY}
    queues = [namespace + name for name in QUEUES.split(",")]
    procs = [start([*worker_args, "--url", redis_url, *queues], env, RESULTS / f"jobs-{label}-workers.log", code)]
    try:
        deadline = time.monotonic() + 60  # every worker up (its app created) before the clock starts
        while time.monotonic() < deadline:
            if sum(1 for w in Worker.all(connection=redis) if w.queue_names() == queues) >= expected_workers:
                break
            time.sleep(0.1)
        started = time.perf_counter()
        procs.append(start([str(BIN / "flask"), "jobs", "relay"], env, RESULTS / f"jobs-{label}-relay.log", code))
        sent = 0
        while time.perf_counter() - started < timeout_s:
            sent = counts(db_url, run)["sent"]
            if sent >= jobs:
                break
            time.sleep(0.1)
        elapsed = time.perf_counter() - started
    finally:
        stop(procs)
    found = counts(db_url, run)
    with psycopg.connect(db_url) as conn:  # what was not run in time is not the next set-up's work
        conn.execute("DELETE FROM outbox WHERE status <> 'done'")
    return {"label": label, "jobs": jobs, "seconds": round(elapsed, 2), "sent": found["sent"],
            "jobs_per_s": round(found["sent"] / elapsed, 1) if elapsed else 0.0,
            "sent_twice": found["sent_twice"], "outbox": found["outbox"], "complete": found["sent"] == jobs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=4000, help="SMS to send with the new workers (4000, the burst)")
    parser.add_argument("--baseline-jobs", type=int, default=300, help="SMS to send with the forking baseline (300)")
    parser.add_argument("--simple-jobs", type=int, default=1000,
                        help="SMS to send with the old code's AppSimpleWorker (1000; 0: skip it)")
    parser.add_argument("--baseline-ref", default=BASELINE_REF,
                        help=f"git commit whose code is the baseline ({BASELINE_REF[:10]}: before batches)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes in each set-up (2)")
    parser.add_argument("--timeout", type=float, default=20.0,
                        help="longest measurement of one set-up, seconds (20): the rate is what was sent by then")
    parser.add_argument("--admin-url", default=ADMIN_URL, help=f"PostgreSQL to create the database in ({ADMIN_URL})")
    parser.add_argument("--redis-url", default=REDIS_URL, help=f"Redis for the queues ({REDIS_URL})")
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

    RESULTS.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()  # the machine is shared: read the figures with it
    db_name = f"bench_jobs_{os.getpid()}"
    db_url = args.admin_url.rsplit("/", 1)[0] + f"/{db_name}"
    results = []
    try:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db_name)))
        migrate = subprocess.run([str(BIN / "flask"), "db", "upgrade"], cwd=ROOT, capture_output=True, text=True,
                                 env={**os.environ, "DATABASE_URL": db_url, "FLASK_APP": "wsgi",
                                      "LOG_LEVEL": "WARNING"}, check=False)
        if migrate.returncode != 0:
            print(migrate.stdout + migrate.stderr, file=sys.stderr)
            return 1
        try:
            old = export_tree(args.baseline_ref, Path(tempfile.mkdtemp(prefix="bench-jobs-old-")))
        except (subprocess.CalledProcessError, OSError) as exc:
            print(f"Cannot export the baseline's code ({args.baseline_ref}) with git archive: {exc}", file=sys.stderr)
            return 2
        pool = [str(BIN / "rq"), "worker-pool", "-n", str(args.workers), "--worker-class"]
        setups = [  # label, worker command, SMS to send, the code it runs
            ("baseline", [*pool, "core.jobs.AppWorker"], args.baseline_jobs, old),
            ("simple", [*pool, "core.jobs.AppSimpleWorker"], args.simple_jobs, old),
            ("new", [*pool, "core.jobs.AppSimpleWorker"], args.jobs, ROOT),
        ]
        for label, worker_args, jobs, code in setups:
            if jobs <= 0:
                continue
            namespace = f"benchjobs{os.getpid()}{label}-"
            where = f"{args.baseline_ref} (git archive)" if code != ROOT else "this tree"
            print(f"{label}: {jobs:,} SMS through flask jobs relay + {' '.join(Path(a).name for a in worker_args)}, "
                  f"code of {where} …", flush=True)
            try:
                results.append(measure(label, worker_args, args.workers, db_url, redis, args.redis_url, jobs,
                                       namespace, args.timeout, code))
            finally:
                for key in redis.scan_iter(match=f"*{namespace}*", count=5000):
                    redis.delete(key)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(db_name) + sql.SQL(" WITH (FORCE)")))
        admin.close()

    by_label = {r["label"]: r for r in results}
    new, baseline = by_label["new"], by_label.get("baseline")
    ratios = {f"new/{r['label']}": round(new["jobs_per_s"] / r["jobs_per_s"], 1) if r["jobs_per_s"] else None
              for r in results if r is not new}
    checks = {"rate": new["jobs_per_s"] >= TARGET_JOBS_PER_S,
              # Nothing ran twice: every message done at its first attempt, not yet run when time was up, or
              # (stopped mid-batch at the time limit) still running its first attempt.
              "once": all(r["sent_twice"] == 0 and all(k in ("done/1", "running/1") or k.endswith("/0")
                                                       for k in r["outbox"]) for r in results)}
    kinds = {"baseline": "AppWorker, a fork per job (old code)", "simple": "AppSimpleWorker (old code)",
             "new": f"AppSimpleWorker, batches of {BATCH_SIZE} (this tree)"}
    print()
    print(f"{'set-up':<10} {'workers':>8} {'jobs':>6} {'seconds':>8} {'jobs/s':>8}  outbox")
    for r in results:
        print(f"{r['label']:<10} {args.workers:>8} {r['jobs']:>6} {r['seconds']:>8} {r['jobs_per_s']:>8}  "
              f"{r['outbox']}  {kinds[r['label']]}")
    after = os.getloadavg()
    print(f"load average before the run: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}, after: {after[0]:.1f} "
          f"{after[1]:.1f} {after[2]:.1f} on {os.cpu_count()} CPUs")
    print(f"\nratios: {', '.join(f'{k} {v}x' for k, v in ratios.items())}; target ≥ {TARGET_JOBS_PER_S:.0f} jobs/s: "
          f"{'PASS' if all(checks.values()) else 'FAIL'} {checks}")
    ratio = ratios.get("new/baseline") if baseline else None
    (RESULTS / "jobs.json").write_text(json.dumps({
        "results": results, "ratio": ratio, "ratios": ratios, "checks": checks, "target_jobs_per_s": TARGET_JOBS_PER_S,
        "baseline_ref": args.baseline_ref, "batch_size": BATCH_SIZE,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_average": load,
                    "load_average_after": after},
        "when": datetime.now(timezone.utc).isoformat()}, indent=2))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
