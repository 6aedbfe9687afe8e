# ruff: noqa: S608 - the generating statements are built from this module's constants; values are bound
"""Gateway reconciliation benchmark: the set-based matching over a million card payments.

Requirement: on PostgreSQL, reconciling 1,000,000 card payments with their balance transactions and
1,000 payouts (finance.recon_sql.match: every class of mismatch, the queue's inserts and clearing)
takes at most 30 s and at most 500 MB peak memory of the Python process, on 2 cores; measured
against a plain ``COUNT(*)`` join of the same tables (payments ⋈ ledger ⋈ balance transactions) in
the same run, and the ratio printed.

    .venv/bin/python bench/bench_reconcile.py [--payments 1000000] [--payouts 1000]

Creates a throw-away database, migrates it and loads the demo reference data, without the demo month (for the
foreign keys: an organisation, a procedure, a service point), then generates with ``INSERT … SELECT generate_series``
the dossiers, the card payments, their ledger ``payment`` transactions, their balance transactions
(each in one of the payouts) and the payouts, over one month, and injects a few thousand
discrepancies of every class. The HTTP fetch is not measured (it is the gateway's speed, not ours).
Prints a table, writes bench/results/reconcile.json, drops the database. Exit code 0 when the
targets hold (and every injected discrepancy was found), 1 when not, 2 when PostgreSQL is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TARGET_S = 30.0
TARGET_MB = 500.0
MONTH = date(2026, 11, 1)  # the month the data spans (Hanoi dates)
START = datetime(2026, 10, 31, 17, 0, tzinfo=UTC)  # 1 November 00:00 in Hanoi
SECONDS = 30 * 86400

# Discrepancies injected: which payments (i % modulus == residue), and how many extra rows.
MISSING_AT_GATEWAY = (997, 7)  # not a multiple of the payouts: no payout loses all its transactions
AMOUNT = (2000, 3)
FEE = (2000, 5)
DUPLICATE = (2000, 9)
ORPHAN_CHARGES = 500
ORPHAN_REFUNDS = 200
BROKEN_PAYOUTS = 10


def generate(conn: psycopg.Connection, payments: int, payouts: int) -> dict:
    org, proc, point = conn.execute(
        "SELECT (SELECT id FROM organisations ORDER BY id LIMIT 1), (SELECT id FROM procedures ORDER BY id LIMIT 1), "
        "(SELECT id FROM service_points ORDER BY id LIMIT 1)").fetchone()
    p = {"n": payments, "org": org, "proc": proc, "point": point, "start": START, "span": SECONDS, "po": payouts}
    ts = "(%(start)s::timestamptz + make_interval(secs => (i::bigint * 7919) %% %(span)s))"
    steps = [
        ("dossiers", f"""INSERT INTO dossiers (id, number, procedure_id, status, citizen_name, citizen_id_number,
            citizen_phone, lat, lon, location_source, organisation_id, service_point_id, routing,
            outside_service_radius, delivery_method, fee_vnd, received_at, deadline_at, updated_at, idempotency_owner,
            idempotency_key, request_fingerprint, citizen_id_number_hash, citizen_phone_hash)
            SELECT i, 'BENCH-' || i, %(proc)s, 'received', 'x', 'x', 'x', 21.03, 105.85, 'gps', %(org)s, %(point)s,
                   '{{}}', false, 'collect', 200000, {ts}, {ts}, {ts}, 'bench', 'b' || i, 'f', 'h', 'h'
            FROM generate_series(1, %(n)s) i"""),
        ("payments", f"""INSERT INTO payments (id, dossier_id, organisation_id, method, status, state_fee_vnd,
            service_fee_vnd, courier_fee_vnd, amount_vnd, refunded_vnd, intent_idempotency_key, gateway_intent_id,
            transfer_reference, gateway_fee_vnd, paid_at, created_by, created_at, updated_at)
            SELECT i, i, %(org)s, 'card', 'paid', 200000 + (i %% 50) * 1000, 20000, 0, 220000 + (i %% 50) * 1000, 0,
                   'k' || i, 'pi_b' || i, 'T' || i, (220000 + (i %% 50) * 1000) * 15 / 1000, {ts}, 'bench', {ts}, {ts}
            FROM generate_series(1, %(n)s) i"""),
        ("ledger_transactions", f"""INSERT INTO ledger_transactions (kind, reference, dossier_id, booked_at, memo)
            SELECT 'payment', 'pi_b' || i, i, {ts}, 'card payment' FROM generate_series(1, %(n)s) i"""),
        ("balance transactions", f"""INSERT INTO finance_gateway_transactions (id, type, source, payment_intent,
            amount, fee, net, currency, created, payout_id, reporting_category, fetched_at)
            SELECT 'txn_b' || i, 'charge', 'ch_b' || i, 'pi_b' || i, 220000 + (i %% 50) * 1000,
                   (220000 + (i %% 50) * 1000) * 15 / 1000,
                   220000 + (i %% 50) * 1000 - (220000 + (i %% 50) * 1000) * 15 / 1000, 'vnd',
                   {ts} + interval '1 second', 'po_b' || (i %% %(po)s), 'charge', now()
            FROM generate_series(1, %(n)s) i"""),
        ("missing at gateway", "DELETE FROM finance_gateway_transactions WHERE id IN (SELECT 'txn_b' || i FROM "
                               f"generate_series(1, %(n)s) i WHERE i %% {MISSING_AT_GATEWAY[0]} = "
                               f"{MISSING_AT_GATEWAY[1]})"),
        ("amount", f"""UPDATE finance_gateway_transactions SET amount = amount + 1000, net = net + 1000
            WHERE id IN (SELECT 'txn_b' || i FROM generate_series(1, %(n)s) i
                         WHERE i %% {AMOUNT[0]} = {AMOUNT[1]})"""),
        ("fee", f"""UPDATE finance_gateway_transactions SET fee = fee + 100, net = net - 100
            WHERE id IN (SELECT 'txn_b' || i FROM generate_series(1, %(n)s) i WHERE i %% {FEE[0]} = {FEE[1]})"""),
        ("duplicates", f"""INSERT INTO finance_gateway_transactions (id, type, source, payment_intent, amount, fee,
            net, currency, created, payout_id, reporting_category, fetched_at)
            SELECT 'txn_d' || substr(id, 6), type, source, payment_intent, amount, fee, net, currency, created,
                   payout_id, reporting_category, fetched_at FROM finance_gateway_transactions
            WHERE id IN (SELECT 'txn_b' || i FROM generate_series(1, %(n)s) i
                         WHERE i %% {DUPLICATE[0]} = {DUPLICATE[1]})"""),
        ("orphan charges", f"""INSERT INTO finance_gateway_transactions (id, type, source, payment_intent, amount,
            fee, net, currency, created, payout_id, reporting_category, fetched_at)
            SELECT 'txn_o' || i, 'charge', 'ch_o' || i, 'pi_o' || i, 150000, 0, 150000, 'vnd', {ts}, NULL,
                   'charge', now() FROM generate_series(1, {ORPHAN_CHARGES}) i"""),
        ("orphan refunds", f"""INSERT INTO finance_gateway_transactions (id, type, source, payment_intent, amount,
            fee, net, currency, created, payout_id, reporting_category, fetched_at)
            SELECT 'txn_r' || i, 'refund', 're_o' || i, 'pi_x' || i, -50000, 0, -50000, 'vnd', {ts}, NULL,
                   'refund', now() FROM generate_series(1, {ORPHAN_REFUNDS}) i"""),
        ("payouts", """INSERT INTO finance_gateway_payouts (id, amount, currency, arrival_date, status, created,
            bank_line_id, fetched_at)
            SELECT payout_id, SUM(net), 'vnd', DATE '2026-11-30', 'paid', TIMESTAMPTZ '2026-11-29 17:00+00', NULL,
                   now() FROM finance_gateway_transactions WHERE payout_id IS NOT NULL AND id NOT LIKE 'txn_d%%'
            GROUP BY payout_id"""),
        ("broken payouts", f"""UPDATE finance_gateway_payouts SET amount = amount + 1
            WHERE id IN (SELECT 'po_b' || i FROM generate_series(0, {BROKEN_PAYOUTS - 1}) i)"""),
        ("analyze", "ANALYZE"),
    ]
    timings = {}
    for name, statement in steps:
        began = time.perf_counter()
        conn.execute(statement, p if "%(" in statement else None)
        conn.commit()
        timings[name] = round(time.perf_counter() - began, 2)
        print(f"  {name:<22} {timings[name]:>7.2f} s", flush=True)
    n = payments
    lost = set(range(MISSING_AT_GATEWAY[1], n + 1, MISSING_AT_GATEWAY[0]))  # a deleted charge cannot also differ

    def kept(rule: tuple[int, int]) -> int:
        return len(set(range(rule[1], n + 1, rule[0])) - lost)

    expected = {
        "missing_at_gateway": len(lost),
        "missing_in_ledger": ORPHAN_CHARGES,
        "amount_mismatch": kept(AMOUNT),
        "fee_mismatch": kept(FEE),
        "duplicate": kept(DUPLICATE),
        "refund_without_payment": ORPHAN_REFUNDS,
        # the broken ones, and those a duplicate's copy landed in (the copy keeps the payout id)
        "payout_sum_mismatch": len(set(range(BROKEN_PAYOUTS)) | {i % payouts for i in
                                                                 range(DUPLICATE[1], n + 1, DUPLICATE[0])}),
    }
    return {"timings": timings, "expected": expected}


def backend_peak_kb(conn: psycopg.Connection) -> int | None:
    """The PostgreSQL backend's peak resident memory (VmHWM), when /proc lets us read it."""
    pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--payments", type=int, default=1_000_000)
    parser.add_argument("--payouts", type=int, default=1_000)
    parser.add_argument("--admin-url", default=ADMIN_URL)
    args = parser.parse_args(argv)
    try:
        admin = psycopg.connect(args.admin_url, autocommit=True)
    except psycopg.OperationalError as exc:
        print(f"Cannot reach PostgreSQL at {args.admin_url}: {exc}", file=sys.stderr)
        return 2
    RESULTS.mkdir(parents=True, exist_ok=True)
    db_name = f"bench_reconcile_{os.getpid()}"
    db_url = args.admin_url.rsplit("/", 1)[0] + f"/{db_name}"
    env = {**os.environ, "DATABASE_URL": db_url, "FLASK_APP": "wsgi", "LOG_LEVEL": "WARNING", "OUTBOX_THREAD": "0"}
    try:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db_name)))
        print(f"database {db_name}: migrating, loading the demo data…", flush=True)
        for command in (["db", "upgrade", "heads"], ["demo", "load", "--no-month"]):
            done = subprocess.run([sys.executable, "-m", "flask", *command], cwd=ROOT, env=env, capture_output=True,
                                  text=True, check=False)
            if done.returncode:
                print(done.stdout, done.stderr, file=sys.stderr)
                return 1
        print(f"generating {args.payments:,} card payments, {args.payouts:,} payouts…", flush=True)
        with psycopg.connect(db_url) as conn:
            generated = generate(conn, args.payments, args.payouts)
        figures = measure(db_url, env)
    finally:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db_name)))
        admin.close()
    found, expected = figures["found"], generated["expected"]
    ok_found = all(found.get(kind) == n for kind, n in expected.items())
    passed = figures["match_s"] <= TARGET_S and figures["peak_mb"] <= TARGET_MB and ok_found
    rows = [("payments", f"{args.payments:,}"), ("payouts", f"{args.payouts:,}"),
            ("baseline COUNT(*) join", f"{figures['baseline_s']:.2f} s ({figures['baseline_rows']:,} rows)"),
            ("reconcile (match)", f"{figures['match_s']:.2f} s (target ≤ {TARGET_S:.0f} s)"),
            ("ratio match / baseline", f"{figures['match_s'] / figures['baseline_s']:.1f}×"),
            ("second run (no new items)", f"{figures['again_s']:.2f} s, new {sum(figures['again_new'].values())}"),
            ("peak memory, Python", f"{figures['peak_mb']:.0f} MB (target ≤ {TARGET_MB:.0f} MB)"),
            ("peak memory, PostgreSQL backend", f"{figures['pg_peak_mb']} MB" if figures["pg_peak_mb"] else "n/a"),
            ("cores", str(os.cpu_count()))]
    for kind, n in expected.items():
        rows.append((f"found {kind}", f"{found.get(kind, 0):,} (injected {n:,})"))
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print("PASS" if passed else "FAIL")
    (RESULTS / "reconcile.json").write_text(json.dumps({"args": vars(args), **generated, **figures,
                                                        "passed": passed}, indent=2, default=str))
    return 0 if passed else 1


def measure(db_url: str, env: dict) -> dict:
    os.environ.update({k: v for k, v in env.items() if k in ("DATABASE_URL", "LOG_LEVEL", "OUTBOX_THREAD")})
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import text

    from app import create_app
    from core.extensions import db
    from finance import recon_sql
    from finance.recon import bounds

    app = create_app()
    with app.app_context():
        start, end = bounds(MONTH, date(2026, 11, 30))
        now = datetime.now(UTC)
        began = time.perf_counter()
        baseline_rows = db.session.execute(text(
            "SELECT COUNT(*) FROM payments p JOIN ledger_transactions lt ON lt.kind = 'payment' AND "
            "lt.reference = p.gateway_intent_id JOIN finance_gateway_transactions g ON g.payment_intent = "
            "p.gateway_intent_id")).scalar_one()
        baseline_s = time.perf_counter() - began
        db.session.commit()
        if os.environ.get("BENCH_EXPLAIN"):
            plan = recon_sql.execute("EXPLAIN ANALYZE " + recon_sql.PAIRS.split(" AS\n", 1)[1], start=start, end=end,
                                     gstart=start - recon_sql.SLACK, gend=end + recon_sql.SLACK)
            print("\n".join(row[0] for row in plan))
            db.session.rollback()
        steps: dict[str, float] = {}
        mark = [time.perf_counter()]

        def step(name: str) -> None:
            steps[name] = round(time.perf_counter() - mark[0], 3)
            mark[0] = time.perf_counter()

        began = time.perf_counter()
        counts = recon_sql.match(start, end, now=now, bank_cutoff=MONTH - timedelta(days=1), actor="bench",
                                 step=step)
        print("  match steps:", ", ".join(f"{k} {v:.2f} s" for k, v in steps.items()), flush=True)
        db.session.commit()
        match_s = time.perf_counter() - began
        began = time.perf_counter()
        again = recon_sql.match(start, end, now=now + timedelta(seconds=1), bank_cutoff=MONTH - timedelta(days=1),
                                actor="bench")
        db.session.commit()
        again_s = time.perf_counter() - began
        conn = db.session.connection().connection.driver_connection
        pg_peak = backend_peak_kb(conn)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"baseline_s": round(baseline_s, 3), "baseline_rows": int(baseline_rows), "match_s": round(match_s, 3),
            "again_s": round(again_s, 3), "steps": steps, "again_new": again["new"], "found": counts["found"],
            "new": counts["new"],
            "peak_mb": round(peak_kb / 1024, 1), "pg_peak_mb": round(pg_peak / 1024, 1) if pg_peak else None}


if __name__ == "__main__":
    sys.exit(main())
