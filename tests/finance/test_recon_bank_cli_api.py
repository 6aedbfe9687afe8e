"""Payouts on the bank statement, the state classes, the CLI, the API and the page of the reconciliation."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.extensions import db
from core.timeutil import FrozenClock, to_local, use_clock, utcnow
from finance.recon_models import GatewayPayout
from payments.models import BankStatementLine
from tests import factories
from tests.factories import auth
from tests.finance.factories_recon import open_items, paid_by_card, period, reconcile, run_payout
from tests.payments.conftest import run_outbox


@pytest.fixture
def finance_key(app):
    with app.app_context():
        return factories.user_key(factories.create_user(role="finance", email="taichinh@test.vn"))


def _statement(rows: list[tuple[str, str, int, str]]) -> bytes:
    head = "Ngày giao dịch;Số tham chiếu;Ghi nợ;Ghi có;Nội dung\n"
    return ("\ufeff" + head + "".join(f"{day} 09:00:00;{ref};0;{amount};{text}\n"
                                     for day, ref, amount, text in rows)).encode()


def _import(client, key, data: bytes, name: str = "saoke.csv"):
    return client.post("/api/v1/finance/bank-statements", headers=auth(key),
                       data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def _payout(app, payout_id):
    with app.app_context():
        payout = db.session.get(GatewayPayout, payout_id)
        return int(payout.amount), payout.arrival_date, payout.bank_line_id


def test_a_payout_on_the_statement_is_linked_by_its_id_and_a_stray_credit_is_queued(app, client, agent_key,
                                                                                   finance_key):
    paid_by_card(app, client, agent_key)
    payout = run_payout(app)
    reconcile(app)
    amount, arrival, _ = _payout(app, payout)
    day = arrival.strftime("%d/%m/%Y")
    answer = _import(client, finance_key, _statement([(day, "FT001", amount, f"STRIPE PAYOUT {payout}"),
                                                      (day, "FT002", 77_000, "CHUYEN TIEN KHONG RO")]))
    assert answer.status_code == 201, answer.get_json()
    run_outbox(app)  # the import's event: payouts matched on the statement
    _, _, line_id = _payout(app, payout)
    with app.app_context():
        assert db.session.get(BankStatementLine, line_id).bank_reference == "FT001"
        assert db.session.get(BankStatementLine, line_id).outcome == "payout"
    reconcile(app)
    assert open_items(app) == [("bank_unmatched", "bank:FT002", 77_000)]


def test_a_payout_is_matched_by_amount_and_date_and_one_never_seen_is_queued_later(app, client, agent_key,
                                                                                  finance_key):
    paid_by_card(app, client, agent_key)
    payout = run_payout(app)
    reconcile(app)
    amount, arrival, _ = _payout(app, payout)
    # Ten days on, the bank statement still has not shown it.
    later = FrozenClock(utcnow() + timedelta(days=10))
    previous = use_clock(later)
    try:
        with app.app_context():
            from finance import recon
            start, end = period()
            recon.reconcile(start - timedelta(days=10), end, actor="test")
    finally:
        use_clock(previous)
    assert open_items(app) == [("payout_not_in_bank", f"payout-bank:{payout}", amount)]
    # It arrives, without its id in the description: the amount within two working days finds it.
    day = (arrival + timedelta(days=1)).strftime("%d/%m/%Y")
    assert _import(client, finance_key, _statement([(day, "FT010", amount, "TT CONG THANH TOAN")])).status_code == 201
    run_outbox(app)
    assert _payout(app, payout)[2] is not None
    reconcile(app)
    assert open_items(app) == []


def test_cli_reconcile_prints_a_summary_per_class(app, client, agent_key):
    paid_by_card(app, client, agent_key)
    start, end = period()
    result = app.test_cli_runner().invoke(args=["finance", "reconcile", "--from", start.isoformat(),
                                                "--to", end.isoformat()])
    assert result.exit_code == 0, result.output
    assert "missing_at_gateway" in result.output and "succeeded" in result.output
    assert "fetched: 1 transactions" in result.output
    backwards = app.test_cli_runner().invoke(args=["finance", "reconcile", "--from", end.isoformat(),
                                                   "--to", start.isoformat()])
    assert backwards.exit_code != 0 and "before it starts" in backwards.output and "trước khi bắt đầu" in \
        backwards.output


def test_api_runs_finance_only_and_bad_periods_refused(app, client, agent_key, finance_key):
    paid_by_card(app, client, agent_key)
    start, end = period()
    body = {"from": start.isoformat(), "to": end.isoformat()}
    assert client.post("/api/v1/finance/reconciliation/runs", json=body, headers=auth(agent_key)).status_code == 403
    started = client.post("/api/v1/finance/reconciliation/runs", json=body, headers=auth(finance_key))
    assert started.status_code == 201, started.get_json()
    assert started.get_json()["status"] == "succeeded" and started.get_json()["from"] == start.isoformat()
    listed = client.get("/api/v1/finance/reconciliation/runs", headers=auth(finance_key)).get_json()
    assert [r["id"] for r in listed] == [started.get_json()["id"]]
    bad = client.post("/api/v1/finance/reconciliation/runs", json={"from": end.isoformat(), "to": start.isoformat()},
                      headers=auth(finance_key))
    assert bad.status_code == 422 and bad.headers["Content-Type"].startswith("application/problem+json")
    with app.app_context():
        from finance.recon_models import ReconciliationRun
        assert len(db.session.scalars(select(ReconciliationRun)).all()) == 1  # nothing recorded for it


def test_page_lists_runs_and_runs_now(app, client, agent_key):
    paid_by_card(app, client, agent_key)
    with app.app_context():
        factories.create_user(role="finance", email="tc2@test.vn")
    factories.sign_in(client, "tc2@test.vn")
    page = client.get("/finance/reconciliation")
    assert page.status_code == 200 and "finance_recon" not in page.get_data(as_text=True)
    token = factories.csrf_token(client, "/finance/reconciliation")
    today = to_local(utcnow()).date()
    done = client.post("/finance/reconciliation/runs", data={"csrf_token": token, "period_from": today.isoformat(),
                                                             "period_to": today.isoformat()})
    assert done.status_code == 302
    listed = client.get("/finance/reconciliation").get_data(as_text=True)
    assert "run-table" in listed and "payout-table" not in listed
    backwards = client.post("/finance/reconciliation/runs", data={
        "csrf_token": token, "period_from": today.isoformat(), "period_to": (today - timedelta(days=3)).isoformat()})
    assert backwards.status_code == 422
