"""Agent statements through the API and the pages, on the database the suite runs on (PostgreSQL in CI)."""

from __future__ import annotations

import html
import io
import json

from openpyxl import load_workbook
from sqlalchemy import func, select, text

from core.extensions import db
from finance.statement_models import Statement, StatementCounter, StatementLine
from tests.factories import auth, csrf_token, sign_in
from tests.finance.factories_statements import (  # noqa: F401
    API,
    hanoi,
    money_in,
    pay_card,
    pay_cash,
    pay_vietqr,
    points,
    refund,
    register,
)

MARCH = {"period": "month", "on": "2026-03-05"}


def _month(client, points, clock):  # noqa: F811
    """At BC-HK: two cash payments (one refunded 50.000 ₫), one card; at BC-BD: VietQR, cash; one registered only."""
    clock.set(hanoi(2026, 3, 2))
    cash_1 = pay_cash(client, points["hk"])
    cash_2 = pay_cash(client, points["hk"])
    card_1 = pay_card(client, points["hk"])
    clock.set(hanoi(2026, 3, 4))
    qr_1 = pay_vietqr(client, points["bd"], points["finance"], hanoi(2026, 3, 4))
    cash_3 = pay_cash(client, points["bd"])
    unpaid = register(client, points["bd"])
    clock.set(hanoi(2026, 3, 5))
    refund(client, points["finance"], cash_2, 50_000)
    return {"cash": [cash_1, cash_2, cash_3], "card": card_1, "vietqr": qr_1, "unpaid": unpaid}


def _preview(client, key, **query):
    answer = client.get(f"{API}/preview", query_string=query, headers=auth(key))
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_figures_per_point_organisation_and_centre_drill_down_to_the_ledger(app, client, clock, points):  # noqa: F811
    made = _month(client, points, clock)
    clock.set(hanoi(2026, 3, 20))
    amount = 220_000  # 200.000 ₫ state fee + 20.000 ₫ service fee
    hk = _preview(client, points["finance"], agent_point="BC-HK", **MARCH)
    assert (hk["from"], hk["to"]) == ("2026-03-01", "2026-03-31") and hk["scope"]["code"] == "BC-HK"
    f = hk["figures"]["total"]
    assert f["dossiers_registered"] == 3
    assert f["collected"] == {"card": amount, "vietqr": 0, "cash": 2 * amount, "total": 3 * amount}
    assert f["refunded"]["cash"] == 50_000 and f["refunded"]["total"] == 50_000
    assert f["state_fee_vnd"] + f["service_fee_vnd"] + f["courier_fee_vnd"] == 3 * amount - 50_000
    assert f["cash_net_vnd"] == 2 * amount - 50_000
    assert f["net_vnd"] == f["cash_net_vnd"] - f["service_fee_vnd"] and f["net_direction"] == "agent_owes_centre"
    assert hk["figures"]["corrections"]["lines"] == 0 and hk["issuable"] is False  # March is not over

    bd = _preview(client, points["finance"], agent_point="BC-BD", **MARCH)["figures"]["total"]
    assert bd["dossiers_registered"] == 3 and bd["collected"] == {"card": 0, "vietqr": amount, "cash": amount,
                                                                   "total": 2 * amount}
    org = _preview(client, points["finance"], organisation="VNPOST-HN", **MARCH)["figures"]["total"]
    whole = _preview(client, points["finance"], **MARCH)["figures"]["total"]
    for key in ("state_fee_vnd", "service_fee_vnd", "courier_fee_vnd", "net_vnd", "dossiers_registered"):
        assert org[key] == whole[key] == f[key] + bd[key], key
    assert whole["collected"]["total"] - whole["refunded"]["total"] == money_in(app)

    # Drill down: the cash lines are the cash dossiers, each with its balanced ledger entries.
    lines = client.get(f"{API}/preview/lines", headers=auth(points["finance"]),
                       query_string={"agent_point": "BC-HK", "figure": "cash", **MARCH}).get_json()
    assert lines["total"] == 3  # two payments and the refund
    assert {line["dossier_number"] for line in lines["lines"]} == set(made["cash"][:2])
    for line in lines["lines"]:
        assert sum(e["amount_vnd"] for e in line["entries"]) == 0
        cash_entry = [e for e in line["entries"] if e["account"] == "cash_at_agents"]
        assert cash_entry[0]["amount_vnd"] == line["amount_vnd"] and cash_entry[0]["party"] == "VNPOST-HN"
    registered = client.get(f"{API}/preview/lines", headers=auth(points["finance"]),
                            query_string={"agent_point": "BC-BD", "figure": "dossiers", **MARCH}).get_json()
    assert made["unpaid"] in {d["dossier_number"] for d in registered["dossiers"]} and registered["total"] == 3

    # The periods: a day, a week, a custom range; outside them, nothing.
    day = _preview(client, points["finance"], agent_point="BC-HK", period="day", on="2026-03-02")
    assert day["figures"]["total"]["collected"]["total"] == 3 * amount
    week = _preview(client, points["finance"], agent_point="BC-BD", period="week", on="2026-03-04")
    assert (week["from"], week["to"]) == ("2026-03-02", "2026-03-08")
    february = _preview(client, points["finance"], **{"from": "2026-02-01", "to": "2026-02-28"})
    assert february["figures"]["total"]["lines"] == 0 and february["figures"]["total"]["dossiers_registered"] == 0


def test_bad_input_is_refused_in_both_languages_and_finance_only(app, client, clock, points):  # noqa: F811
    backwards = {"from": "2026-03-31", "to": "2026-03-01"}
    vi, en = (client.get(f"{API}/preview", query_string=backwards,
                         headers=auth(points["finance"], **{"Accept-Language": lang})) for lang in ("vi", "en"))
    assert vi.status_code == en.status_code == 422
    assert vi.get_json()["detail"] == "Kỳ báo cáo kết thúc trước khi bắt đầu."
    assert en.get_json()["detail"] == "The period ends before it starts."
    issued = client.post(API, json=backwards, headers=auth(points["finance"]))
    assert issued.status_code == 422
    unknown = client.get(f"{API}/preview", query_string={"agent_point": "BC-NONE"}, headers=auth(points["finance"]))
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["field"] == "agent_point"
    for key in (points["hk"], points["org"]):
        assert client.get(f"{API}/preview", headers=auth(key)).status_code == 403
        assert client.post(API, json={"period": "day", "on": "2026-03-02"}, headers=auth(key)).status_code == 403
    not_over = client.post(API, json={"period": "month", "on": "2026-03-10"}, headers=auth(points["finance"]))
    assert not_over.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Statement)) == 0
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {"/api/v1/finance/statements", "/api/v1/finance/statements/preview",
            "/api/v1/finance/statements/{statement_id}/pdf"} <= set(spec["paths"])


def test_issue_numbers_without_gaps_signs_freezes_and_carries_late_corrections(app, client, clock, points):  # noqa: F811
    _month(client, points, clock)
    clock.set(hanoi(2026, 3, 10))
    first_half = {"agent_point": "BC-HK", "from": "2026-03-01", "to": "2026-03-09"}
    done = client.post(API, json=first_half, headers=auth(points["finance"]))
    assert done.status_code == 201, done.get_json()
    issued = done.get_json()
    assert issued["number"] == "BK-000001" and issued["genuine"] is True and issued["alg"] == "Ed25519"
    assert json.loads(issued["canonical"])["figures"] == issued["figures"]
    assert issued["figures"]["total"]["collected"]["total"] == 3 * 220_000

    again = client.post(API, json=first_half, headers=auth(points["finance"], **{"Accept-Language": "vi"}))
    assert again.status_code == 409 and "BK-000001" in again.get_json()["detail"]
    assert "không thay đổi" in again.get_json()["detail"]
    overlap = client.post(API, json={"agent_point": "BC-HK", "period": "day", "on": "2026-03-05"},
                          headers=auth(points["finance"], **{"Accept-Language": "en"}))
    assert overlap.status_code == 409 and "never changes" in overlap.get_json()["detail"]
    other = client.post(API, json={"agent_point": "BC-BD", **{k: first_half[k] for k in ("from", "to")}},
                        headers=auth(points["finance"]))
    assert other.status_code == 201 and other.get_json()["number"] == "BK-000002"  # no gap for the refused ones
    with app.app_context():
        assert db.session.get(StatementCounter, "BK").last_number == 2
        lines_before = db.session.scalar(select(func.count()).select_from(StatementLine))

    # A late correction: a cash payment booked with a date inside the issued period, after it was issued.
    clock.set(hanoi(2026, 3, 6, 15))
    late = pay_cash(client, points["hk"])
    clock.set(hanoi(2026, 3, 20))
    frozen = client.get(f"{API}/{issued['id']}", headers=auth(points["finance"])).get_json()
    assert frozen["figures"] == issued["figures"] and frozen["canonical"] == issued["canonical"]
    preview = _preview(client, points["finance"], agent_point="BC-HK", **{"from": "2026-03-10", "to": "2026-03-19"})
    assert preview["figures"]["corrections"]["collected"]["cash"] == 220_000
    nxt = client.post(API, json={"agent_point": "BC-HK", "from": "2026-03-10", "to": "2026-03-19"},
                      headers=auth(points["finance"])).get_json()
    assert nxt["number"] == "BK-000003"
    assert nxt["figures"]["corrections"]["collected"]["cash"] == 220_000 and nxt["figures"]["period"]["lines"] == 0
    assert nxt["figures"]["total"]["net_vnd"] == 200_000  # the agent keeps its 20.000 ₫
    corrections = client.get(f"{API}/{nxt['id']}/lines", query_string={"figure": "corrections"},
                             headers=auth(points["finance"])).get_json()
    assert [line["dossier_number"] for line in corrections["lines"]] == [late]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StatementLine)) == lines_before + 1
        if db.engine.dialect.name == "postgresql":  # sealed: the database itself refuses a change
            try:
                with db.engine.begin() as conn:
                    conn.execute(text("UPDATE finance_statements SET figures = '{}' WHERE id = :id"),
                                 {"id": issued["id"]})
                raise AssertionError("an issued statement was changed")
            except Exception as exc:  # noqa: BLE001
                assert "never changes" in str(exc)

    listed = client.get(API, query_string={"agent_point": "BC-HK"}, headers=auth(points["finance"])).get_json()
    assert [s["number"] for s in listed["items"]] == ["BK-000003", "BK-000001"]

    pdf = client.get(f"{API}/{issued['id']}/pdf", headers=auth(points["finance"]))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    xlsx = client.get(f"{API}/{nxt['id']}/xlsx", headers=auth(points["finance"]))
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.data))
    figures = {row[0]: row[1:] for row in book.worksheets[0].iter_rows(values_only=True) if row and row[0]}
    assert figures["Thu tiền mặt / Collected in cash"] == (0, 220_000, 220_000)
    lines = list(book.worksheets[1].iter_rows(values_only=True))
    assert len(lines) == 2 and lines[1][2] == late and lines[1][9] is True


def test_the_page_previews_issues_and_refuses_a_second_issue(app, client, clock, points):  # noqa: F811
    _month(client, points, clock)
    clock.set(hanoi(2026, 3, 20))
    with app.app_context():
        from tests import factories
        factories.create_user(role="finance", email="trang@test.vn")
    browser = app.test_client()
    assert sign_in(browser, "trang@test.vn").status_code == 302
    query = {"period": "custom", "from": "2026-03-01", "to": "2026-03-09", "agent_point": "BC-HK"}
    page = browser.get("/finance/statements", query_string=query)  # the user's language: Vietnamese
    assert page.status_code == 200 and page.headers["Cache-Control"] == "private, no-store"
    body = html.unescape(page.get_data(as_text=True))
    assert "Bưu cục Hoàn Kiếm (BC-HK)" in body and "660.000\xa0₫" in body
    drill = browser.get("/finance/statements/lines", query_string={**query, "figure": "card"})
    assert drill.status_code == 200 and "gateway_clearing" in drill.get_data(as_text=True)
    backwards = browser.get("/finance/statements", query_string={"from": "2026-03-09", "to": "2026-03-01"})
    assert backwards.status_code == 422 and "Kỳ báo cáo kết thúc trước khi bắt đầu." in html.unescape(
        backwards.get_data(as_text=True))

    token = csrf_token(browser, "/finance/statements")
    issued = browser.post("/finance/statements/issue", query_string=query, data={"csrf_token": token})
    assert issued.status_code == 302
    shown = browser.get(issued.headers["Location"]).get_data(as_text=True)
    assert "BK-000001" in shown and 'id="statement-genuine"' in shown
    again = browser.post("/finance/statements/issue", query_string=query, data={"csrf_token": token})
    assert again.status_code == 409 and "Kỳ này đã có bảng kê phát hành (BK-000001)" in html.unescape(
        again.get_data(as_text=True))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Statement)) == 1
    assert browser.get(f"{issued.headers['Location']}.pdf").data.startswith(b"%PDF")
