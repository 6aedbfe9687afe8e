"""Cash held by agent points: FIFO age in working days, handovers and their refusals, reversals, the ledger."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.extensions import db
from dossiers.deadlines import add_working_days
from finance.cash_holdings import working_days_between
from finance.models import CashHandover
from payments.models import LedgerEntry
from tests import factories
from tests.factories import auth
from tests.finance.factories_cash import collect_cash, create_point, handover_body, hanoi, point_agent

AMOUNT = 200_000  # HN-TP-001's state fee, no service fee, collected at the point


@pytest.fixture
def setup(app, clock):
    """The postal organisation with two post offices (an agent at each) and a technology company's key."""
    with app.app_context():
        org = factories.create_org()
        hk = create_point(org, "BC-HK", "Bưu cục Hoàn Kiếm")
        bd = create_point(org, "BC-BD", "Bưu cục Ba Đình")
        _user, hk_key = point_agent(org, hk, "hoankiem@test.vn")
        _user, bd_key = point_agent(org, bd, "badinh@test.vn")
        finance = factories.user_key(factories.create_user(role="finance", email="taichinh@test.vn"))
        other = factories.org_key(factories.create_org(code="HNTECH", kind="technology"))
    return {"hk": hk_key, "bd": bd_key, "finance": finance, "other": other}


def _holdings(client, key, **query) -> dict[str | None, dict]:
    response = client.get("/api/v1/finance/cash/holdings", headers=auth(key), query_string=query)
    assert response.status_code == 200, response.get_json()
    return {row["agent_point_code"]: row for row in response.get_json()}


def _record(client, key, **body):
    return client.post("/api/v1/finance/cash/handovers", headers=auth(key), json=handover_body(**body))


def _cash_at_agents(app, party: str = "VNPOST-HN") -> int:
    with app.app_context():
        return int(sum(e.amount_vnd for e in db.session.query(LedgerEntry).filter_by(account="cash_at_agents",
                                                                                    party=party)))


def test_age_is_counted_in_working_days_from_the_oldest_cash_not_handed_over(app, client, clock, setup):
    collect_cash(client, setup["hk"], clock, hanoi(2026, 3, 6))  # Friday
    collect_cash(client, setup["hk"], clock, hanoi(2026, 3, 9))  # Monday
    collect_cash(client, setup["hk"], clock, hanoi(2026, 3, 10, 16))  # Tuesday
    collect_cash(client, setup["bd"], clock, hanoi(2026, 3, 10, 10))
    clock.set(hanoi(2026, 3, 11, 8))  # Wednesday

    rows = _holdings(client, setup["finance"])
    hk = rows["BC-HK"]
    assert (hk["collected_vnd"], hk["handed_over_vnd"], hk["held_vnd"]) == (3 * AMOUNT, 0, 3 * AMOUNT)
    assert hk["since"] == "2026-03-06" and hk["age_working_days"] == 3  # Monday, Tuesday, Wednesday
    assert hk["due_by"] == "2026-03-10" and hk["overdue"] is True
    assert hk["overdue_vnd"] == AMOUNT  # Monday's cash is due by Wednesday: still on time
    bd = rows["BC-BD"]
    assert (bd["held_vnd"], bd["since"], bd["age_working_days"], bd["overdue"]) == (AMOUNT, "2026-03-10", 1, False)
    assert list(rows) == ["BC-HK", "BC-BD"]  # the overdue point first

    # Friday's cash and part of Monday's handed over: the oldest cash left is Monday's.
    done = _record(client, setup["finance"], amount=AMOUNT + 50_000, on=date(2026, 3, 11))
    assert done.status_code == 201, done.get_json()
    hk = _holdings(client, setup["finance"])["BC-HK"]
    assert (hk["held_vnd"], hk["since"], hk["age_working_days"]) == (2 * AMOUNT - 50_000, "2026-03-09", 2)
    assert (hk["due_by"], hk["overdue"], hk["overdue_vnd"]) == ("2026-03-11", False, 0)
    clock.set(hanoi(2026, 3, 12))
    hk = _holdings(client, setup["finance"])["BC-HK"]
    assert hk["overdue"] is True and hk["overdue_vnd"] == AMOUNT - 50_000  # what is left of Monday's

    orgs = client.get("/api/v1/finance/cash/organisations", headers=auth(setup["finance"])).get_json()
    assert [(o["organisation_code"], o["held_vnd"], o["since"]) for o in orgs] == \
        [("VNPOST-HN", 3 * AMOUNT - 50_000, "2026-03-09")]
    # Every đồng the points hold is what the ledger says the organisation still owes in cash.
    assert _cash_at_agents(app) == 3 * AMOUNT - 50_000


def test_public_holidays_do_not_count(app, client, clock, setup):
    collect_cash(client, setup["hk"], clock, hanoi(2026, 4, 29))  # Wednesday before 30/4 and 1/5
    clock.set(hanoi(2026, 5, 5))  # Tuesday: 30/4, 1/5 and the weekend do not count
    hk = _holdings(client, setup["finance"])["BC-HK"]
    assert (hk["age_working_days"], hk["due_by"], hk["overdue"]) == (2, "2026-05-05", False)
    clock.set(hanoi(2026, 5, 6))
    assert _holdings(client, setup["finance"])["BC-HK"]["overdue"] is True


def test_a_cash_refund_reduces_what_the_point_holds(app, client, clock, setup):
    first = collect_cash(client, setup["hk"], clock, hanoi(2026, 3, 9))
    collect_cash(client, setup["hk"], clock, hanoi(2026, 3, 10))
    refunded = client.post(f"/api/v1/dossiers/{first['number']}/refunds", json={"reason": "Thu nhầm"},
                           headers=auth(setup["finance"], **{"Idempotency-Key": "cash-refund-1"}))
    assert refunded.status_code == 201, refunded.get_json()
    hk = _holdings(client, setup["finance"])["BC-HK"]
    assert (hk["collected_vnd"], hk["held_vnd"], hk["since"]) == (AMOUNT, AMOUNT, "2026-03-10")
    assert _cash_at_agents(app) == AMOUNT


def _nothing_recorded(app) -> None:
    with app.app_context():
        assert db.session.query(CashHandover).count() == 0


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"amount": 2 * AMOUNT + 1}, 422, "amount_vnd"),  # more than the point holds
    ({"amount": 0}, 422, "amount_vnd"),
    ({"amount": -5_000}, 422, "amount_vnd"),
    ({"on": date(2026, 3, 11)}, 422, "handed_over_on"),  # tomorrow
    ({"on": date(2026, 3, 6), "amount": AMOUNT}, 422, "handed_over_on"),  # before any of it was collected
    ({"on": date(2026, 3, 9), "amount": AMOUNT + 1}, 422, "handed_over_on"),  # more than was collected by then
    ({"agent_point": "BC-TECH"}, 422, "agent_point"),  # another organisation's point
    ({"organisation": "NOPE", "agent_point": None}, 422, "organisation"),
    ({"reference": "   "}, 422, "reference"),
])
def test_a_handover_that_cannot_be_right_is_refused_and_changes_nothing(app, client, clock, setup, body, status,
                                                                         field):
    with app.app_context():
        create_point(factories.create_org(code="HNTECH", kind="technology"), "BC-TECH")
    collect_cash(client, setup["hk"], clock, hanoi(2026, 3, 9))
    collect_cash(client, setup["hk"], clock, hanoi(2026, 3, 10))
    refused = _record(client, setup["finance"], **body)
    problem = refused.get_json()
    assert refused.status_code == status, problem
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert any(e.get("field") == field for e in problem.get("errors", [])), problem
    assert problem["errors"][0]["message_vi"] and problem["errors"][0]["message_en"]
    _nothing_recorded(app)
    assert _cash_at_agents(app) == 2 * AMOUNT
    assert _holdings(client, setup["finance"])["BC-HK"]["held_vnd"] == 2 * AMOUNT


def test_a_reference_is_recorded_once_and_a_reversed_handover_frees_it(app, client, clock, setup):
    collect_cash(client, setup["hk"], clock, hanoi(2026, 3, 9))
    collect_cash(client, setup["bd"], clock, hanoi(2026, 3, 10))
    first = _record(client, setup["finance"], amount=150_000, reference="BL-2026-0001", method="counter")
    assert first.status_code == 201 and first.get_json()["method"] == "counter"
    again = _record(client, setup["finance"], agent_point="BC-BD", amount=10_000, reference="bl-2026-0001",
                    method="counter")
    assert again.status_code == 409, again.get_json()
    assert "BL-2026-0001" in again.get_json()["detail"].upper()

    # Recorded for the wrong point: reversed (the original stays), then recorded again with the same receipt.
    handover_id = first.get_json()["id"]
    no_reason = client.post(f"/api/v1/finance/cash/handovers/{handover_id}/reversal", headers=auth(setup["finance"]),
                            json={"reason": ""})
    assert no_reason.status_code == 422
    reversed_ = client.post(f"/api/v1/finance/cash/handovers/{handover_id}/reversal",
                            headers=auth(setup["finance"]), json={"reason": "Ghi nhầm điểm đại lý"})
    assert reversed_.status_code == 201, reversed_.get_json()
    assert reversed_.get_json()["reverses_id"] == handover_id
    twice = client.post(f"/api/v1/finance/cash/handovers/{handover_id}/reversal", headers=auth(setup["finance"]),
                        json={"reason": "Lần nữa"})
    assert twice.status_code == 409
    assert _holdings(client, setup["finance"])["BC-HK"]["held_vnd"] == AMOUNT
    right = _record(client, setup["finance"], agent_point="BC-BD", amount=150_000, reference="BL-2026-0001",
                    method="counter")
    assert right.status_code == 201, right.get_json()
    rows = _holdings(client, setup["finance"])
    assert (rows["BC-HK"]["held_vnd"], rows["BC-BD"]["held_vnd"]) == (AMOUNT, AMOUNT - 150_000)

    history = client.get("/api/v1/finance/cash/handovers", headers=auth(setup["finance"])).get_json()
    assert [(h["agent_point_code"], h["reverses_id"] is not None, h["reversed_by_id"] is not None)
            for h in history] == [("BC-BD", False, False), ("BC-HK", True, False), ("BC-HK", False, True)]
    with app.app_context():
        till = sum(int(e.amount_vnd) for e in db.session.query(LedgerEntry).filter_by(account="cash_at_centre"))
    assert till == 150_000  # booked, reversed, booked again
    assert _cash_at_agents(app) == 2 * AMOUNT - 150_000


def test_only_finance_and_admin_reach_the_cash_api(app, client, clock, setup):
    for key in (setup["hk"], setup["other"]):
        assert client.get("/api/v1/finance/cash/holdings", headers=auth(key)).status_code == 403
        assert _record(client, key).status_code == 403
    _nothing_recorded(app)
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/finance/cash/handovers" in spec["paths"]


@given(start=st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)), days=st.integers(0, 30))
def test_working_days_between_counts_what_add_working_days_adds(start, days):
    due = add_working_days(start, days)
    assert working_days_between(start, due) == days
    assert working_days_between(start, due - timedelta(days=1)) == max(days - 1, 0)
    assert working_days_between(due, start) == 0
