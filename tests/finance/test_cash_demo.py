"""The demo month's handovers: weekly handovers for every point but one, which stays overdue; safe to run twice."""

from __future__ import annotations

from datetime import date

from core.extensions import db
from finance.demo_cash import seed_demo
from finance.models import CashHandover, ExceptionKind, FinanceException
from payments.models import BankStatementLine
from tests import factories
from tests.factories import auth
from tests.finance.factories_cash import collect_cash, create_point, hanoi, point_agent


def test_the_demo_month_hands_over_cash_and_leaves_one_point_overdue(app, client, clock):
    with app.app_context():
        org = factories.create_org()
        keys = {}
        for code, kind in (("BC-HK", "post_office"), ("BC-BD", "post_office"), ("TB-SS", "tablet")):
            keys[code] = point_agent(org, create_point(org, code, kind=kind), f"{code.lower()}@test.vn")[1]
        finance = factories.user_key(factories.create_user(role="finance", email="taichinh@test.vn"))
    for day in (2, 4, 9, 11, 16):  # March 2026, working days
        for code in ("BC-HK", "BC-BD", "TB-SS"):
            collect_cash(client, keys[code], clock, hanoi(2026, 3, day, 10))
    collect_cash(client, keys["BC-BD"], clock, hanoi(2026, 3, 17, 10))  # Ba Đình holds the most
    clock.set(hanoi(2026, 3, 18, 9))

    with app.app_context():
        first = seed_demo(date(2026, 3, 1))
    assert first["handovers"] == 4 and first["statement_imported"] is True  # two Fridays (6/3, 13/3), two points
    with app.app_context():
        again = seed_demo(date(2026, 3, 1))
        assert again["handovers"] == 0 and again["statement_imported"] is False
        assert db.session.query(CashHandover).count() == 4
        outcomes = sorted(line.outcome for line in db.session.query(BankStatementLine))
        assert outcomes == ["cash_deposit", "cash_mismatch"]  # Hoàn Kiếm's deposits; the second one short
        assert db.session.query(FinanceException).filter_by(kind=ExceptionKind.BANK_UNMATCHED).count() == 1
        overdue = db.session.query(FinanceException).filter_by(kind=ExceptionKind.CASH_OVERDUE).all()
        assert overdue and all(i.ours["agent_point"] == "BC-BD" for i in overdue)
    held = {h["agent_point_code"]: h for h in
            client.get("/api/v1/finance/cash/holdings", headers=auth(finance)).get_json()}
    assert held["BC-BD"]["overdue"] is True and held["BC-BD"]["held_vnd"] == 6 * 200_000
    assert held["BC-HK"]["held_vnd"] == held["TB-SS"]["held_vnd"] == 200_000  # Monday 16's cash, not yet due
