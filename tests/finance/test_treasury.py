"""The treasury report against sums computed here from the raw payments and refunds; transfers; exports; charts."""

from __future__ import annotations

import csv
import html
import io
from collections import defaultdict

from openpyxl import load_workbook
from sqlalchemy import select

from core.extensions import db
from dossiers.models import Dossier, Procedure
from finance.models import ExceptionKind, TreasuryTransfer
from payments.models import LedgerTransaction, Payment, Refund
from tests import factories
from tests.factories import auth, csrf_token
from tests.finance.factories_queue import finance, finance_browser, raise_item  # noqa: F401

API = "/api/v1/finance/reports/treasury"
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
# Province and commune procedures with a sourced state fee (dossiers/data/procedures.csv; no district
# level since 1/7/2025), in three sectors at the province and two at the commune.
PROCEDURES = ("HN-TP-001", "HN-TP-001", "HN-GT-001", "HN-YT-002", "HN-CU-201", "HN-CT-202")


def _paid_month(client, agent_key, finance_key) -> list[str]:
    """Dossiers of both levels paid in cash, one refunded in full and one in part."""
    numbers = []
    for code in PROCEDURES:
        number = factories.create_dossier(client, agent_key, procedure_code=code)["number"]
        paid = client.post(f"/api/v1/dossiers/{number}/payment/cash", headers=auth(agent_key))
        assert paid.status_code == 200, paid.get_json()
        numbers.append(number)
    for number, amount in ((numbers[1], None), (numbers[3], 30_000)):
        refund = client.post(f"/api/v1/dossiers/{number}/refunds", json={"amount_vnd": amount, "reason": "Hồ sơ hủy"},
                             headers=auth(finance_key, **{"Idempotency-Key": f"refund-{number}"}))
        assert refund.status_code == 201, refund.get_json()
    return numbers


def _expected(app) -> tuple[dict, dict]:
    """(level, sector) → (collected, refunded) from the payments and refunds themselves, and the totals."""
    with app.app_context():
        groups: dict = defaultdict(lambda: [0, 0])
        rows = db.session.execute(select(Procedure.level, Procedure.sector, Payment.id, Payment.state_fee_vnd)
                                  .join(Dossier, Dossier.procedure_id == Procedure.id)
                                  .join(Payment, Payment.dossier_id == Dossier.id)
                                  .where(Payment.paid_at.is_not(None))).all()
        for level, sector, payment_id, fee in rows:
            groups[(level.value, sector)][0] += int(fee)
            for refund in db.session.scalars(select(Refund).where(Refund.payment_id == payment_id,
                                                                  Refund.status == "succeeded")):
                groups[(level.value, sector)][1] += int(refund.components.get("state_fee", 0))
        collected = sum(v[0] for v in groups.values())
        refunded = sum(v[1] for v in groups.values())
        return dict(groups), {"collected_vnd": collected, "refunded_vnd": refunded, "net_vnd": collected - refunded}


def test_the_report_adds_up_to_the_payments_and_refunds(app, client, clock, agent_key, finance):  # noqa: F811
    _paid_month(client, agent_key, finance["key"])
    groups, totals = _expected(app)
    assert totals["refunded_vnd"] > 0 and {level for level, _ in groups} == {"province", "commune"}
    report = client.get(API, query_string=MARCH, headers=auth(finance["key"])).get_json()
    assert {(g["level"], g["sector"]): [g["collected_vnd"], g["refunded_vnd"]] for g in report["groups"]} == \
        {key: list(value) for key, value in groups.items()}
    for key in ("collected_vnd", "refunded_vnd", "net_vnd"):
        assert report["totals"][key] == totals[key]
    assert sum(level["net_vnd"] for level in report["levels"]) == totals["net_vnd"]
    assert report["totals"]["transferred_vnd"] == 0 and report["totals"]["outstanding_vnd"] == totals["net_vnd"]
    assert report["payable_now_vnd"] == totals["net_vnd"]
    assert [g["level"] for g in report["groups"]] == sorted(
        (g["level"] for g in report["groups"]), key=["province", "commune"].index)

    february = client.get(API, query_string={"from": "2026-02-01", "to": "2026-02-28"},
                          headers=auth(finance["key"])).get_json()
    assert february["groups"] == [] and february["totals"]["net_vnd"] == 0
    backwards = client.get(API, query_string={"from": "2026-03-31", "to": "2026-03-01"},
                           headers=auth(finance["key"], **{"Accept-Language": "vi"}))
    assert backwards.status_code == 422 and backwards.get_json()["detail"] == "Kỳ báo cáo kết thúc trước khi bắt đầu."
    assert client.get(API, query_string=MARCH, headers=auth(agent_key)).status_code == 403


def test_a_transfer_is_booked_and_never_more_than_is_owed(app, client, clock, agent_key, finance):  # noqa: F811
    _paid_month(client, agent_key, finance["key"])
    _groups, totals = _expected(app)
    owed = totals["net_vnd"]
    transfers = f"{API}/transfers"
    too_much = client.post(transfers, json={"amount_vnd": owed + 1, "transferred_on": "2026-03-10",
                                            "reference": "KB-2026-0001"}, headers=auth(finance["key"]))
    assert too_much.status_code == 422 and too_much.get_json()["errors"][0]["field"] == "amount_vnd"
    for body in ({"amount_vnd": 0, "transferred_on": "2026-03-10", "reference": "KB-0"},
                 {"amount_vnd": 1_000, "transferred_on": "2026-03-11", "reference": "KB-F"},  # tomorrow
                 {"amount_vnd": 1_000, "transferred_on": "2026-03-10", "reference": "  "}):
        assert client.post(transfers, json=body, headers=auth(finance["key"])).status_code == 422, body
    with app.app_context():
        assert db.session.query(TreasuryTransfer).count() == 0
        assert db.session.query(LedgerTransaction).filter_by(kind="treasury_transfer").count() == 0

    done = client.post(transfers, json={"amount_vnd": owed - 5_000, "transferred_on": "2026-03-10",
                                        "reference": "KB-2026-0001", "note": "Nộp đợt 1"}, headers=auth(finance["key"]))
    assert done.status_code == 201, done.get_json()
    assert done.get_json()["recorded_by"] == f"user:{finance['email']}"
    again = client.post(transfers, json={"amount_vnd": 1_000, "transferred_on": "2026-03-10",
                                         "reference": "KB-2026-0001"}, headers=auth(finance["key"]))
    assert again.status_code == 409
    more = client.post(transfers, json={"amount_vnd": 5_001, "transferred_on": "2026-03-10",
                                        "reference": "KB-2026-0002"}, headers=auth(finance["key"]))
    assert more.status_code == 422  # only 5.000 đ are still owed
    balances = {(r["account"], r["party"]): r["balance_vnd"] for r in
                client.get("/api/v1/finance/balances", headers=auth(finance["key"])).get_json()}
    assert balances[("treasury_payable", None)] == -5_000 and balances[("bank", None)] == -(owed - 5_000)
    report = client.get(API, query_string=MARCH, headers=auth(finance["key"])).get_json()
    assert report["totals"]["transferred_vnd"] == owed - 5_000 and report["totals"]["outstanding_vnd"] == 5_000
    assert report["payable_now_vnd"] == 5_000 and report["transfers"][0]["reference"] == "KB-2026-0001"


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_page_exports_and_print(app, client, clock, agent_key, finance, finance_browser):  # noqa: F811
    _paid_month(client, agent_key, finance["key"])
    _groups, totals = _expected(app)
    page = _text(finance_browser.get("/finance/reports/treasury", query_string=MARCH))
    assert "Báo cáo nộp ngân sách" in page and "Cấp tỉnh" in page and "Lý lịch tư pháp" in page
    assert 'href="/finance/reports/treasury.xlsx?from=2026-03-01&amp;to=2026-03-31"' in \
        finance_browser.get("/finance/reports/treasury", query_string=MARCH).get_data(as_text=True)
    default = finance_browser.get("/finance/reports/treasury")  # the month so far
    assert default.status_code == 200 and 'value="2026-03-01"' in default.get_data(as_text=True)
    backwards = finance_browser.get("/finance/reports/treasury", query_string={"from": "2026-03-31", "to": "2026-03-01"})  # noqa: E501
    assert backwards.status_code == 422 and "Kỳ báo cáo kết thúc trước khi bắt đầu." in _text(backwards)

    exported = finance_browser.get("/finance/reports/treasury.csv", query_string=MARCH)
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.get_data().decode("utf-8-sig"))))
    assert rows[0][:4] == ["Cấp", "Lĩnh vực", "Hồ sơ", "Phí, lệ phí đã thu (đồng)"]
    total = next(r for r in rows if r[0] == "Tổng cộng")
    assert [int(total[3]), int(total[4]), int(total[6])] == \
        [totals["collected_vnd"], totals["refunded_vnd"], totals["net_vnd"]]
    assert sum(int(r[3]) for r in rows[1:] if r[0] in ("Cấp tỉnh", "Cấp huyện", "Cấp xã")) == totals["collected_vnd"]

    workbook = finance_browser.get("/finance/reports/treasury.xlsx", query_string=MARCH)
    assert workbook.status_code == 200
    sheet = load_workbook(io.BytesIO(workbook.get_data()))["Treasury"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[1][0] == "Cấp"
    xlsx_total = next(r for r in values if r[0] == "Tổng cộng")
    assert xlsx_total[3] == totals["collected_vnd"] and xlsx_total[6] == totals["net_vnd"]

    printed = _text(finance_browser.get("/finance/reports/treasury/print", query_string=MARCH))
    assert "Phí, lệ phí từ 01/03/2026 đến 31/03/2026" in printed and 'class="fin-nav"' not in printed

    token = csrf_token(finance_browser, "/finance/reports/treasury")
    over = finance_browser.post("/finance/reports/treasury/transfers", query_string=MARCH, data={
        "csrf_token": token, "amount": f"{totals['net_vnd'] + 1}", "transferred_on": "2026-03-10",
        "reference": "KB-9"})
    assert over.status_code == 422 and "Số tiền lớn hơn số còn phải nộp Kho bạc" in _text(over)
    ok = finance_browser.post("/finance/reports/treasury/transfers", query_string=MARCH, data={
        "csrf_token": token, "amount": "10.000", "transferred_on": "2026-03-10", "reference": "KB-10"})
    assert ok.status_code == 302
    assert "KB-10" in _text(finance_browser.get("/finance/reports/treasury", query_string=MARCH))


def test_the_charts_render_svg_with_their_labels(app, client, clock, agent_key, finance, finance_browser):  # noqa: F811
    _paid_month(client, agent_key, finance["key"])
    raise_item(app, ExceptionKind.CASH_OVERDUE, age_days=20)
    raise_item(app, ExceptionKind.BANK_UNMATCHED, age_days=0)
    response = finance_browser.get("/finance/reports/dashboard", query_string={"from": "2026-03-01", "to": "2026-03-10"})  # noqa: E501
    assert response.status_code == 200
    page = _text(response)
    assert page.count("<svg") == 3 and "<script" not in page
    assert "Số tiền thu theo ngày và hình thức thanh toán" in page and "10/03" in page and "01/03" in page
    assert "VNPOST-HN" in page  # the agent holding the cash
    assert "Tiền mặt chưa nộp về" in page and "Khoản ghi có ngân hàng chưa rõ nguồn" in page
    assert "Trên 10 ngày làm việc" in page and "0–1 ngày làm việc" in page
    with app.app_context():
        cash = sum(int(p.amount_vnd) - int(p.refunded_vnd) for p in db.session.scalars(select(Payment)))
    from babel.numbers import format_currency

    assert format_currency(cash, "VND", locale="vi", currency_digits=True) in page  # the agent's cash, in the table
    empty = _text(finance_browser.get("/finance/reports/dashboard", query_string={"from": "2026-02-01",
                                                                                   "to": "2026-02-05"}))
    assert "<svg" in empty
