"""Property tests of the agent statements: every đồng of every payment and refund is on exactly one statement
of a partition of periods, and the statements of two halves of a month add up to the month's."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from core.extensions import db
from dossiers.models import Dossier
from payments.models import LedgerTransaction, Payment, Refund
from tests.factories import auth
from tests.finance.factories_statements import (  # noqa: F401
    API,
    hanoi,
    pay_card,
    pay_cash,
    pay_vietqr,
    points,
    refund,
)

SCOPES = ({}, {"organisation": "VNPOST-HN"}, {"agent_point": "BC-HK"}, {"agent_point": "BC-BD"})
MONEY = ("state_fee_vnd", "service_fee_vnd", "courier_fee_vnd", "cash_net_vnd", "net_vnd", "dossiers_registered",
         "lines")
SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture,
                                                        HealthCheck.too_slow]}


@pytest.fixture
def month(app, client, clock, points):  # noqa: F811
    """Payments by every method over March at both points, two refunds; the clock on 2 April."""
    made = []
    for day, key in ((1, "hk"), (3, "bd"), (9, "hk"), (15, "hk"), (16, "bd"), (31, "bd")):
        clock.set(hanoi(2026, 3, day, 7 + day % 10))
        made.append(pay_cash(client, points[key]))
    clock.set(hanoi(2026, 3, 12))
    made.append(pay_card(client, points["hk"]))
    made.append(pay_vietqr(client, points["bd"], points["finance"], hanoi(2026, 3, 12)))
    clock.set(hanoi(2026, 3, 20))
    refund(client, points["finance"], made[0], 70_000)
    refund(client, points["finance"], made[3], None)
    clock.set(hanoi(2026, 4, 2))
    return points


def _scope_of(app, scope: dict):
    """The ledger transactions of the scope (payments and refunds) and the money in they add up to."""
    with app.app_context():
        query = (select(LedgerTransaction.id).join(Dossier, Dossier.id == LedgerTransaction.dossier_id)
                 .where(LedgerTransaction.kind.in_(("payment", "refund"))))
        payments = select(Payment).join(Dossier, Dossier.id == Payment.dossier_id).where(Payment.paid_at.is_not(None))
        if "agent_point" in scope:
            point_id = db.session.execute(text("SELECT id FROM agent_points WHERE code = :c"),
                                          {"c": scope["agent_point"]}).scalar_one()
            query = query.where(Dossier.agent_point_id == point_id)
            payments = payments.where(Dossier.agent_point_id == point_id)
        ids = set(db.session.scalars(query))
        found = list(db.session.scalars(payments))
        paid = sum(int(p.amount_vnd) for p in found)
        back = sum(int(r.amount_vnd) for r in db.session.scalars(select(Refund).where(
            Refund.status == "succeeded", Refund.payment_id.in_([p.id for p in found] or [0]))))
        return ids, paid - back


def _parts(cuts: list[int]) -> list[tuple[date, date]]:
    """March cut after each day in ``cuts``: consecutive periods covering it exactly."""
    starts = [1, *sorted(c + 1 for c in cuts)]
    ends = [*sorted(cuts), 31]
    return [(date(2026, 3, s), date(2026, 3, e)) for s, e in zip(starts, ends, strict=True)]


def _preview(client, key, scope, start, end) -> dict:
    answer = client.get(f"{API}/preview", headers=auth(key),
                        query_string={**scope, "from": start.isoformat(), "to": end.isoformat()})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["figures"]["total"]


def _lines(client, key, path, **query) -> list[dict]:
    answer = client.get(path, headers=auth(key), query_string={**query, "figure": "all", "page_size": 500})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["total"] == len(body["lines"])
    return body["lines"]


def _in(figures: dict) -> int:
    return figures["collected"]["total"] - figures["refunded"]["total"]


cuts_of_march = st.lists(st.integers(min_value=1, max_value=30), unique=True, max_size=6)


def test_every_dong_is_on_exactly_one_statement_of_a_partition(app, client, month):
    key = month["finance"]
    expected = {i: _scope_of(app, scope) for i, scope in enumerate(SCOPES)}

    @settings(max_examples=25, **SETTINGS)
    @given(cuts=cuts_of_march, which=st.integers(min_value=0, max_value=len(SCOPES) - 1))
    def check(cuts, which):
        scope = SCOPES[which]
        ids, money = expected[which]
        seen: list[int] = []
        total = 0
        for start, end in _parts(cuts):
            lines = _lines(client, key, f"{API}/preview/lines", **scope, **{"from": start.isoformat(),
                                                                            "to": end.isoformat()})
            seen += [line["ledger_transaction_id"] for line in lines]
            figures = _preview(client, key, scope, start, end)
            assert sum(line["amount_vnd"] for line in lines) == _in(figures) and len(lines) == figures["lines"]
            total += _in(figures)
        assert sorted(seen) == sorted(ids)  # each once: no line twice, none missing
        assert total == money

    check()


def test_two_halves_of_a_month_add_up_to_the_month(app, client, month):
    key = month["finance"]
    whole = {i: _preview(client, key, scope, date(2026, 3, 1), date(2026, 3, 31)) for i, scope in enumerate(SCOPES)}
    assert whole[0]["lines"] == 10 and whole[0]["refunded"]["total"] == 70_000 + 220_000

    @settings(max_examples=25, **SETTINGS)
    @given(split=st.integers(min_value=1, max_value=30), which=st.integers(min_value=0, max_value=len(SCOPES) - 1))
    def check(split, which):
        scope = SCOPES[which]
        first = _preview(client, key, scope, date(2026, 3, 1), date(2026, 3, split))
        second = _preview(client, key, scope, date(2026, 3, split + 1), date(2026, 3, 31))
        month_figures = whole[which]
        for name in MONEY:
            assert first[name] + second[name] == month_figures[name], name
        for group in ("collected", "refunded"):
            for method, amount in month_figures[group].items():
                assert first[group][method] + second[group][method] == amount, (group, method)

    check()


def _reset_statements():
    if db.engine.dialect.name == "postgresql":  # TRUNCATE: the frozen tables' triggers refuse DELETE, as they should
        db.session.execute(text("TRUNCATE finance_statement_lines, finance_statements, finance_statement_counters"))
    else:
        for table in ("finance_statement_lines", "finance_statements", "finance_statement_counters"):
            db.session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed names
    db.session.commit()


def test_issued_statements_of_a_partition_hold_every_dong_once_late_corrections_included(app, client, clock, month):
    key = month["finance"]

    @settings(max_examples=8, **SETTINGS)
    @given(cuts=cuts_of_march, which=st.integers(min_value=0, max_value=len(SCOPES) - 1),
           late_day=st.integers(min_value=1, max_value=31))
    def check(cuts, which, late_day):
        scope = SCOPES[which]
        with app.app_context():
            _reset_statements()
        clock.set(hanoi(2026, 4, 2))
        issued = []
        for start, end in _parts(cuts):
            done = client.post(API, json={**scope, "from": start.isoformat(), "to": end.isoformat()},
                               headers=auth(key))
            assert done.status_code == 201, done.get_json()
            issued.append(done.get_json())
        assert [s["number"] for s in issued] == [f"BK-{n:06d}" for n in range(1, len(issued) + 1)]
        # A cash payment committed after its period's statement was issued, then April's first statement.
        clock.set(hanoi(2026, 3, late_day, 11))
        pay_cash(client, month["bd" if scope.get("agent_point") == "BC-BD" else "hk"])
        clock.set(hanoi(2026, 4, 3))
        april = client.post(API, json={**scope, "period": "day", "on": "2026-04-01"}, headers=auth(key))
        assert april.status_code == 201, april.get_json()
        assert april.get_json()["figures"]["corrections"]["collected"]["cash"] == 220_000
        issued.append(april.get_json())

        ids, money = _scope_of(app, scope)
        seen = [line["ledger_transaction_id"] for s in issued for line in _lines(client, key, f"{API}/{s['id']}/lines")]
        assert sorted(seen) == sorted(ids)
        assert sum(_in(s["figures"]["total"]) for s in issued) == money
        for s in issued:  # each as issued: period and corrections add up to its total
            for name in ("state_fee_vnd", "service_fee_vnd", "net_vnd", "lines"):
                assert s["figures"]["period"][name] + s["figures"]["corrections"][name] == s["figures"]["total"][name]

    check()
