"""The finance workspace as finance staff use it: signed in, through the HTML forms with their CSRF tokens."""

from __future__ import annotations

import html
import io
import re

import pytest
from babel.numbers import format_currency

from core.extensions import db
from payments import statements, vietqr
from payments.models import BankStatementImport, BankStatementLine, LedgerTransaction, Refund
from tests import factories
from tests.factories import auth, csrf_token, sign_in
from tests.payments.conftest import card, pay


def _vnd(amount: int) -> str:
    """An amount as the pages show it in Vietnamese (the ``money`` filter)."""
    return format_currency(amount, "VND", locale="vi", currency_digits=True)


def _statement(*lines: tuple[str, str, int, str]) -> bytes:
    rows = ["Ngày giao dịch;Số tham chiếu;Ghi nợ;Ghi có;Nội dung"]
    rows += [f"{day};{ref};0;{amount:,};{text}".replace(",", ".") for day, ref, amount, text in lines]
    return ("\ufeff" + "\n".join(rows) + "\n").encode()


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def finance_client(app):
    """A browser signed in as finance staff through the real sign-in form."""
    with app.app_context():
        factories.create_user(role="finance", email="ketoan@test.vn")
    browser = app.test_client()
    signed = sign_in(browser, "ketoan@test.vn")
    assert signed.status_code == 302 and signed.headers["Location"].endswith("/staff")
    return browser


def _upload(browser, data: bytes, filename: str = "saoke.csv"):
    return browser.post("/finance/statements", content_type="multipart/form-data",
                        data={"csrf_token": csrf_token(browser, "/finance"), "file": (io.BytesIO(data), filename)})


def _counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return (db.session.query(BankStatementImport).count(), db.session.query(BankStatementLine).count(),
                db.session.query(LedgerTransaction).count())


def test_staff_home_links_the_workspace_and_the_overview_shows_the_ledger(app, client, agent_key, finance_client,
                                                                          dossier):
    home = finance_client.get("/staff").get_data(as_text=True)
    assert 'href="/finance"' in home
    paid = client.post(f"/api/v1/dossiers/{dossier['number']}/payment/cash", headers=auth(agent_key)).get_json()
    amount = paid["amount_vnd"]
    page = finance_client.get("/finance")
    body = _text(page)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "private, no-store"
    assert "cash_at_agents" in body and "treasury_payable" in body
    assert "VNPOST-HN" in body and _vnd(amount) in body and _vnd(200_000) in body
    english = _text(finance_client.get("/finance?lang=en"))
    assert "Cash held by agents" in english and "₫" in english


def test_a_statement_uploaded_through_the_form_pays_the_dossier(app, client, agent_key, finance_client):
    first = factories.create_dossier(client, agent_key, procedure_code="HN-TP-001")["number"]
    second = factories.create_dossier(client, agent_key, procedure_code="HN-TP-001")["number"]
    shown = pay(client, agent_key, first, "vietqr").get_json()
    pay(client, agent_key, second, "vietqr")
    amount = shown["amount_vnd"]
    statement = _statement(
        ("24/11/2026 09:15:02", "FT26328001", amount, f"MBVCB.123.{shown['vietqr']['reference']}.CT NGUYEN VAN AN"),
        ("24/11/2026 09:20:00", "FT26328002", 1_000, f"{vietqr.reference_for(second)} thieu tien"),
        ("24/11/2026 10:00:00", "FT26328003", 50_000, "chuyen tien khong ghi noi dung"),
    )
    response = _upload(finance_client, statement, "saoke-24-11.csv")
    assert response.status_code == 302 and response.headers["Location"] == "/finance"
    paid = client.get(f"/api/v1/dossiers/{first}/payment", headers=auth(agent_key)).get_json()
    assert paid["status"] == "paid" and paid["method"] == "vietqr"
    assert client.get(f"/api/v1/dossiers/{second}/payment", headers=auth(agent_key)).get_json()["status"] == \
        "awaiting"

    page = _text(finance_client.get("/finance"))
    notice = re.search(r'<p class="notice" role="status">(.*?)</p>', page, re.S).group(1)
    assert "saoke-24-11.csv" in notice and _vnd(amount) in notice  # the flashed summary, once
    assert re.findall(r"\d+", notice.replace(_vnd(amount), ""))[-4:] == ["3", "1", "2", "0"]
    assert "saoke-24-11.csv" in page  # the recent imports
    for reference in ("FT26328002", "FT26328003"):  # the lines that paid nothing
        assert reference in page
    assert "FT26328001" not in page  # matched: nothing to look at
    assert f'href="/finance/dossiers/{second}"' in page and _vnd(1_000) in page and _vnd(50_000) in page
    assert "thieu tien" in page and "chuyen tien khong ghi noi dung" in page
    assert paid["receipts"][0]["url"] in _text(finance_client.get(f"/finance/dossiers/{first}"))

    again = _upload(finance_client, statement, "saoke-24-11.csv")
    assert again.status_code == 409 and "Tệp sao kê này đã được nhập." in _text(again)


def test_the_recent_imports_count_credits_in_the_plural_form_of_the_language(app, finance_client):
    one = _statement(("24/11/2026 10:00:00", "FT26328009", 50_000, "chuyen tien khong ghi noi dung"))
    assert _upload(finance_client, one, "mot-dong.csv").status_code == 302
    english = _text(finance_client.get("/finance?lang=en"))
    assert "<li>1 credit</li>" in english and "1 credits" not in english
    assert "<li>1 khoản ghi có</li>" in _text(finance_client.get("/finance?lang=vi"))


def test_an_unreadable_statement_shows_the_vietnamese_reason_and_changes_nothing(app, client, agent_key,
                                                                               finance_client, dossier):
    pay(client, agent_key, dossier["number"], "vietqr")
    before = _counts(app)
    broken = b"a;b\n1;2\n"
    with pytest.raises(statements.StatementError) as reason:
        statements.parse_statement(broken, "x.csv")
    response = _upload(finance_client, broken, "x.csv")
    page = _text(response)
    assert response.status_code == 422 and reason.value.vi in page and reason.value.en not in page
    assert _counts(app) == before
    assert client.get(f"/api/v1/dossiers/{dossier['number']}/payment", headers=auth(agent_key)).get_json()[
        "status"] == "awaiting"
    english = finance_client.post("/finance/statements?lang=en", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(finance_client, "/finance"), "file": (io.BytesIO(broken), "x.csv")})
    assert english.status_code == 422 and reason.value.en in _text(english)

    assert _upload(finance_client, b"not a statement", "saoke.pdf").status_code == 422  # CSV or XML only
    no_token = finance_client.post("/finance/statements", content_type="multipart/form-data",
                                   data={"file": (io.BytesIO(_statement()), "s.csv")})
    assert no_token.status_code in (400, 422)
    assert _counts(app) == before


def _refund_form(browser, number: str) -> dict:
    page = browser.get(f"/finance/dossiers/{number}").get_data(as_text=True)
    fields = dict(re.findall(r'<input[^>]*name="(csrf_token|idempotency_key)"[^>]*value="([^"]+)"', page))
    assert set(fields) == {"csrf_token", "idempotency_key"}
    return fields


def test_a_refund_form_posted_twice_refunds_once(app, client, agent_key, finance_key, finance_client, dossier):
    number = dossier["number"]
    pay(client, agent_key, number)
    total = card(client, agent_key, number).get_json()["amount_vnd"]
    page = _text(finance_client.get(f"/finance/dossiers/{number}"))
    assert number in page and _vnd(total) in page and _vnd(200_000) in page
    form = _refund_form(finance_client, number)
    assert _refund_form(finance_client, number)["idempotency_key"] != form["idempotency_key"]  # one per rendering

    data = {**form, "amount": "50.000", "reason": "Không thực hiện chuyển phát"}
    first = finance_client.post(f"/finance/dossiers/{number}/refunds", data=data)
    second = finance_client.post(f"/finance/dossiers/{number}/refunds", data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == f"/finance/dossiers/{number}"
    with app.app_context():
        assert [int(r.amount_vnd) for r in db.session.query(Refund)] == [50_000]
    payment = client.get(f"/api/v1/dossiers/{number}/payment", headers=auth(finance_key)).get_json()
    assert payment["status"] == "partially_refunded" and payment["refunded_vnd"] == 50_000
    shown = _text(finance_client.get(f"/finance/dossiers/{number}"))
    assert _vnd(50_000) in shown and "Không thực hiện chuyển phát" in shown and _vnd(total - 50_000) in shown
    assert [r["kind"] for r in payment["receipts"]] == ["payment", "refund"]
    assert payment["receipts"][1]["url"] in shown

    too_much = finance_client.post(f"/finance/dossiers/{number}/refunds", data={
        **_refund_form(finance_client, number), "amount": str(total), "reason": "Nhầm số tiền"})
    assert too_much.status_code == 422 and _vnd(total - 50_000) in _text(too_much)
    short_reason = finance_client.post(f"/finance/dossiers/{number}/refunds", data={
        **_refund_form(finance_client, number), "reason": "x"})
    assert short_reason.status_code == 422
    rest = finance_client.post(f"/finance/dossiers/{number}/refunds", data={
        **_refund_form(finance_client, number), "amount": "", "reason": "Hoàn phần còn lại"})
    assert rest.status_code == 302
    nothing_left = finance_client.post(f"/finance/dossiers/{number}/refunds", data={
        **form, "idempotency_key": "another-key-0000000001", "amount": "1", "reason": "Thêm nữa"})
    assert nothing_left.status_code == 409 and "Khoản này đã được hoàn hết." in _text(nothing_left)
    with app.app_context():
        assert sorted(int(r.amount_vnd) for r in db.session.query(Refund)) == sorted([50_000, total - 50_000])


def test_an_unpaid_dossier_has_nothing_to_refund(app, client, agent_key, finance_client, dossier):
    number = dossier["number"]
    none_yet = finance_client.get(f"/finance/dossiers/{number}")
    assert none_yet.status_code == 404 and f"Hồ sơ {number} chưa có khoản thanh toán." in _text(none_yet)
    assert finance_client.get("/finance/dossiers/NO-SUCH-NUMBER").status_code == 404
    pay(client, agent_key, number, "vietqr")
    assert finance_client.get(f"/finance/dossiers/{number}").status_code == 200
    refused = finance_client.post(f"/finance/dossiers/{number}/refunds", data={
        **_refund_form_tokens(finance_client), "reason": "Chưa thanh toán"})
    assert refused.status_code == 409 and "chưa được thanh toán" in _text(refused)
    with app.app_context():
        assert db.session.query(Refund).count() == 0


def _refund_form_tokens(browser) -> dict:
    return {"csrf_token": csrf_token(browser, "/finance"), "idempotency_key": "a-key-made-by-the-page-01"}


def test_the_search_box_opens_the_dossier(finance_client, client, agent_key, dossier):
    number = dossier["number"]
    found = finance_client.get("/finance", query_string={"dossier": f"  {number.lower()} "})
    assert found.status_code == 302 and found.headers["Location"] == f"/finance/dossiers/{number}"
    assert finance_client.get("/finance", query_string={"dossier": ""}).status_code == 422


def test_fee_rules_are_versioned_through_the_form(app, client, agent_key, finance_key, finance_client):
    page = finance_client.get("/finance/organisations/VNPOST-HN/fee-rules")
    assert page.status_code == 200
    token = csrf_token(finance_client, "/finance/organisations/VNPOST-HN/fee-rules")
    form = {"csrf_token": token, "effective_from": "2030-01-01", "flat_vnd": "10.000", "percent": "2,5",
            "minimum_vnd": "15.000", "maximum_vnd": "50.000"}
    added = finance_client.post("/finance/organisations/VNPOST-HN/fee-rules", data=form)
    assert added.status_code == 302
    rules = client.get("/api/v1/organisations/VNPOST-HN/fee-rules",
                       headers=auth(finance_key)).get_json()["rules"]
    assert [(r["effective_from"], r["flat_vnd"], r["percent"], r["minimum_vnd"], r["maximum_vnd"])
            for r in rules if r["effective_from"] == "2030-01-01"] == [("2030-01-01", 10_000, "2.500", 15_000, 50_000)]
    same_day = finance_client.post("/finance/organisations/VNPOST-HN/fee-rules", data=form)
    assert same_day.status_code == 409 and "Đã có biểu phí có hiệu lực từ ngày này" in _text(same_day)
    upside_down = finance_client.post("/finance/organisations/VNPOST-HN/fee-rules", data={
        **form, "effective_from": "2030-02-01", "maximum_vnd": "1.000"})
    assert upside_down.status_code == 422
    assert finance_client.get("/finance/organisations/NOPE/fee-rules").status_code == 404


def test_agents_are_refused_and_visitors_sent_to_sign_in(app, client, agent_key):
    with app.app_context():
        factories.create_user("agent", email="lan@test.vn", org=factories.create_org())
    visitor = app.test_client()
    for path in ("/finance", "/finance/dossiers/X-1", "/finance/organisations/VNPOST-HN/fee-rules"):
        response = visitor.get(path)
        assert response.status_code == 302 and "/login?next=" + path in response.headers["Location"]
    agent = app.test_client()
    sign_in(agent, "lan@test.vn")
    assert agent.get("/finance", headers={"Accept": "text/html"}).status_code == 403
    assert agent.get("/finance/dossiers/X-1", headers={"Accept": "text/html"}).status_code == 403
    token = csrf_token(agent, "/portal")
    assert agent.post("/finance/statements", data={"csrf_token": token, "file": (io.BytesIO(_statement()), "s.csv")},
                      content_type="multipart/form-data").status_code == 403
    assert "/finance" not in agent.get("/portal").get_data(as_text=True)
    assert client.get("/finance", headers=auth(agent_key)).status_code == 403  # an agent's bearer key too


@pytest.mark.parametrize("amount", ["10000000000000000000", "9" * 5000])
def test_a_fee_past_any_amount_is_refused_by_the_form(client, agent_key, finance_key, finance_client, amount):
    token = csrf_token(finance_client, "/finance/organisations/VNPOST-HN/fee-rules")
    refused = finance_client.post("/finance/organisations/VNPOST-HN/fee-rules", data={
        "csrf_token": token, "effective_from": "2030-03-01", "flat_vnd": amount, "percent": "0", "minimum_vnd": "0"})
    assert refused.status_code == 422
    assert "Số tiền lớn hơn mọi khoản phí hay khoản thanh toán" in _text(refused)
    rules = client.get("/api/v1/organisations/VNPOST-HN/fee-rules", headers=auth(finance_key)).get_json()["rules"]
    assert "2030-03-01" not in [r["effective_from"] for r in rules]


def test_the_flashed_import_summary_counts_in_the_plural_form_of_the_language(app, client, agent_key,
                                                                              finance_client):
    number = factories.create_dossier(client, agent_key, procedure_code="HN-TP-001")["number"]
    shown = pay(client, agent_key, number, "vietqr").get_json()
    statement = _statement(
        ("24/11/2026 09:15:02", "FT26329001", shown["amount_vnd"], f"{shown['vietqr']['reference']} NGUYEN VAN AN"),
        ("24/11/2026 10:00:00", "FT26329002", 50_000, "chuyen tien khong ghi noi dung"),
    )
    def upload(data: bytes, filename: str, lang: str):
        return finance_client.post(f"/finance/statements?lang={lang}", content_type="multipart/form-data", data={
            "csrf_token": csrf_token(finance_client, "/finance"), "file": (io.BytesIO(data), filename)})

    assert upload(statement, "two.csv", "en").status_code == 302
    page = _text(finance_client.get("/finance?lang=en"))
    notice = re.search(r'<p class="notice" role="status">(.*?)</p>', page, re.S).group(1)
    assert "Statement two.csv imported: 2 credits; 1 transfer matched" in notice
    assert "1 needs attention; 0 already imported." in notice
    assert "transfers matched" not in notice and "need attention" not in notice.replace("needs attention", "")

    one = _statement(("25/11/2026 10:00:00", "FT26329003", 70_000, "khong ro noi dung"))
    assert upload(one, "one.csv", "vi").status_code == 302  # in Vietnamese: one form for every number
    notice = re.search(r'<p class="notice" role="status">(.*?)</p>', _text(finance_client.get("/finance?lang=vi")),
                       re.S).group(1)
    assert "Đã nhập sao kê one.csv: 1 khoản ghi có; 0 khoản chuyển đã khớp" in notice
    assert "1 khoản cần xem lại; 0 khoản đã nhập trước đó." in notice
