# ruff: noqa: S608 - the generating statements are built from this module's constants; values are bound
"""A year of Hanoi in PostgreSQL, built fast and set-based, for the monitoring and queue benchmarks.

    .venv/bin/python bench/dossier_year.py [--dossiers 4000000] [--rebuild]      # or BENCH_DOSSIERS=…

Builds the database ``bench_year`` (``--db``): migrated from empty with ``flask db upgrade heads``, the
reference data of ``flask demo load`` without its month (the ~160 service points of
geo/data/hanoi_service_points.csv, the procedure catalogue, the four agent organisations, their users and
agent points), then ``--dossiers`` dossiers received over the working days of the 365 days ending today,
spread over the points (a branch takes 12 times a commune point, a district point 3 times) and the
organisations (45 / 25 / 20 / 10 %), the procedures by popularity (commune points: commune-level ones).
Each dossier gets its deadline (its procedure's working days, Vietnamese holidays included), an outcome
(70 % early, 15 % on its due day, 12 % late, 2.5 % rejected, 0.5 % cancelled, 0.2 % stuck open) and the
status that outcome gives it today: most resolved and collected or delivered, the recent ones still
received, accepted, in processing or awaiting a supplement (8 % of the open ones), the late and stuck
ones overdue now. Every resolved dossier has its ``dossier_resolutions`` row (as the status change writes
it), every dossier its payment (card, VietQR, cash; 2 % still awaiting), three in ten of the finished
ones a rating (with SIPAS answers for half, a comment for one in ten).

Everything is ``INSERT … SELECT`` over ``generate_series`` from one unlogged staging table, with the
secondary indexes dropped during the load and built again after, triggers off
(``session_replication_role = replica``; the monitoring summary is then rebuilt set-based by its own
function, when the schema has it), then ``VACUUM (ANALYZE)``. The timeline (``dossier_events``) is not
generated: neither the queues nor the monitoring read it.

A database that already holds the year of the asked size is reused (only migrated to the newest
revision), so reruns are quick; ``--rebuild`` drops it first. Prints the time of each step.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DB_NAME = "bench_year"
# The bench's own PII keys (fake people in a throw-away database): the builder encrypts with them and the
# benchmark's app decrypts with them.
PII_ENV = {"PII_ENCRYPTION_KEYS": "tZ1bE1vVq2mH3z0Yk3oYtq8m2bq3tVQp0m8cW3r3X5Q=",
           "PII_HASH_KEY": "bench-year-hash-key-0123456789abcdef"}
PASSWORD = "bench-year-password"  # noqa: S105 - the throw-away database's users
TABLES = ("dossiers", "dossier_resolutions", "payments", "feedback")
ORG_SHARES = (("VNPOST-HN", 45), ("VIETTELPOST-HN", 25), ("HNTECH", 20), ("DIGIGOV", 10))
TIER_WEIGHT = {"branch": 12, "district_point": 3, "commune_point": 1}


def env() -> dict:
    return {"LOG_LEVEL": "WARNING", "OUTBOX_THREAD": "0", **PII_ENV}


def db_url(admin_url: str, name: str = DB_NAME) -> str:
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def make_app(url: str):
    os.environ.update(env())
    os.environ["DATABASE_URL"] = url
    sys.path.insert(0, str(ROOT))
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://"),
                       "OUTBOX_THREAD": False, **PII_ENV})


def _held(conn: psycopg.Connection) -> int | None:
    """The size of the year the database holds, or None when it holds none (or an unfinished one)."""
    found = conn.execute("SELECT to_regclass('bench_year_meta') IS NOT NULL").fetchone()[0]
    if not found:
        return None
    row = conn.execute("SELECT dossiers FROM bench_year_meta WHERE complete").fetchone()
    return int(row[0]) if row else None


def migrate_and_reference(app) -> None:
    from flask_migrate import upgrade

    from app.demo import load_demo
    from core import accounts
    from core.extensions import db
    from core.roles import Role

    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
        load_demo(month=False)
        accounts.ensure_user("lanhdao@bench.vn", "Lãnh đạo (bench)", Role.LEADERSHIP, PASSWORD)
        db.session.commit()


def working_days(first: date, last: date) -> list[date]:
    sys.path.insert(0, str(ROOT))
    from core.calendar import is_working_day

    out, day = [], first
    while day <= last:
        if is_working_day(day):
            out.append(day)
        day += timedelta(days=1)
    return out


def _step(conn, name: str, statement: str, params: dict | None = None, timings: dict | None = None) -> None:
    began = time.perf_counter()
    conn.execute(statement, params)
    conn.commit()
    took = round(time.perf_counter() - began, 1)
    if timings is not None:
        timings[name] = took
    print(f"  {name:<34} {took:>7.1f} s", flush=True)


def _reference(conn) -> dict:
    points = conn.execute("SELECT id, tier::text FROM service_points ORDER BY id").fetchall()
    weighted = [pid for pid, tier in points for _ in range(TIER_WEIGHT.get(tier, 1))]
    commune_points = {pid for pid, tier in points if tier == "commune_point"}
    orgs = dict(conn.execute("SELECT code, id FROM organisations").fetchall())
    org_ids = [orgs[code] for code, share in ORG_SHARES for _ in range(share)]
    procs = conn.execute("SELECT id, level::text FROM procedures WHERE is_active ORDER BY id").fetchall()
    rng = random.Random(11)  # a fixed popularity order: the same year at every build
    every = [pid for pid, _level in procs]
    rng.shuffle(every)
    commune = [pid for pid in every if dict(procs)[pid] == "commune"] or every
    return {"points": weighted, "commune_points": sorted(commune_points), "orgs": org_ids, "procs": every,
            "commune_procs": commune}


def generate(conn: psycopg.Connection, n: int, pii: dict) -> dict:
    """The year's rows, set-based. ``pii``: one encrypted CCCD and phone (the same for every row)."""
    today = date.today()
    days = working_days(today - timedelta(days=364), today + timedelta(days=200))
    year = [d for d in days if d <= today]
    ref = _reference(conn)
    p = {"n": n, "wdays": days, "d": len(year), "t": len(year), **ref, **pii}
    timings: dict = {}
    conn.execute("SET session_replication_role = replica")  # no triggers (foreign keys, summaries) in the load
    conn.execute("SET maintenance_work_mem = '512MB'")
    conn.execute("SET max_parallel_maintenance_workers = 2")
    conn.execute("SELECT setseed(0.11)")
    dropped = conn.execute("""SELECT indexname, indexdef FROM pg_indexes i
        WHERE schemaname = 'public' AND tablename = ANY(%(tables)s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
                           {"tables": list(TABLES)}).fetchall()
    for name, _ in dropped:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    conn.commit()
    # One staging row per dossier: its day (k, the ordinal of its working day), point, organisation,
    # procedure, and the draws that decide its fate.
    _step(conn, "staging: draw", """CREATE UNLOGGED TABLE bench_stage AS
        SELECT i, k, sp, org, proc, u, r_draw, h1, h2, courier,
               CASE WHEN sp = ANY(%(commune_points)s) THEN (%(commune_procs)s::int[])[1 + floor(
                    cardinality(%(commune_procs)s::int[]) * pow(random(), 2))::int] END AS commune_proc
        FROM (SELECT i, 1 + ((i - 1) * %(d)s::bigint / %(n)s)::int AS k,
                     (%(points)s::int[])[1 + floor(random() * cardinality(%(points)s::int[]))::int] AS sp,
                     (%(orgs)s::int[])[1 + floor(random() * cardinality(%(orgs)s::int[]))::int] AS org,
                     (%(procs)s::int[])[1 + floor(cardinality(%(procs)s::int[]) * pow(random(), 2))::int] AS proc,
                     random() AS u, random() AS r_draw, random() AS h1, random() AS h2, random() < 0.35 AS courier
              FROM generate_series(1, %(n)s) i) s""", p, timings)
    # Its times: received in office hours (08:00-16:30 Hanoi; today's before now), the deadline at 17:00 of
    # the procedure's last working day, the working day it is resolved on (r: the working days it takes).
    _step(conn, "staging: times and fates", """CREATE UNLOGGED TABLE bench_year AS
        SELECT s.*, pr.level::text AS level, pr.fee_vnd,
               LEAST(((%(wdays)s::date[])[s.k] + time '08:00' + s.h1 * interval '8 hours 30 minutes')
                     AT TIME ZONE 'Asia/Ho_Chi_Minh', now() - s.h1 * interval '10 minutes') AS received_at,
               (((%(wdays)s::date[])[s.k + pr.processing_days] + time '17:00') AT TIME ZONE 'Asia/Ho_Chi_Minh')
                   AS deadline_at,
               CASE WHEN s.u < 0.70 THEN floor(s.r_draw * pr.processing_days)::int
                    WHEN s.u < 0.85 THEN pr.processing_days
                    WHEN s.u < 0.95 THEN pr.processing_days + 1 + floor(s.r_draw * 5)::int
                    WHEN s.u < 0.98 THEN NULL           -- rejected (0.95-0.975), cancelled (0.975-0.98)
                    WHEN s.u < 0.998 THEN pr.processing_days + 6 + floor(s.r_draw * 15)::int  -- very late
                    ELSE 100000 END AS r,               -- stuck: open, overdue once past its deadline
               CASE WHEN s.u >= 0.95 AND s.u < 0.975 THEN 'rejected'
                    WHEN s.u >= 0.975 AND s.u < 0.98 THEN 'cancelled' END AS fate
        FROM (SELECT i, k, sp, org, COALESCE(commune_proc, proc) AS proc, u, r_draw, h1, h2, courier
              FROM bench_stage) s JOIN procedures pr ON pr.id = s.proc""", p, timings)
    conn.execute("DROP TABLE bench_stage")
    # The resolution (first result ready): on the working day k + r, in office hours, after its receipt.
    _step(conn, "staging: resolutions", """CREATE UNLOGGED TABLE bench_resolved AS
        SELECT i, resolved_at, r AS working_days,
               CASE WHEN resolved_at > deadline_at THEN 'late'
                    WHEN (resolved_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
                         < (deadline_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date THEN 'early'
                    ELSE 'on_time' END AS outcome
        FROM (SELECT i, r, deadline_at,
                     GREATEST(((%(wdays)s::date[])[k + r] + time '08:00' + h2 * interval '8 hours 30 minutes')
                              AT TIME ZONE 'Asia/Ho_Chi_Minh', received_at + interval '20 minutes') AS resolved_at
              FROM bench_year WHERE r IS NOT NULL AND k + r <= %(t)s) s
        WHERE resolved_at < now()""", p, timings)
    conn.execute("CREATE UNIQUE INDEX ON bench_resolved (i)")
    conn.commit()
    status = """CASE
        WHEN y.fate = 'rejected' THEN 'rejected'
        WHEN y.fate = 'cancelled' THEN 'cancelled'
        WHEN rs.i IS NOT NULL THEN CASE
            WHEN rs.resolved_at < now() - interval '3 days' AND y.h2 > 0.02
                THEN CASE WHEN y.courier THEN 'delivered' ELSE 'collected' END
            WHEN y.courier AND rs.resolved_at < now() - interval '1 day' THEN 'out_for_delivery'
            ELSE 'result_ready' END
        WHEN y.h2 < 0.08 THEN 'supplement_requested'
        WHEN y.received_at > now() - interval '1 day' THEN 'received'
        WHEN y.received_at > now() - interval '2 days' THEN 'accepted'
        ELSE 'processing' END"""
    _step(conn, "dossiers", f"""INSERT INTO dossiers (id, number, procedure_id, status, citizen_name,
            citizen_id_number, citizen_id_number_hash, citizen_phone, citizen_phone_hash, lat, lon,
            location_source, organisation_id, service_point_id, routing, outside_service_radius, delivery_method,
            delivery_address, fee_vnd, received_at, deadline_at, updated_at, closed_at, paused_at, version,
            idempotency_owner, idempotency_key, request_fingerprint)
        SELECT y.i, 'BY-' || to_char(y.received_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYMMDD') || '-' || y.i,
               y.proc, st.status, 'Nguyễn Văn ' || (y.i %% 997), %(cccd)s,
               md5('cccd' || (y.i %% 200000)), %(phone)s, md5('phone' || (y.i %% 300000)),
               20.95 + y.h1 * 0.15, 105.75 + y.h2 * 0.15, 'gps', y.org, y.sp, '{{}}', y.r_draw < 0.03,
               (CASE WHEN y.courier THEN 'courier' ELSE 'collect' END),
               CASE WHEN y.courier THEN 'Số ' || (y.i %% 300) || ' phố Huế, Hà Nội' END, y.fee_vnd,
               y.received_at, y.deadline_at, COALESCE(rs.resolved_at, y.received_at),
               CASE WHEN st.status IN ('rejected', 'cancelled') THEN y.received_at + interval '1 day'
                    WHEN st.status IN ('delivered', 'collected') THEN rs.resolved_at + interval '2 days' END,
               CASE WHEN st.status = 'supplement_requested' THEN y.received_at + interval '1 day' END,
               1, 'bench', 'y' || y.i, 'bench'
        FROM bench_year y LEFT JOIN bench_resolved rs ON rs.i = y.i
             CROSS JOIN LATERAL (SELECT {status} AS status) st""", p, timings)
    _step(conn, "dossier_resolutions", """INSERT INTO dossier_resolutions (dossier_id, service_point_id,
            organisation_id, level, received_at, deadline_at, resolved_at, working_days, outcome)
        SELECT y.i, y.sp, y.org, y.level, y.received_at, y.deadline_at, rs.resolved_at, rs.working_days, rs.outcome
        FROM bench_resolved rs JOIN bench_year y ON y.i = rs.i""", p, timings)
    _step(conn, "payments", """INSERT INTO payments (id, dossier_id, organisation_id, method, status, state_fee_vnd,
            service_fee_vnd, courier_fee_vnd, amount_vnd, refunded_vnd, intent_idempotency_key, transfer_reference,
            paid_at, collected_by, created_by, created_at, updated_at)
        SELECT y.i, y.i, y.org, (CASE WHEN y.h1 < 0.40 THEN 'card' WHEN y.h1 < 0.75 THEN 'vietqr' ELSE 'cash' END),
               (CASE WHEN y.r_draw > 0.98 THEN 'awaiting' ELSE 'paid' END), y.fee_vnd, 20000,
               CASE WHEN y.courier THEN 30000 ELSE 0 END, y.fee_vnd + 20000 + CASE WHEN y.courier THEN 30000 ELSE 0 END,
               0, 'y' || y.i, 'TY' || y.i,
               CASE WHEN y.r_draw <= 0.98 THEN y.received_at + interval '3 minutes' END,
               CASE WHEN y.h1 >= 0.75 THEN 'bench' END, 'bench', y.received_at, y.received_at
        FROM bench_year y""", p, timings)
    _step(conn, "feedback", """INSERT INTO feedback (dossier_id, rating, comment, sipas_access, sipas_procedure,
            sipas_officer, sipas_result, sipas_feedback, created_at)
        SELECT d.id, f.rating,
               CASE WHEN f.c < 0.1 THEN (ARRAY['Cán bộ nhiệt tình, hướng dẫn rõ ràng.', 'Phải chờ lâu.',
                   'Nhận kết quả đúng hẹn, cảm ơn.', 'Thủ tục còn rườm rà.'])[1 + (d.id %% 4)::int] END,
               CASE WHEN f.c < 0.5 THEN greatest(1, f.rating - (d.id %% 2)::int) END,
               CASE WHEN f.c < 0.5 THEN f.rating END, CASE WHEN f.c < 0.5 THEN f.rating END,
               CASE WHEN f.c < 0.5 THEN greatest(1, f.rating - (d.id %% 3)::int) END,
               CASE WHEN f.c < 0.4 THEN f.rating END,
               d.closed_at + (d.id %% 20) * interval '1 hour'
        FROM dossiers d
             -- draws from the id (a LATERAL random() that names no column of d is drawn once only)
             CROSS JOIN LATERAL (SELECT ((d.id::bigint * 40503) %% 1009) / 1009.0 AS c,
                                        ((d.id::bigint * 2654435761) %% 1000003) / 1000003.0 AS x) g
             CROSS JOIN LATERAL (SELECT CASE WHEN g.x < 0.55 THEN 5 WHEN g.x < 0.80 THEN 4 WHEN g.x < 0.90 THEN 3
                                             WHEN g.x < 0.95 THEN 2 ELSE 1 END AS rating, g.c) f
        WHERE d.status IN ('delivered', 'collected') AND d.id %% 10 < 3
          AND d.closed_at + (d.id %% 20) * interval '1 hour' < now()""", p, timings)
    conn.execute("DROP TABLE bench_resolved")
    conn.execute("DROP TABLE bench_year")
    conn.commit()
    for name, definition in dropped:
        _step(conn, f"index {name}", definition, None, timings)
    _step(conn, "sequences", """SELECT setval('dossiers_id_seq', (SELECT max(id) FROM dossiers)),
        setval('payments_id_seq', (SELECT max(id) FROM payments)),
        setval('feedback_id_seq', greatest(1, (SELECT max(id) FROM feedback)))""", None, timings)
    conn.execute("SET session_replication_role = DEFAULT")
    has_summary = conn.execute("SELECT to_regproc('monitoring_daily_rebuild') IS NOT NULL").fetchone()[0]
    if has_summary:
        _step(conn, "monitoring summary (rebuild)", "SELECT monitoring_daily_rebuild()", None, timings)
    return timings


def vacuum(url: str, timings: dict) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        began = time.perf_counter()
        conn.execute("VACUUM (ANALYZE)")
        timings["vacuum analyze"] = round(time.perf_counter() - began, 1)
        print(f"  {'VACUUM (ANALYZE)':<34} {timings['vacuum analyze']:>7.1f} s", flush=True)


def ensure_year(n: int, admin_url: str = ADMIN_URL, rebuild: bool = False, name: str = DB_NAME) -> dict:
    """The year database (built, or reused when it holds a year of ``n``); returns its url and the timings."""
    url = db_url(admin_url, name)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and rebuild:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if exists:
            with psycopg.connect(url) as conn:
                held = _held(conn)
            if held == n:
                app = make_app(url)
                began = time.perf_counter()
                migrate_and_reference(app)  # a newer revision since: migrated (its backfill included)
                print(f"database {name} holds the year of {n:,} dossiers: reused "
                      f"(migrated in {time.perf_counter() - began:.1f} s)", flush=True)
                return {"url": url, "reused": True, "timings": {}, "app": app}
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    began = time.perf_counter()
    print(f"database {name}: migrating, loading the reference data, then {n:,} dossiers…", flush=True)
    app = make_app(url)
    migrate_and_reference(app)
    with app.app_context():
        from core import pii

        encrypted = {"cccd": pii.encrypt("001090000001"), "phone": pii.encrypt("+84912000001")}
    with psycopg.connect(url) as conn:
        timings = generate(conn, n, encrypted)
    vacuum(url, timings)
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE bench_year_meta (dossiers integer, built_on date, complete boolean)")
        conn.execute("INSERT INTO bench_year_meta VALUES (%s, current_date, true)", (n,))
    timings["total"] = round(time.perf_counter() - began, 1)
    print(f"  {'total':<34} {timings['total']:>7.1f} s", flush=True)
    return {"url": url, "reused": False, "timings": timings, "app": app}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dossiers", type=int, default=int(os.environ.get("BENCH_DOSSIERS", 4_000_000)))
    parser.add_argument("--admin-url", default=ADMIN_URL)
    parser.add_argument("--db", default=DB_NAME)
    parser.add_argument("--rebuild", action="store_true", help="drop the database first")
    args = parser.parse_args(argv)
    try:
        psycopg.connect(args.admin_url).close()
    except psycopg.OperationalError as exc:
        print(f"Cannot reach PostgreSQL at {args.admin_url}: {exc}", file=sys.stderr)
        return 2
    ensure_year(args.dossiers, args.admin_url, args.rebuild, args.db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
