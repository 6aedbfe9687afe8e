"""Tracking page benchmark: GET /t/<token> against a bare Flask HTML endpoint.

Requirement: on PostgreSQL under gunicorn with 2 workers, the citizen's tracking page serves
at least 40% of the requests per second of a bare Flask endpoint served the same way,
measured in the same run (wrk, 32 connections), with no errors.

    .venv/bin/python bench/bench_tracking.py [--duration 10] [--connections 32] [--dossiers 200]

Creates a throw-away database, loads the demo data, registers dossiers through the API with an
agent key and moves them along (registered, processing, collected and open for a rating, paid by
card with a receipt, courier result with a booked shipment), issues three links per dossier,
then has wrk cycle over all the links. The rate limit is OFF for the measured run
(TRACKING_RATE_LIMIT=off): one client IP sends everything. A third run measures the page with
the limiter on (memory storage, a limit never reached) to show what it costs. Writes
bench/results/tracking.json. Exit code: 0 when the target holds with no errors, 1 when not,
2 when wrk or PostgreSQL is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import sys
import time
from contextlib import ExitStack
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_intake import (  # noqa: E402 - after the path set-up
    ADMIN_URL,
    RESULTS,
    ROOT,
    THREADS,
    WORKERS,
    WrkResult,
    fmt_ms,
    git_commit,
    gunicorn,
    preflight,
    run,
    wrk,
)

TARGET_RATIO = 0.40
WARMUP_SECONDS = 2
LINKS_PER_DOSSIER = 3
EXPECT = 'class="timeline"'  # every page measured must be the real page (both apps have it)
KINDS = ("registered", "processing", "collected", "paid", "courier")


def seed(db_url: str, api_key: str, count: int, paths_file: Path) -> dict:
    """Dossiers through the API, moved along in-process as the platform would; links; a file of paths."""
    os.environ.update({"DATABASE_URL": db_url, "OUTBOX_THREAD": "0", "LOG_LEVEL": "WARNING",
                       "TRACKING_RATE_LIMIT": "off", "TRACKING_PAGE_CACHE_S": "0"})  # count every view's queries
    from app import create_app
    from core import outbox
    from core.extensions import db
    from dossiers import service as dossiers
    from dossiers.models import Dossier, Status
    from tracking import service as tracking

    app = create_app()
    client = app.test_client()
    auth = {"Authorization": f"Bearer {api_key}"}
    kinds: dict[str, int] = dict.fromkeys(KINDS, 0)
    paths: list[tuple[str, str]] = []
    started = time.perf_counter()
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        body = {"procedure_code": "HN-TP-001" if kind == "paid" else "HN-HT-201",
                "citizen": {"full_name": "Nguyễn Văn An", "cccd": "001090012345", "phone": "0912345678"},
                "location": {"lat": 21.0285 + random.uniform(-0.003, 0.003),  # noqa: S311 - spread, not secrets
                             "lon": 105.8542 + random.uniform(-0.003, 0.003), "source": "gps"},  # noqa: S311
                "delivery": ({"method": "courier", "address": "5 Lý Thái Tổ, Hoàn Kiếm, Hà Nội"} if kind == "courier"
                             else {"method": "collect"})}
        response = client.post("/api/v1/dossiers", json=body, headers={**auth, "Idempotency-Key": f"bench-{i}"})
        if response.status_code != 201:
            raise RuntimeError(f"registering a dossier failed: {response.status_code} "
                               f"{response.get_data(as_text=True)}")
        number = response.get_json()["number"]
        if kind == "paid":
            for path, payload in ((f"/api/v1/dossiers/{number}/payment", {"method": "card"}),
                                  (f"/api/v1/dossiers/{number}/payment/card",
                                   {"payment_method": "pm_card_visa", "attempt_key": f"bench-attempt-{i:06d}"})):
                answer = client.post(path, json=payload, headers=auth)
                if answer.status_code >= 300:
                    raise RuntimeError(f"paying failed: {answer.status_code} {answer.get_data(as_text=True)}")
        steps = {"registered": [], "paid": [Status.ACCEPTED],
                 "processing": [Status.ACCEPTED, Status.PROCESSING],
                 "collected": [Status.ACCEPTED, Status.PROCESSING, Status.RESULT_READY, Status.COLLECTED],
                 "courier": [Status.ACCEPTED, Status.PROCESSING, Status.RESULT_READY]}[kind]
        with app.app_context():
            dossier_id = db.session.scalar(db.select(Dossier.id).where(Dossier.number == number))
            for status in steps:
                dossiers.system_transition(dossier_id, status, None, "bench")
            db.session.commit()
            for _ in range(LINKS_PER_DOSSIER):
                paths.append((kind, "/t/" + tracking.issue_link(dossier_id, "sms").rsplit("/", 1)[1]))
            db.session.commit()
        kinds[kind] += 1
    with app.app_context():  # book the couriers' shipments (sandbox courier), send the SMS (dev outbox)
        while outbox.run_due(limit=200):
            pass
        shipments = db.session.execute(db.text("SELECT count(*) FROM shipments")).scalar_one()
    random.Random(7).shuffle(paths)
    paths_file.write_text("".join(p + "\n" for _, p in paths))
    queries = count_queries(app, paths)
    with app.app_context():
        db.engine.dispose()
    return {"dossiers": kinds, "links": len(paths), "shipments": shipments, "queries_per_page": queries,
            "seed_seconds": round(time.perf_counter() - started, 1)}


def count_queries(app, paths: list[tuple[str, str]]) -> dict:
    """SQL statements per page, by kind of dossier (in-process, after one warm-up view)."""
    from sqlalchemy import event

    from core.extensions import db

    client = app.test_client()
    with app.app_context():
        engine = db.engine
    seen: dict[str, list[int]] = {}
    for kind, path in paths:
        if len(seen.get(kind, [])) >= 5:
            continue
        client.get(path)  # the service point cache
        counter = [0]

        def count(*_args, counter=counter):
            counter[0] += 1

        event.listen(engine, "before_cursor_execute", count)
        try:
            status = client.get(path).status_code
        finally:
            event.remove(engine, "before_cursor_execute", count)
        if status != 200:
            raise RuntimeError(f"{path} answered {status} in-process")
        seen.setdefault(kind, []).append(counter[0])
    return {kind: max(counts) for kind, counts in seen.items()}


SERVERS = (  # name, WSGI app, environment on top of the run's
    ("baseline", "bench.bare_app:app", {"BENCH_PATHS_FILE": "baseline"}),
    ("tracking", "wsgi:app", {}),
    ("uncached", "wsgi:app", {"TRACKING_PAGE_CACHE_S": "0"}),
    ("limited", "wsgi:app", {"TRACKING_RATE_LIMIT": "1000000000/minute"}),
)


def merge(results: list[WrkResult]) -> WrkResult:
    """Rounds of the same server as one result: requests/s over the whole time, latencies averaged."""
    merged = WrkResult()
    merged.requests = sum(r.requests for r in results)
    merged.requests_per_sec = round(sum(r.requests_per_sec for r in results) / len(results), 2)
    for attr in ("latency_avg_ms", "latency_p50_ms", "latency_p90_ms", "latency_p99_ms"):
        values = [getattr(r, attr) for r in results if getattr(r, attr) is not None]
        setattr(merged, attr, round(sum(values) / len(values), 3) if values else None)
    merged.latency_max_ms = max((r.latency_max_ms or 0.0) for r in results)
    merged.non_2xx_3xx = sum(r.non_2xx_3xx for r in results)
    merged.script_responses = sum(r.script_responses or 0 for r in results)
    merged.script_non_2xx = sum(r.script_non_2xx or 0 for r in results)
    for r in results:
        for key, n in r.socket_errors.items():
            merged.socket_errors[key] = merged.socket_errors.get(key, 0) + n
        for key, n in r.statuses.items():
            merged.statuses[key] = merged.statuses.get(key, 0) + n
        merged.first_error = merged.first_error or r.first_error
    return merged


def measure_all(servers, env: dict[str, str], files: dict[str, str], args: argparse.Namespace) -> dict:
    """Every server up at once (an idle one costs nothing), warmed up, then measured in alternating
    rounds, so a change in the machine's load during the run weighs on each of them alike."""
    out: dict[str, dict] = {}
    with ExitStack() as stack:
        bases, envs = {}, {}
        for name, app, extra in servers:
            extra = {k: files.get(v, v) for k, v in extra.items()}
            envs[name] = {**env, **extra}
            bases[name] = stack.enter_context(gunicorn(app, envs[name], RESULTS / f"tracking-{name}-gunicorn.log"))
        for name, *_ in servers:
            warm, warm_output = wrk(bases[name], "get_paths.lua", WARMUP_SECONDS, args.connections, envs[name])
            out[name] = {"warmup": warm, "rounds": [], "wrong": _wrong(warm_output), "outputs": []}
        for round_no in range(args.rounds):
            order = servers[round_no % len(servers):] + servers[:round_no % len(servers)]
            for name, *_ in order:
                result, output = wrk(bases[name], "get_paths.lua", args.duration, args.connections, envs[name])
                out[name]["rounds"].append(result)
                out[name]["outputs"].append(output)
                out[name]["wrong"] += _wrong(output)
                print(f"  round {round_no + 1}: {name:<9} {result.requests_per_sec:9,.1f} requests/s", flush=True)
    for name, data in out.items():
        data["result"] = merge(data["rounds"])
        (RESULTS / f"tracking-{name}-wrk.txt").write_text("\n".join(data["outputs"]))
    return out


def _wrong(output: str) -> int:
    return sum(int(n) for n in re.findall(r"^bench: wrong_pages=(\d+)", output, re.M))


LABELS = {"baseline": "baseline (bare GET /page)", "tracking": "tracking GET /t/<token>",
          "uncached": "tracking, cache off", "limited": "tracking, limiter on"}


def report(results: dict[str, WrkResult], ratio: float, checks: dict) -> str:
    columns = [(LABELS[name], result) for name, result in results.items()]
    base = results["baseline"].requests_per_sec or 1.0
    rows = [("", *(name for name, _ in columns)),
            ("requests/sec", *(f"{r.requests_per_sec:,.1f}" for _, r in columns)),
            ("of baseline", *(f"{r.requests_per_sec / base:.1%}" for _, r in columns)),
            ("requests", *(f"{r.requests:,}" for _, r in columns)),
            ("latency avg ms", *(fmt_ms(r.latency_avg_ms) for _, r in columns)),
            ("latency p50 ms", *(fmt_ms(r.latency_p50_ms) for _, r in columns)),
            ("latency p90 ms", *(fmt_ms(r.latency_p90_ms) for _, r in columns)),
            ("latency p99 ms", *(fmt_ms(r.latency_p99_ms) for _, r in columns)),
            ("errors", *(str(r.errors) for _, r in columns)),
            ("statuses", *(" ".join(f"{k}:{v}" for k, v in sorted(r.statuses.items())) or "-" for _, r in columns))]
    width = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width[i]) if i == 0 else cell.rjust(width[i]) for i, cell in enumerate(row))
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in width))
    lines += ["", f"ratio tracking/baseline   {ratio:.1%}   (target >= {TARGET_RATIO:.0%})",
              "checks                    " + ", ".join(f"{k}={'ok' if v else 'FAIL'}" for k, v in checks.items()),
              f"result                    {'PASS' if all(checks.values()) else 'FAIL'}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run (10)")
    parser.add_argument("--rounds", type=int, default=2, help="measured runs per server, alternating (2)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    parser.add_argument("--dossiers", type=int, default=200, help="dossiers registered (200; 3 links each)")
    parser.add_argument("--only-required", action="store_true",
                        help="measure the baseline and the tracking page only (no cache-off, no limiter run)")
    parser.add_argument("--admin-url", default=ADMIN_URL)
    args = parser.parse_args(argv)
    admin = preflight(args.admin_url)
    if admin is None:
        return 2
    RESULTS.mkdir(parents=True, exist_ok=True)
    db_name = f"bench_tracking_{os.getpid()}"
    db_url = args.admin_url.rsplit("/", 1)[0] + f"/{db_name}"
    paths_file, baseline_file = RESULTS / "tracking-paths.txt", RESULTS / "tracking-baseline-paths.txt"
    env = {**os.environ, "DATABASE_URL": db_url, "FLASK_APP": "wsgi", "LOG_LEVEL": "WARNING",
           "PYTHONDONTWRITEBYTECODE": "1", "OUTBOX_THREAD": "0", "TRACKING_RATE_LIMIT": "off",
           "BENCH_THREADS": str(THREADS), "BENCH_EXPECT": EXPECT, "BENCH_PATHS_FILE": str(paths_file)}
    for name in ("REDIS_URL", "TRACKING_PAGE_CACHE_S"):  # the app's defaults, embedded: memory, no Redis
        env.pop(name, None)
    servers = SERVERS[:2] if args.only_required else SERVERS
    try:
        with admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db_name)))
            print(f"database {db_name}: migrating, loading demo data, issuing a key…", flush=True)
            flask = [sys.executable, "-m", "flask"]
            run([*flask, "db", "upgrade", "heads"], env)
            run([*flask, "demo", "load"], env)
            key = run([*flask, "agents", "create-key", "VNPOST-HN"], env).splitlines()[0].strip()
            print(f"seeding {args.dossiers} dossiers ({', '.join(KINDS)}), {LINKS_PER_DOSSIER} links each…", flush=True)
            seeded = seed(db_url, key, args.dossiers, paths_file)
            print(f"  {seeded['links']} links, {seeded['shipments']} shipments, SQL statements per page view: "
                  f"{seeded['queries_per_page']}", flush=True)
            baseline_file.write_text("/page\n" * 16)
            print(f"servers: {', '.join(f'{n} ({a})' for n, a, _ in servers)}: gunicorn -w {WORKERS} sync each, "
                  f"TRACKING_RATE_LIMIT=off but for 'limited'; wrk -t{THREADS} -c{args.connections} "
                  f"-d{args.duration}s, {args.rounds} alternating rounds after a {WARMUP_SECONDS} s warm-up…",
                  flush=True)
            measured = measure_all(servers, env, {"baseline": str(baseline_file)}, args)
    except RuntimeError as exc:
        print(f"benchmark aborted: {exc}", file=sys.stderr)
        return 1
    finally:
        with psycopg.connect(args.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db_name)))

    results = {name: data["result"] for name, data in measured.items()}
    baseline, page = results["baseline"], results["tracking"]
    ratio = page.requests_per_sec / baseline.requests_per_sec if baseline.requests_per_sec else 0.0
    checks = {"ratio": ratio >= TARGET_RATIO,
              "tracking_errors": page.errors == 0 and measured["tracking"]["warmup"].errors == 0
              and measured["tracking"]["wrong"] == 0,
              "baseline_errors": baseline.errors == 0 and measured["baseline"]["wrong"] == 0}
    passed = all(checks.values())
    print()
    print(report(results, ratio, checks))
    out = RESULTS / "tracking.json"
    out.write_text(json.dumps({
        "requirement": "GET /t/<token> >= 40% of a bare Flask endpoint's requests/sec (PostgreSQL, gunicorn "
                       "2 sync workers, wrk 32 connections, same run), no errors",
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "host": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "settings": {"duration_s": args.duration, "rounds": args.rounds, "connections": args.connections,
                     "threads": THREADS, "workers": WORKERS, "worker_class": "sync", "warmup_s": WARMUP_SECONDS,
                     "rate_limit": "off (TRACKING_RATE_LIMIT=off) but for 'limited' (memory storage, never reached)",
                     "page_cache": "the app's default TRACKING_PAGE_CACHE_S (5 s) but for 'uncached' (0)"},
        "data": seeded,
        **{name: {**asdict(result), "errors": result.errors,
                  "rounds_requests_per_sec": [r.requests_per_sec for r in measured[name]["rounds"]],
                  "ratio_to_baseline": round(result.requests_per_sec / (baseline.requests_per_sec or 1.0), 4)}
           for name, result in results.items()},
        "ratio": round(ratio, 4),
        "target_ratio": TARGET_RATIO,
        "checks": checks,
        "result": "PASS" if passed else "FAIL",
    }, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwritten: {out.relative_to(ROOT)}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
