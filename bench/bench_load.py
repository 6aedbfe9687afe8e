"""Mixed load: 100 concurrent clients for 60 s against gunicorn + PostgreSQL + Redis, p50/p99 per endpoint.

Requirement: **0 errors** while 100 clients mix registrations, dossier reads, citizens' tracking pages
and payment webhooks; the latency figures per endpoint are the report.

    .venv/bin/python bench/bench_load.py [--clients 100] [--duration 60] [--dossiers 60]

One run: a throw-away database (``flask db upgrade``, ``flask demo load``, an agent key), ``--dossiers``
dossiers registered and moved along in-process with three tracking links each (bench_tracking.seed);
then ``gunicorn -c gunicorn.conf.py wsgi:app`` (the production settings) with ``REDIS_URL`` set, the
outbox relay (``flask jobs relay``) and an rq worker pool (``core.jobs.AppSimpleWorker``) running the
side effects as in production. Loopback only; the tracking pages' per-IP rate limit is off (every
client here is 127.0.0.1). The clients (asyncio + aiohttp, one process) each loop until the time is
up: 30 % registrations (``POST /api/v1/dossiers``, unique Idempotency-Key; 201), 25 % reads
(``GET /api/v1/dossiers/<number>``; 200), 30 % tracking pages (``GET /t/<token>``; 200 with the
timeline), 15 % webhooks (``POST /api/v1/payments/webhook``, a signed ``payment_intent.succeeded``
of its own; 200). Anything else, a timeout or a socket error is an error. Prints the table, writes
bench/results/load.json, stops everything it started and drops the database. Exit code: 0 = no
errors, 1 = errors, 2 = PostgreSQL or Redis missing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import psycopg
from psycopg import sql
from redis import Redis
from redis.exceptions import RedisError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
WEBHOOK_SECRET = "whsec_bench_load"  # noqa: S105 - a throw-away secret for the run
MIX = (("registration", 30), ("read", 25), ("tracking", 30), ("webhook", 15))


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


class Load:
    def __init__(self, base: str, key: str, numbers: list[str], paths: list[str], run_id: str):
        self.base, self.key, self.numbers, self.paths, self.run_id = base, key, numbers, paths, run_id
        self.latency: dict[str, list[float]] = {name: [] for name, _ in MIX}
        self.errors: dict[str, list[str]] = {name: [] for name, _ in MIX}
        self.counter = 0
        self.choices = [name for name, weight in MIX for _ in range(weight)]

    def _next(self) -> int:
        self.counter += 1
        return self.counter

    def request(self, kind: str) -> tuple[str, str, dict, bytes | None, int, str | None]:
        auth = {"Authorization": f"Bearer {self.key}"}
        if kind == "registration":
            n = self._next()
            lat, lon = 21.0285 + random.uniform(-0.01, 0.01), 105.8542 + random.uniform(-0.01, 0.01)  # noqa: S311
            body = {"procedure_code": "HN-HT-201",
                    "citizen": {"full_name": "Nguyễn Văn An", "cccd": "001090012345", "phone": f"09{n % 10**8:08d}"},
                    "location": {"lat": lat, "lon": lon, "source": "gps"}, "delivery": {"method": "collect"}}
            return ("POST", "/api/v1/dossiers", {**auth, "Idempotency-Key": f"load-{self.run_id}-{n}",
                                                 "Content-Type": "application/json"},
                    json.dumps(body).encode(), 201, None)
        if kind == "read":
            return ("GET", f"/api/v1/dossiers/{random.choice(self.numbers)}", auth, None, 200, None)  # noqa: S311
        if kind == "tracking":
            return ("GET", random.choice(self.paths), {"Accept-Language": "vi"}, None, 200,  # noqa: S311
                    'class="timeline"')
        from core import signatures

        n, now = self._next(), int(time.time())
        body = json.dumps({
            "id": f"evt_load{self.run_id}{n:07d}", "object": "event", "api_version": "2024-06-20", "created": now,
            "type": "payment_intent.succeeded", "livemode": False, "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "data": {"object": {"id": f"pi_load{self.run_id}{n:07d}", "object": "payment_intent", "amount": 242000,
                                "currency": "vnd", "status": "succeeded", "metadata": {}}},
        }, separators=(",", ":")).encode()
        return ("POST", "/api/v1/payments/webhook",
                {"Stripe-Signature": signatures.header(body, WEBHOOK_SECRET, now),
                 "Content-Type": "application/json"}, body, 200, None)

    async def client(self, session, deadline: float) -> None:
        import aiohttp

        while time.monotonic() < deadline:
            kind = random.choice(self.choices)  # noqa: S311
            method, path, headers, body, expected, must_contain = self.request(kind)
            started = time.perf_counter()
            try:
                async with session.request(method, self.base + path, headers=headers, data=body) as response:
                    text = await response.text()
                    elapsed = time.perf_counter() - started
                    if response.status != expected or (must_contain and must_contain not in text):
                        self.errors[kind].append(f"{response.status} {method} {path}: {text[:200]}")
            except (TimeoutError, aiohttp.ClientError) as exc:
                elapsed = time.perf_counter() - started
                self.errors[kind].append(f"{type(exc).__name__} {method} {path}: {exc}")
            self.latency[kind].append(elapsed)

    async def run(self, clients: int, seconds: float) -> float:
        import aiohttp

        timeout = aiohttp.ClientTimeout(total=30)
        connector = aiohttp.TCPConnector(limit=clients, force_close=True)  # gunicorn's sync workers close anyway
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            started = time.monotonic()
            await asyncio.gather(*(self.client(session, started + seconds) for _ in range(clients)))
            return time.monotonic() - started


def run(cmd: list[str], env: dict) -> str:
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stdout}{proc.stderr}")
    return proc.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100, help="concurrent clients (100)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (60)")
    parser.add_argument("--dossiers", type=int, default=60, help="dossiers seeded for reads and tracking (60)")
    parser.add_argument("--web-workers", type=int, default=4, help="gunicorn workers (WEB_CONCURRENCY, 4)")
    parser.add_argument("--jobs-workers", type=int, default=2, help="rq workers in the pool (2)")
    parser.add_argument("--admin-url", default=ADMIN_URL)
    parser.add_argument("--redis-url", default=REDIS_URL)
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
    from bench.bench_intake import free_port, stop, wait_ready
    from bench.bench_tracking import seed

    RESULTS.mkdir(parents=True, exist_ok=True)
    load_avg = os.getloadavg()
    run_id = uuid.uuid4().hex[:6]
    db_name = f"bench_load_{os.getpid()}"
    db_url = args.admin_url.rsplit("/", 1)[0] + f"/{db_name}"
    namespace = f"benchload{os.getpid()}-"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": db_url, "FLASK_APP": "wsgi", "LOG_LEVEL": "WARNING",
           "REDIS_URL": args.redis_url, "JOBS_NAMESPACE": namespace, "OUTBOX_THREAD": "0",
           "PAYMENT_WEBHOOK_SECRET": WEBHOOK_SECRET, "TRACKING_RATE_LIMIT": "off", "PYTHONPATH": str(ROOT),
           "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(args.web_workers),
           "GUNICORN_ACCESS_LOG": str(RESULTS / "load-access.log"), "SMS_DEV_RECEIPT_DELAY_S": "2"}
    for name in ("TRACKING_PAGE_CACHE_S", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)
    procs: list[subprocess.Popen] = []
    try:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db_name)))
        flask = [str(BIN / "flask")]
        print(f"database {db_name}: migrating, demo data, a key, {args.dossiers} dossiers with links…", flush=True)
        run([*flask, "db", "upgrade"], env)
        run([*flask, "demo", "load"], env)
        key = run([*flask, "agents", "create-key", "VNPOST-HN"], env).splitlines()[0].strip()
        paths_file = RESULTS / "load-paths.txt"
        seeded = seed(db_url, key, args.dossiers, paths_file)
        paths = paths_file.read_text().split()
        with psycopg.connect(db_url) as conn:
            numbers = [row[0] for row in conn.execute("SELECT number FROM dossiers")]
        with open(RESULTS / "load-web.log", "w") as web_log, open(RESULTS / "load-jobs.log", "w") as jobs_log:
            queues = run([*flask, "jobs", "queues"], env).split()
            procs.append(subprocess.Popen([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT,
                                          env=env, stdout=web_log, stderr=subprocess.STDOUT, start_new_session=True))
            procs.append(subprocess.Popen([*flask, "jobs", "relay"], cwd=ROOT, env=env, stdout=jobs_log,
                                          stderr=subprocess.STDOUT, start_new_session=True))
            procs.append(subprocess.Popen([str(BIN / "rq"), "worker-pool", "-n", str(args.jobs_workers),
                                           "--worker-class", "core.jobs.AppSimpleWorker", "--url", args.redis_url,
                                           *queues], cwd=ROOT, env=env, stdout=jobs_log, stderr=subprocess.STDOUT,
                                          start_new_session=True))
            wait_ready(procs[0], f"{base}/healthz", timeout=60)
            load = Load(base, key, numbers, paths, run_id)
            print(f"load: {args.clients} clients for {args.duration:.0f} s against {base} "
                  f"(gunicorn ×{args.web_workers}, relay, rq pool ×{args.jobs_workers}) …", flush=True)
            elapsed = asyncio.run(load.run(args.clients, args.duration))
    finally:
        for proc in procs:
            stop(proc)
        for key_name in redis.scan_iter(match=f"*{namespace}*", count=5000):
            redis.delete(key_name)
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db_name)))
        admin.close()

    rows = []
    for kind, _ in MIX:
        values = load.latency[kind]
        rows.append({"endpoint": kind, "requests": len(values), "per_s": round(len(values) / elapsed, 1),
                     "p50_ms": round(percentile(values, 50) * 1000, 1) if values else None,
                     "p99_ms": round(percentile(values, 99) * 1000, 1) if values else None,
                     "mean_ms": round(statistics.fmean(values) * 1000, 1) if values else None,
                     "errors": len(load.errors[kind]), "first_error": (load.errors[kind] or [None])[0]})
    total = sum(r["requests"] for r in rows)
    errors = sum(r["errors"] for r in rows)
    print(f"\n{'endpoint':<13} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for r in rows:
        print(f"{r['endpoint']:<13} {r['requests']:>8} {r['per_s']:>7} {r['p50_ms']!s:>8} {r['p99_ms']!s:>8} "
              f"{r['errors']:>7}")
    print(f"{'all':<13} {total:>8} {round(total / elapsed, 1):>7} {'':>8} {'':>8} {errors:>7}")
    for r in rows:
        if r["first_error"]:
            print(f"first {r['endpoint']} error: {r['first_error']}")
    print(f"load average before the run: {' '.join(f'{v:.1f}' for v in load_avg)} on {os.cpu_count()} CPUs; "
          f"{'PASS' if errors == 0 else 'FAIL'} (0 errors required)")
    (RESULTS / "load.json").write_text(json.dumps({
        "clients": args.clients, "duration_s": round(elapsed, 1), "endpoints": rows, "errors": errors,
        "seeded": seeded, "load_average": load_avg, "web_workers": args.web_workers,
        "when": datetime.now(timezone.utc).isoformat()}, indent=2, ensure_ascii=False))
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
