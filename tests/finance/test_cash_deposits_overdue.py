"""Cash deposits confirmed from the bank statement; overdue cash in the exception queue and on the agent's page."""

from __future__ import annotations

from datetime import date

import pytest

from core import outbox
from core.extensions import db
from finance.models import ExceptionAction, ExceptionKind, FinanceException
from payments.models import BankStatementLine
from tests import factories
from tests.factories import auth
from tests.finance.factories_cash import (
    collect_cash,
    create_point,
    handover_body,
    hanoi,
    import_statement,
    point_agent,
    statement,
)

AMOUNT = 200_000


@pytest.fixture
def setup(app, clock):
    with app.app_context():
        org = factories.create_org()
        hk = create_point(org, "BC-HK", "Bưu cục Hoàn Kiếm")
        bd = create_point(org, "BC-BD", "Bưu cục Ba Đình")
        _user, hk_key = point_agent(org, hk, "hoankiem@test.vn")
        _user, bd_key = point_agent(org, bd, "badinh@test.vn")
        finance = factories.user_key(factories.create_user(role="finance", email="taichinh@test.vn"))
        other_org = factories.create_org(code="HNTECH", kind="technology")
        tech = create_point(other_org, "HNTECH-APP", "Ứng dụng HNTECH", kind="online")
        _user, tech_key = point_agent(other_org, tech, "tech@test.vn")
    return {"hk": hk_key, "bd": bd_key, "finance": finance, "tech": tech_key}


def _run_outbox(app) -> None:
    with app.app_context():
        while outbox.run_due():
            pass


def _lines(app) -> dict[str, str]:
    with app.app_context():
        return {line.bank_reference: line.outcome for line in db.session.query(BankStatementLine)}


def _items(app, kind: ExceptionKind) -> list[tuple[str, str, int]]:
    with app.app_context():
        return [(i.dedupe_key, i.status.value, int(i.amount_vnd)) for i in
                db.session.query(FinanceException).filter_by(kind=kind).order_by(FinanceException.id)]


def _handovers(client, key) -> dict[str, dict]:
    return {h["reference"]: h for h in client.get("/api/v1/finance/cash/handovers", headers=auth(key)).get_json()
            if h["reverses_id"] is None and h["reversed_by_id"] is None}


def test_a_deposit_is_confirmed_by_its_statement_line_imported_before_or_after(app, client, clock, setup):
    for day in (6, 9, 10):
        collect_cash(client, setup["hk"], clock, hanoi(2026, 3, day))
    fin = setup["finance"]

    # The statement first: its line waits, unexplained, until the handover is recorded.
    early = statement(("10/03/2026 08:30:00", "FT26069000001", AMOUNT, "NOP TIEN MAT DAI LY BC HOAN KIEM"))
    assert import_statement(client, fin, early, "saoke-10-03.csv").status_code == 201
    _run_outbox(app)
    assert _lines(app) == {"FT26069000001": "unmatched"}
    recorded = client.post("/api/v1/finance/cash/handovers", headers=auth(fin),
                           json=handover_body(reference="FT26069000001", amount=AMOUNT))
    assert recorded.status_code == 201, recorded.get_json()
    assert recorded.get_json()["confirmed_by_bank"] is True
    assert _lines(app) == {"FT26069000001": "cash_deposit"}

    # The handover first: the statement's line names its reference in the description.
    second = client.post("/api/v1/finance/cash/handovers", headers=auth(fin),
                         json=handover_body(reference="NT-HK-0002", amount=AMOUNT))
    assert second.status_code == 201 and second.get_json()["confirmed_by_bank"] is False
    # A payout's line that happens to name the reference is left to the payout reconciliation.
    third = client.post("/api/v1/finance/cash/handovers", headers=auth(fin),
                        json=handover_body(reference="NT-HK-0003", amount=AMOUNT - 20_000))
    assert third.status_code == 201
    later = statement(("10/03/2026 15:00:00", "FT26069000777", AMOUNT, "BC HK NOP TIEN NT-HK-0002 NGAY 10/3"),
                      ("10/03/2026 15:30:00", "FT26069000778", AMOUNT, "STRIPE po_1AbC NT-HK-0003"),
                      ("10/03/2026 16:00:00", "NT-HK-0003", AMOUNT - 25_000, "NOP TIEN MAT"))
    assert import_statement(client, fin, later, "saoke-10-03-chieu.csv").status_code == 201
    _run_outbox(app)
    lines = _lines(app)
    assert (lines["FT26069000777"], lines["FT26069000778"], lines["NT-HK-0003"]) == \
        ("cash_deposit", "unmatched", "cash_mismatch")
    found = _handovers(client, fin)
    assert found["NT-HK-0002"]["confirmed_by_bank"] is True
    assert found["NT-HK-0002"]["bank_reference"] == "FT26069000777"
    assert found["NT-HK-0003"]["confirmed_by_bank"] is False

    # The amount differs: an item in the queue with both sides, cleared once the handover is corrected.
    assert _items(app, ExceptionKind.BANK_UNMATCHED) == [("cash_deposit:NT-HK-0003", "open", 5_000)]
    with app.app_context():
        item = db.session.query(FinanceException).filter_by(kind=ExceptionKind.BANK_UNMATCHED).one()
        assert item.ours["amount_vnd"] == AMOUNT - 20_000 and item.theirs["amount_vnd"] == AMOUNT - 25_000
    wrong = found["NT-HK-0003"]["id"]
    assert client.post(f"/api/v1/finance/cash/handovers/{wrong}/reversal", headers=auth(fin),
                       json={"reason": "Nhập sai số tiền"}).status_code == 201
    fixed = client.post("/api/v1/finance/cash/handovers", headers=auth(fin),
                        json=handover_body(reference="NT-HK-0003", amount=AMOUNT - 25_000))
    assert fixed.status_code == 201 and fixed.get_json()["confirmed_by_bank"] is True
    assert _lines(app)["NT-HK-0003"] == "cash_deposit"
    assert _items(app, ExceptionKind.BANK_UNMATCHED) == [("cash_deposit:NT-HK-0003", "resolved", 5_000)]
    held = client.get("/api/v1/finance/cash/holdings", headers=auth(fin)).get_json()[0]
    assert held["held_vnd"] == 3 * AMOUNT - (AMOUNT + AMOUNT + AMOUNT - 25_000)


def test_the_overdue_job_raises_an_item_per_point_and_day_and_clears_it_when_handed_over(app, client, clock, setup):
    collect_cash(client, setup["hk"], clock, hanoi(2026, 3, 9))  # Monday: due by Wednesday
    collect_cash(client, setup["hk"], clock, hanoi(2026, 3, 9, 11))
    collect_cash(client, setup["hk"], clock, hanoi(2026, 3, 10))  # Tuesday: due by Thursday
    collect_cash(client, setup["bd"], clock, hanoi(2026, 3, 11))
    run = outbox.HANDLERS["finance.cash_overdue"]

    clock.set(hanoi(2026, 3, 11, 7))
    with app.app_context():
        run({"occurrence": hanoi(2026, 3, 11, 7).isoformat()})
    assert _items(app, ExceptionKind.CASH_OVERDUE) == []  # Wednesday morning: nothing is late yet

    clock.set(hanoi(2026, 3, 12, 7))  # Thursday
    with app.app_context():
        run({"occurrence": hanoi(2026, 3, 12, 7).isoformat()})
        run({"occurrence": hanoi(2026, 3, 12, 7).isoformat()})  # a second run finds the same item
        point_id = db.session.query(FinanceException).one().agent_point_id
        org_id = db.session.query(FinanceException).one().organisation_id
        scheduled = {m.dedupe_key for m in
                     db.session.query(outbox.OutboxMessage).filter_by(topic="finance.cash_overdue")}
        assert "periodic:finance.cash_overdue:2026-03-13T07:00:00+07:00" in scheduled  # the next morning's run
    key = f"cash_overdue:{org_id}:{point_id}:2026-03-09"
    assert _items(app, ExceptionKind.CASH_OVERDUE) == [(key, "open", 2 * AMOUNT)]

    # Part of Monday's cash handed over: still overdue; all of it: the item is cleared at once.
    fin = setup["finance"]
    assert client.post("/api/v1/finance/cash/handovers", headers=auth(fin), json=handover_body(
        amount=AMOUNT, on=date(2026, 3, 12), method="counter", reference="BL-0001")).status_code == 201
    assert _items(app, ExceptionKind.CASH_OVERDUE) == [(key, "open", 2 * AMOUNT)]
    assert client.post("/api/v1/finance/cash/handovers", headers=auth(fin), json=handover_body(
        amount=AMOUNT, on=date(2026, 3, 12), method="counter", reference="BL-0002")).status_code == 201
    assert _items(app, ExceptionKind.CASH_OVERDUE) == [(key, "resolved", 2 * AMOUNT)]
    with app.app_context():
        item = db.session.query(FinanceException).one()
        assert [a.action for a in item.actions] == [ExceptionAction.DETECTED, ExceptionAction.CLEARED]

    clock.set(hanoi(2026, 3, 13, 7))  # Friday: Tuesday's cash is late now
    with app.app_context():
        run({"occurrence": hanoi(2026, 3, 13, 7).isoformat()})
    assert [k for k, status, _amount in _items(app, ExceptionKind.CASH_OVERDUE) if status == "open"] == \
        [f"cash_overdue:{org_id}:{point_id}:2026-03-10"]


def test_the_agent_sees_its_own_points_cash_on_its_home_page(app, client, clock, setup):
    collect_cash(client, setup["hk"], clock, hanoi(2026, 3, 9))
    collect_cash(client, setup["hk"], clock, hanoi(2026, 3, 10))
    clock.set(hanoi(2026, 3, 11, 10))

    def home(email: str) -> str:
        browser = app.test_client()
        assert factories.sign_in(browser, email).status_code in (302, 303)
        page = browser.get("/portal", headers={"Accept-Language": "en"})
        assert page.status_code == 200
        return page.get_data(as_text=True)

    hk = home("hoankiem@test.vn")
    assert "cash-banner" in hk and "09/03/2026" in hk and "11/03/2026" in hk  # since Monday, due by Wednesday
    assert "400,000" in hk or "400.000" in hk
    assert "overdue" not in hk.split("cash-banner", 1)[1].split("</section>", 1)[0]
    assert "cash-banner" not in home("badinh@test.vn")  # the other point holds nothing
    assert "cash-banner" not in home("tech@test.vn")  # nor does the other organisation

    clock.set(hanoi(2026, 3, 12, 10))
    late = home("hoankiem@test.vn")
    assert 'class="card cash-banner overdue"' in late and 'role="alert"' in late


def test_finance_records_a_handover_through_the_page(app, client, clock, setup):
    collect_cash(client, setup["hk"], clock, hanoi(2026, 3, 9))
    collect_cash(client, setup["bd"], clock, hanoi(2026, 3, 10))
    clock.set(hanoi(2026, 3, 10, 15))
    browser = app.test_client()
    factories.sign_in(browser, "taichinh@test.vn")
    page = browser.get("/finance/cash")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "BC-HK" in html and "BC-BD" in html
    token = factories.csrf_token(browser, "/finance/cash")
    form = {"csrf_token": token, "unit": "VNPOST-HN/BC-HK", "amount": "999.999", "handed_over_on": "2026-03-10",
            "method": "counter", "reference": "BL-WEB-1", "received_by": "Thủ quỹ Lê Văn Cường", "note": ""}
    refused = browser.post("/finance/cash/handovers", data=form, headers={"Accept-Language": "vi"})
    assert refused.status_code == 422
    assert "Vượt số tiền mặt điểm đang giữ" in refused.get_data(as_text=True)
    done = browser.post("/finance/cash/handovers", data={**form, "amount": "150.000"})
    assert done.status_code == 302
    after = browser.get("/finance/cash").get_data(as_text=True)
    assert "BL-WEB-1" in after
    held = client.get("/api/v1/finance/cash/holdings", headers=auth(setup["finance"])).get_json()
    assert {h["agent_point_code"]: h["held_vnd"] for h in held} == {"BC-HK": AMOUNT - 150_000, "BC-BD": AMOUNT}
    agent = app.test_client()
    factories.sign_in(agent, "hoankiem@test.vn")
    assert agent.get("/finance/cash").status_code == 403
