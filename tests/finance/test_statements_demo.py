"""The demo month's statement: the busiest agent point's first half-month, issued once; safe to run twice."""

from __future__ import annotations

from datetime import date

from app import demo
from core.extensions import db
from finance.demo_statements import seed_demo
from finance.statement_models import Statement
from tests.factories import auth
from tests.finance.factories_statements import API, hanoi, pay_cash, points  # noqa: F401


def test_the_demo_issues_one_statement_for_the_busiest_point(app, client, clock, points):  # noqa: F811
    assert "finance.demo_statements" in demo.FINANCE_SEEDS
    for day in (2, 3, 5):
        clock.set(hanoi(2026, 3, day))
        pay_cash(client, points["bd"])
    clock.set(hanoi(2026, 3, 4))
    pay_cash(client, points["hk"])
    clock.set(hanoi(2026, 3, 10))
    with app.app_context():
        first = seed_demo(date(2026, 3, 1))
        assert first == {"issued": "BK-000001", "agent_point": "BC-BD"}
        assert seed_demo(date(2026, 3, 1))["issued"] is None
        assert db.session.query(Statement).count() == 1
    listed = client.get(API, headers=auth(points["finance"])).get_json()
    [issued] = listed["items"]
    assert (issued["from"], issued["to"]) == ("2026-03-01", "2026-03-09")
    shown = client.get(f"{API}/{issued['id']}", headers=auth(points["finance"])).get_json()
    assert shown["genuine"] and shown["figures"]["total"]["collected"]["cash"] == 3 * 220_000
