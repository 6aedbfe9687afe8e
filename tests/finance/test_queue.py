"""The exception queue through its API and its pages, on PostgreSQL: filters, every action, its refusals, the trail."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from core.extensions import db
from finance.models import ExceptionKind, FinanceExceptionAction
from payments.models import LedgerEntry, LedgerTransaction
from tests import factories
from tests.conftest import USING_POSTGRES
from tests.factories import auth, csrf_token
from tests.finance.factories_queue import finance, finance_browser, finance_user, raise_item  # noqa: F401

API = "/api/v1/finance/exceptions"


def _post(client, key, path, body, lang="vi"):
    return client.post(f"{API}{path}", json=body, headers=auth(key, **{"Accept-Language": lang}))


def _ledger(app, transaction_id):
    with app.app_context():
        txn = db.session.get(LedgerTransaction, transaction_id)
        entries = sorted((e.account, e.party, int(e.amount_vnd)) for e in
                         db.session.query(LedgerEntry).filter_by(transaction_id=transaction_id))
        return txn.kind, txn.reference, entries


def test_list_is_oldest_first_with_filters_and_counts(app, client, clock, finance):  # noqa: F811
    with app.app_context():
        factories.create_org(code="VNPOST-HN")
    old = raise_item(app, ExceptionKind.BANK_UNMATCHED, age_days=20, organisation="VNPOST-HN")
    mid = raise_item(app, ExceptionKind.CASH_OVERDUE, age_days=9, organisation="VNPOST-HN")  # Sunday 1 March
    new = raise_item(app, ExceptionKind.BANK_UNMATCHED, age_days=0)
    listed = client.get(API, headers=auth(finance["key"])).get_json()
    assert [i["id"] for i in listed["items"]] == [old, mid, new] and listed["total"] == 3
    assert listed["counts"]["bank_unmatched"] == 2 and listed["counts"]["cash_overdue"] == 1
    assert listed["counts"]["duplicate"] == 0
    first = listed["items"][0]
    assert first["age_calendar_days"] == 20 and 10 < first["age_working_days"] < 20 and first["age_bucket"] == "11+"
    assert listed["items"][2]["age_working_days"] == 0 and listed["items"][2]["age_bucket"] == "0-1"

    def ids(**query):
        return [i["id"] for i in client.get(API, query_string=query, headers=auth(finance["key"])).get_json()["items"]]

    assert ids(kind="bank_unmatched") == [old, new]
    assert ids(organisation="VNPOST-HN") == [old, mid]
    assert ids(age="11+") == [old] and ids(age="0-1") == [new] and ids(age="2-5") == []
    assert ids(age="6-10") == [mid]  # Mon 2 – Fri 6 and Mon 9 – Tue 10 March: 7 working days
    assert ids(assignee="none") == [old, mid, new] and ids(assignee="me") == []
    assert client.get(API, query_string={"age": "99"}, headers=auth(finance["key"])).status_code == 422


def test_agents_and_officers_cannot_see_the_queue(app, client, agent_key, officer_key):
    raise_item(app)
    assert client.get(API, headers=auth(agent_key)).status_code == 403
    assert client.get(API, headers=auth(officer_key)).status_code == 403


def test_explain_needs_a_reason_resolves_once_and_the_trail_says_who_and_when(app, client, clock, finance):  # noqa: F811
    item = raise_item(app)
    refused = _post(client, finance["key"], f"/{item}/explain", {"reason": "   "})
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    problem = refused.get_json()
    assert problem["detail"] == "Hãy ghi lý do của thao tác này."
    assert problem["errors"][0]["field"] == "reason"
    assert problem["errors"][0]["message_en"] == "Give the reason for this action."
    english = _post(client, finance["key"], f"/{item}/explain", {}, lang="en").get_json()
    assert english["detail"] == "Give the reason for this action."
    assert client.get(f"{API}/{item}", headers=auth(finance["key"])).get_json()["status"] == "open"

    clock.advance(minutes=5)
    done = _post(client, finance["key"], f"/{item}/explain", {"reason": "Khách chuyển nhầm, đã hoàn trả"})
    assert done.status_code == 200
    body = done.get_json()
    assert body["status"] == "resolved" and body["resolved_at"]
    assert [(a["action"], a["actor"]) for a in body["actions"]] == [
        ("detected", "system:reconciliation"), ("explained", f"user:{finance['email']}")]
    assert body["actions"][1]["reason"] == "Khách chuyển nhầm, đã hoàn trả"
    assert body["actions"][1]["at"].startswith("2026-03-10T02:05")  # 09:05 in Hanoi, stored in UTC

    again = _post(client, finance["key"], f"/{item}/explain", {"reason": "lần nữa"}, lang="en")
    assert again.status_code == 409
    assert "already resolved" in again.get_json()["detail"]
    for path, body in ((f"/{item}/assign", {"reason": "x"}), (f"/{item}/link", {"reason": "x", "dossier_number": "X"}),
                       (f"/{item}/adjustments", {"reason": "x", "entries": [
                           {"account": "bank", "amount_vnd": 1}, {"account": "gateway_clearing", "amount_vnd": -1}]})):
        assert _post(client, finance["key"], path, body).status_code == 409, path
    with app.app_context():
        assert db.session.query(FinanceExceptionAction).filter_by(exception_id=item).count() == 2


def test_assign_to_myself_or_to_another_finance_user_only(app, client, clock, finance):  # noqa: F811
    item = raise_item(app)
    colleague = finance_user(app, "thuquy@test.vn")
    with app.app_context():
        officer = factories.create_user(role="branch_officer", email="canbo@test.vn")
        officer_id = officer.id
    mine = _post(client, finance["key"], f"/{item}/assign", {"reason": "Tôi xử lý"}).get_json()
    assert mine["assignee"]["email"] == finance["email"] and mine["status"] == "open"
    theirs = _post(client, finance["key"], f"/{item}/assign", {"reason": "Chuyển thủ quỹ", "user_id": colleague["id"]})
    assert theirs.status_code == 200 and theirs.get_json()["assignee"]["email"] == "thuquy@test.vn"
    refused = _post(client, finance["key"], f"/{item}/assign", {"reason": "Nhầm người", "user_id": officer_id})
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "assignee"
    assert _post(client, finance["key"], f"/{item}/assign", {"reason": ""}).status_code == 422
    listed = client.get(API, query_string={"assignee": colleague["id"]}, headers=auth(finance["key"])).get_json()
    assert [i["id"] for i in listed["items"]] == [item]
    actions = client.get(f"{API}/{item}", headers=auth(finance["key"])).get_json()["actions"]
    assert [a["action"] for a in actions] == ["detected", "assigned", "assigned"]
    assert actions[2]["details"]["previous_user_id"] == finance["id"]


def test_adjustment_is_booked_through_the_ledger_balanced_and_positive(app, client, clock, finance):  # noqa: F811
    item = raise_item(app, ExceptionKind.FEE_MISMATCH, amount_vnd=1_100)
    unbalanced = _post(client, finance["key"], f"/{item}/adjustments", {"reason": "Phí cổng sai", "entries": [
        {"account": "gateway_fees", "amount_vnd": 1_100}, {"account": "gateway_clearing", "amount_vnd": -1_000}]})
    assert unbalanced.status_code == 422
    assert unbalanced.get_json()["detail"] == "Bút toán không cân: tổng nợ và có phải bằng 0."
    zero = _post(client, finance["key"], f"/{item}/adjustments", {"reason": "Phí cổng sai", "entries": [
        {"account": "gateway_fees", "amount_vnd": 0}, {"account": "gateway_clearing", "amount_vnd": 0}]})
    assert zero.status_code == 422 and zero.get_json()["errors"][0]["field"] == "entries.0.amount_vnd"
    one_sided = _post(client, finance["key"], f"/{item}/adjustments", {"reason": "x", "entries": [
        {"account": "gateway_fees", "amount_vnd": 5}]})
    assert one_sided.status_code == 422
    unknown = _post(client, finance["key"], f"/{item}/adjustments", {"reason": "x", "entries": [
        {"account": "petty_cash", "amount_vnd": 5}, {"account": "bank", "amount_vnd": -5}]})
    assert unknown.status_code == 422
    no_reason = _post(client, finance["key"], f"/{item}/adjustments", {"reason": "", "entries": [
        {"account": "gateway_fees", "amount_vnd": 1_100}, {"account": "gateway_clearing", "amount_vnd": -1_100}]})
    assert no_reason.status_code == 422
    with app.app_context():
        assert db.session.query(LedgerTransaction).count() == 0  # every refusal booked nothing

    done = _post(client, finance["key"], f"/{item}/adjustments", {"reason": "Phí cổng thu thêm 1.100 đ", "entries": [
        {"account": "gateway_fees", "amount_vnd": 1_100}, {"account": "gateway_clearing", "amount_vnd": -1_100}]})
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["status"] == "resolved"
    action = body["actions"][-1]
    assert action["action"] == "adjusted" and action["details"]["amount_vnd"] == 1_100
    kind, reference, entries = _ledger(app, action["details"]["ledger_transaction_id"])
    assert kind == "adjustment" and reference == f"exception-{item}-1"
    assert entries == [("gateway_clearing", None, -1_100), ("gateway_fees", None, 1_100)]
    balances = {(r["account"], r["party"]): r["balance_vnd"] for r in
                client.get("/api/v1/finance/balances", headers=auth(finance["key"])).get_json()}
    assert balances[("gateway_fees", None)] == 1_100

    reopened = _post(client, finance["key"], f"/{item}/reopen", {"reason": "Cổng hoàn phí"})
    assert reopened.status_code == 200 and reopened.get_json()["status"] == "open"
    second = _post(client, finance["key"], f"/{item}/adjustments", {"reason": "Cổng hoàn phí 1.100 đ", "entries": [
        {"account": "gateway_clearing", "amount_vnd": 1_100}, {"account": "gateway_fees", "amount_vnd": -1_100}]})
    assert second.status_code == 200
    assert _ledger(app, second.get_json()["actions"][-1]["details"]["ledger_transaction_id"])[1] == \
        f"exception-{item}-2"
    assert [a["action"] for a in second.get_json()["actions"]] == ["detected", "adjusted", "reopened", "adjusted"]
    assert _post(client, finance["key"], f"/{item}/reopen", {"reason": ""}).status_code == 422


def test_link_to_a_dossier_that_exists(app, client, clock, agent_key, finance):  # noqa: F811
    dossier = factories.create_dossier(client, agent_key, procedure_code="HN-TP-001")
    item = raise_item(app, ExceptionKind.BANK_UNMATCHED, theirs={"bank_line": {"content": "HS thieu ma"}})
    unknown = _post(client, finance["key"], f"/{item}/link", {"reason": "Đúng hồ sơ", "dossier_number": "HN-NOPE-1"})
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["field"] == "dossier_number"
    assert unknown.get_json()["detail"] == "Không có hồ sơ số HN-NOPE-1."
    done = _post(client, finance["key"], f"/{item}/link", {"reason": "Nội dung CK thiếu mã; đúng hồ sơ này",
                                                          "dossier_number": dossier["number"].lower()})
    assert done.status_code == 200
    body = done.get_json()
    assert body["status"] == "resolved" and body["linked_dossiers"] == [dossier["number"]]
    assert body["actions"][-1]["details"]["dossier_number"] == dossier["number"]


def test_unknown_item_is_404(client, finance):  # noqa: F811
    assert client.get(f"{API}/999999", headers=auth(finance["key"])).status_code == 404
    assert _post(client, finance["key"], "/999999/explain", {"reason": "x"}).status_code == 404


@pytest.mark.skipif(not USING_POSTGRES, reason="the append-only trigger is PostgreSQL's")
def test_the_database_refuses_to_edit_or_delete_an_action(app, client, finance):  # noqa: F811
    item = raise_item(app)
    _post(client, finance["key"], f"/{item}/explain", {"reason": "Đã đối chiếu"})
    with app.app_context():
        for statement in ("UPDATE finance_exception_actions SET reason = 'sửa lại' WHERE exception_id = :id",
                          "DELETE FROM finance_exception_actions WHERE exception_id = :id"):
            with pytest.raises(DBAPIError, match="append-only"):
                db.session.execute(text(statement), {"id": item})
            db.session.rollback()
        reasons = [r for (r,) in db.session.execute(text(
            "SELECT reason FROM finance_exception_actions WHERE exception_id = :id ORDER BY id"), {"id": item})]
        assert reasons == [None, "Đã đối chiếu"]


def _page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_pages_list_show_and_act_with_a_reason(app, clock, agent_key, finance, finance_browser):  # noqa: F811
    item = raise_item(app, ExceptionKind.AMOUNT_MISMATCH, amount_vnd=50_000, age_days=3,
                      ours={"payment": {"dossier_number": "HN-X-1", "amount_vnd": 200_000}},
                      theirs={"balance_transaction": {"id": "txn_9", "amount": 150_000}})
    listing = _page(finance_browser.get("/finance/exceptions"))
    assert f'href="/finance/exceptions/{item}"' in listing and "Số tiền chênh lệch" in listing
    assert 'href="/finance/exceptions"' in listing  # the finance menu links the section
    page = _page(finance_browser.get(f"/finance/exceptions/{item}"))
    assert "txn_9" in page and 'href="/finance/dossiers/HN-X-1"' in page and "Phát hiện" in page
    assert re.search(r"3 ngày", page)

    token = csrf_token(finance_browser, f"/finance/exceptions/{item}")
    refused = finance_browser.post(f"/finance/exceptions/{item}/explain", data={"csrf_token": token, "reason": ""})
    assert refused.status_code == 422 and "Hãy ghi lý do của thao tác này." in _page(refused)
    adjust = finance_browser.post(f"/finance/exceptions/{item}/adjust", data={
        "csrf_token": token, "reason": "Chênh lệch", "debit_account": "bank", "credit_account": "bank",
        "amount": "0"})
    assert adjust.status_code == 422
    done = finance_browser.post(f"/finance/exceptions/{item}/explain",
                                data={"csrf_token": token, "reason": "Cổng thu phí riêng, đã đối chiếu"})
    assert done.status_code == 302
    shown = _page(finance_browser.get(f"/finance/exceptions/{item}"))
    assert "Cổng thu phí riêng, đã đối chiếu" in shown and f"user:{finance['email']}" in shown
    assert f'href="/finance/exceptions/{item}"' not in _page(finance_browser.get("/finance/exceptions"))
    resolved = _page(finance_browser.get("/finance/exceptions?status=resolved"))
    assert f'href="/finance/exceptions/{item}"' in resolved
