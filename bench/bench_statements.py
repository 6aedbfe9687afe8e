# ruff: noqa: S608 - the generating statements are built from this module's constants; values are bound
"""Agent statement benchmark: an agent point's monthly statement over 100,000 dossiers.

Requirement: on PostgreSQL, the statement page of one agent point for one month in which it took
100,000 dossiers (every one paid: card, VietQR or cash; one in fifty refunded in part) renders in at
most 2 s — the HTML page a finance user opens (figures by method, refunds, fees, net) and the API's
preview — measured against a plain ``COUNT(*)`` of the same rows (the point's ledger entries of the
month, joined to their transactions and dossiers) in the same run, and the ratio printed.

    .venv/bin/python bench/bench_statements.py [--dossiers 100000] [--noise 20000] [--runs 3]

Creates a throw-away database, migrates it, loads the reference data (service points, procedures),
an organisation with two agent points and a finance user, then generates with ``INSERT … SELECT
generate_series`` the dossiers, payments, ledger transactions and entries (balanced, as the service
books them) and the refunds — plus ``--noise`` dossiers at the other point and in the month before,
which the statement must leave out. Checks the figures against sums computed in SQL from the payments
themselves; also times issuing the statement (its 100,000+ lines copied by INSERT … SELECT and signed).
Prints a table, writes bench/results/statements.json, drops the database. Exit code 0 when the target
holds and the figures are right, 1 when not, 2 when PostgreSQL is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TARGET_S = 2.0
MONTH = date(2026, 11, 1)
START = datetime(2026, 10, 31, 17, 0, tzinfo=UTC)  # 1 November 00:00 in Hanoi
SECONDS = 30 * 86400
BEFORE = datetime(2026, 10, 1, 17, 0, tzinfo=UTC)  # in October: noise outside the month
PASSWORD = "bench-password-statements"  # noqa: S105 - a throw-away database's user
METHOD = "(CASE i %% 3 WHEN 0 THEN 'card' WHEN 1 THEN 'vietqr' ELSE 'cash' END)"
ACCOUNT = "(CASE i %% 3 WHEN 0 THEN 'gateway_clearing' WHEN 1 THEN 'bank' ELSE 'cash_at_agents' END)"


def generate(conn: psycopg.Connection, n: int, noise: int, ids: dict) -> dict:
    """``n`` dossiers of the measured point in the month, ``noise`` elsewhere (the other point, October)."""
    total = n + noise
    p = {"n": n, "total": total, **ids, "start": START, "before": BEFORE, "span": SECONDS}
    # Dossier i: the measured point and November when i <= n; else the other point, half of them in October.
    point = "(CASE WHEN i <= %(n)s THEN %(point)s ELSE %(other)s END)"
    ts = ("(CASE WHEN i <= %(n)s OR i %% 2 = 0 THEN %(start)s::timestamptz ELSE %(before)s::timestamptz END"
          " + make_interval(secs => (i::bigint * 7919) %% (%(span)s - 60)))")
    amount = "(220000 + (i %% 50) * 1000)"
    state = "(200000 + (i %% 50) * 1000)"
    steps = [
        ("dossiers", f"""INSERT INTO dossiers (id, number, procedure_id, status, citizen_name, citizen_id_number,
            citizen_phone, lat, lon, location_source, organisation_id, agent_point_id, service_point_id, routing,
            outside_service_radius, delivery_method, fee_vnd, received_at, deadline_at, updated_at, idempotency_owner,
            idempotency_key, request_fingerprint, citizen_id_number_hash, citizen_phone_hash)
            SELECT i, 'BENCH-' || i, %(proc)s, 'received', 'x', 'x', 'x', 21.03, 105.85, 'gps', %(org)s, {point},
                   %(service_point)s, '{{}}', false, 'collect', {state}, {ts}, {ts}, {ts}, 'bench', 'b' || i, 'f',
                   'h', 'h'
            FROM generate_series(1, %(total)s) i"""),
        ("payments", f"""INSERT INTO payments (id, dossier_id, organisation_id, method, status, state_fee_vnd,
            service_fee_vnd, courier_fee_vnd, amount_vnd, refunded_vnd, intent_idempotency_key, transfer_reference,
            paid_at, created_by, created_at, updated_at)
            SELECT i, i, %(org)s, {METHOD}, CASE WHEN i %% 50 = 7 THEN 'partially_refunded' ELSE 'paid' END,
                   {state}, 20000, 0, {amount}, CASE WHEN i %% 50 = 7 THEN 22000 ELSE 0 END, 'k' || i, 'T' || i,
                   {ts}, 'bench', {ts}, {ts}
            FROM generate_series(1, %(total)s) i"""),
        ("ledger: payments", f"""INSERT INTO ledger_transactions (id, kind, reference, dossier_id, booked_at, memo)
            SELECT i, 'payment', 'bench-' || i, i, {ts} + interval '1 second', 'bench payment'
            FROM generate_series(1, %(total)s) i"""),
        ("ledger: refunds", f"""INSERT INTO ledger_transactions (id, kind, reference, dossier_id, booked_at, memo)
            SELECT %(total)s + i, 'refund', 'refund-bench-' || i, i, {ts} + interval '30 seconds', 'bench refund'
            FROM generate_series(1, %(total)s) i WHERE i %% 50 = 7"""),
        ("ledger entries", f"""INSERT INTO ledger_entries (transaction_id, account, party, amount_vnd)
            SELECT i, {ACCOUNT}, CASE WHEN i %% 3 = 2 THEN 'VNPOST-HN' END, {amount}
                FROM generate_series(1, %(total)s) i
            UNION ALL SELECT i, 'treasury_payable', NULL, -{state} FROM generate_series(1, %(total)s) i
            UNION ALL SELECT i, 'agent_payable', 'VNPOST-HN', -20000 FROM generate_series(1, %(total)s) i
            UNION ALL SELECT %(total)s + i, {ACCOUNT}, CASE WHEN i %% 3 = 2 THEN 'VNPOST-HN' END, -22000
                FROM generate_series(1, %(total)s) i WHERE i %% 50 = 7
            UNION ALL SELECT %(total)s + i, 'treasury_payable', NULL, 20000
                FROM generate_series(1, %(total)s) i WHERE i %% 50 = 7
            UNION ALL SELECT %(total)s + i, 'agent_payable', 'VNPOST-HN', 2000
                FROM generate_series(1, %(total)s) i WHERE i %% 50 = 7"""),
        ("sequences", """SELECT setval('dossiers_id_seq', (SELECT max(id) FROM dossiers)),
            setval('payments_id_seq', (SELECT max(id) FROM payments)),
            setval('ledger_transactions_id_seq', (SELECT max(id) FROM ledger_transactions))"""),
        ("analyze", "ANALYZE"),
    ]
    timings = {}
    for name, statement in steps:
        began = time.perf_counter()
        conn.execute(statement, p if "%(" in statement else None)
        conn.commit()
        timings[name] = round(time.perf_counter() - began, 2)
        print(f"  {name:<18} {timings[name]:>7.2f} s", flush=True)
    # What the statement must say, from the payments themselves (not the ledger).
    expected = conn.execute(f"""SELECT count(*), sum(amount_vnd), sum(refunded_vnd),
            sum(CASE WHEN method = 'cash' THEN amount_vnd - refunded_vnd ELSE 0 END), sum(service_fee_vnd)
        FROM payments p JOIN dossiers d ON d.id = p.dossier_id
        WHERE d.agent_point_id = %(point)s AND p.paid_at >= %(start)s
          AND p.paid_at < %(start)s::timestamptz + make_interval(secs => {SECONDS})""", p).fetchone()
    dossiers, paid, refunded, cash_net, service = (int(v) for v in expected)
    service -= 2000 * conn.execute("SELECT count(*) FROM payments p JOIN dossiers d ON d.id = p.dossier_id "
                                   "WHERE d.agent_point_id = %(point)s AND p.refunded_vnd > 0 "
                                   "AND p.paid_at >= %(start)s", p).fetchone()[0]
    return {"timings": timings, "expected": {"dossiers_registered": dossiers, "collected": paid, "refunded": refunded,
                                             "net_vnd": cash_net - service}}


def _csrf(client, path: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def measure(db_url: str, n: int, noise: int, runs: int) -> dict:
    os.environ.update({"DATABASE_URL": db_url, "LOG_LEVEL": "WARNING", "OUTBOX_THREAD": "0"})
    sys.path.insert(0, str(ROOT))
    from flask_migrate import upgrade
    from sqlalchemy import func as sa_func
    from sqlalchemy import select as sa_select
    from sqlalchemy import text

    from app import create_app
    from app.demo import POINTS_CSV, PROCEDURES_CSV
    from core import accounts
    from core.extensions import db
    from core.models import AgentPoint, AgentPointKind
    from core.roles import OrganisationKind, Role
    from dossiers import catalogue
    from geo.points_import import import_points_csv

    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url.replace("postgresql://", "postgresql+psycopg://"),
                      "OUTBOX_THREAD": False})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
        import_points_csv(POINTS_CSV.read_text(encoding="utf-8"))
        catalogue.import_csv(PROCEDURES_CSV.read_text(encoding="utf-8"))
        org = accounts.ensure_organisation("VNPOST-HN", "Bưu điện Hà Nội", OrganisationKind.POSTAL)
        db.session.flush()
        points = [AgentPoint(organisation_id=org.id, code=code, name=name, kind=AgentPointKind.POST_OFFICE)
                  for code, name in (("BC-HK", "Bưu cục Hoàn Kiếm"), ("BC-BD", "Bưu cục Ba Đình"))]
        db.session.add_all(points)
        accounts.ensure_user("ketoan@bench.vn", "Kế toán", Role.FINANCE, PASSWORD, None, None)
        db.session.commit()
        key = accounts.issue_user_key("ketoan@bench.vn").key
        ids = {"org": org.id, "point": points[0].id, "other": points[1].id,
               "proc": db.session.execute(text("SELECT id FROM procedures ORDER BY id LIMIT 1")).scalar_one(),
               "service_point": db.session.execute(text("SELECT id FROM service_points ORDER BY id LIMIT 1"))
               .scalar_one()}
        db.session.commit()
    print(f"generating {n:,} dossiers at BC-HK in November and {noise:,} elsewhere…", flush=True)
    with psycopg.connect(db_url) as conn:
        generated = generate(conn, n, noise, ids)

    query = {"agent_point": "BC-HK", "period": "month", "on": "2026-11-15"}
    client = app.test_client()
    done = client.post("/login", data={"email": "ketoan@bench.vn", "password": PASSWORD,
                                       "csrf_token": _csrf(client, "/login")})
    assert done.status_code == 302, done.status_code
    api = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    with app.app_context():
        baseline, baseline_rows = [], 0
        for _ in range(runs):
            began = time.perf_counter()
            baseline_rows = db.session.execute(text(
                "SELECT COUNT(*) FROM ledger_entries le JOIN ledger_transactions lt ON lt.id = le.transaction_id "
                "JOIN dossiers d ON d.id = lt.dossier_id WHERE d.agent_point_id = :point "
                "AND lt.booked_at >= :start AND lt.booked_at < :start + make_interval(secs => :span)"),
                {"point": ids["point"], "start": START, "span": SECONDS}).scalar_one()
            baseline.append(time.perf_counter() - began)
            db.session.commit()
    if os.environ.get("BENCH_EXPLAIN"):
        with app.app_context():
            from finance import statement_queries as q
            from finance.treasury import Period

            scope = q.point_scope("BC-HK")
            where, correction = q._selection(scope, Period(MONTH, date(2026, 11, 30)), [])
            statement = (sa_select(correction, q.LedgerTransaction.kind, q.LedgerEntry.account, sa_func.count(),
                                   sa_func.sum(q.LedgerEntry.amount_vnd)).select_from(q.LedgerEntry)
                         .join(q.LedgerTransaction, q.LedgerTransaction.id == q.LedgerEntry.transaction_id)
                         .join(q.Dossier, q.Dossier.id == q.LedgerTransaction.dossier_id).where(*where)
                         .group_by(correction, q.LedgerTransaction.kind, q.LedgerEntry.account))
            compiled = statement.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
            for row in db.session.execute(text(f"EXPLAIN ANALYZE {compiled}")):
                print(row[0])
            db.session.rollback()
    page, preview, body = [], [], None
    for _ in range(runs):
        began = time.perf_counter()
        answer = client.get("/finance/statements", query_string=query)
        page.append(time.perf_counter() - began)
        assert answer.status_code == 200, answer.status_code
        began = time.perf_counter()
        body = api.get("/api/v1/finance/statements/preview", query_string=query, headers=headers)
        preview.append(time.perf_counter() - began)
        assert body.status_code == 200, body.get_json()
    figures = body.get_json()["figures"]["total"]
    began = time.perf_counter()
    issued = api.post("/api/v1/finance/statements", json={"agent_point": "BC-HK", "period": "month",
                                                           "on": "2026-11-15"}, headers=headers)
    issue_s = time.perf_counter() - began
    assert issued.status_code == 201, issued.get_json()
    got = {"dossiers_registered": figures["dossiers_registered"], "collected": figures["collected"]["total"],
           "refunded": figures["refunded"]["total"], "net_vnd": figures["net_vnd"]}
    return {"baseline_s": round(min(baseline), 3), "baseline_rows": int(baseline_rows),
            "page_s": round(statistics.median(page), 3), "page_max_s": round(max(page), 3),
            "preview_s": round(statistics.median(preview), 3), "issue_s": round(issue_s, 3),
            "issued_lines": issued.get_json()["figures"]["total"]["lines"], "figures": got, **generated}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dossiers", type=int, default=100_000)
    parser.add_argument("--noise", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--admin-url", default=ADMIN_URL)
    args = parser.parse_args(argv)
    try:
        admin = psycopg.connect(args.admin_url, autocommit=True)
    except psycopg.OperationalError as exc:
        print(f"Cannot reach PostgreSQL at {args.admin_url}: {exc}", file=sys.stderr)
        return 2
    RESULTS.mkdir(parents=True, exist_ok=True)
    db_name = f"bench_statements_{os.getpid()}"
    db_url = args.admin_url.rsplit("/", 1)[0] + f"/{db_name}"
    try:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db_name)))
        print(f"database {db_name}: migrating, loading the reference data…", flush=True)
        figures = measure(db_url, args.dossiers, args.noise, args.runs)
    finally:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db_name)))
        admin.close()
    right = figures["figures"] == figures["expected"]
    worst = max(figures["page_s"], figures["preview_s"])
    passed = worst <= TARGET_S and right
    rows = [("dossiers at the point, in the month", f"{args.dossiers:,} (+{args.noise:,} elsewhere)"),
            ("baseline COUNT(*) of the rows", f"{figures['baseline_s']:.3f} s ({figures['baseline_rows']:,} entries)"),
            ("statement page (HTML), median", f"{figures['page_s']:.3f} s (max {figures['page_max_s']:.3f} s; "
                                              f"target ≤ {TARGET_S:.0f} s)"),
            ("statement preview (API), median", f"{figures['preview_s']:.3f} s"),
            ("ratio page / baseline", f"{figures['page_s'] / figures['baseline_s']:.1f}×"),
            ("issue (lines copied, signed)", f"{figures['issue_s']:.3f} s ({figures['issued_lines']:,} lines)"),
            ("figures right", f"{right} {figures['figures']}"),
            ("cores", str(os.cpu_count()))]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print("PASS" if passed else "FAIL")
    (RESULTS / "statements.json").write_text(json.dumps({"args": vars(args), **figures, "passed": passed},
                                                        indent=2, default=str))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
