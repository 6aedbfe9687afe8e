"""Fees and the double-entry ledger: examples and properties."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments import ledger
from payments.fees import CourierBand, ServiceFeeRule, courier_fee, quote, rule_on
from payments.ledger import Account, Entry, Transaction, UnbalancedTransaction
from tests.factories import auth

dong = st.integers(min_value=0, max_value=50_000_000)


def test_service_fee_flat_percentage_minimum_maximum():
    rule = ServiceFeeRule(date(2025, 1, 1), flat_vnd=5_000, percent=Decimal("10"), minimum_vnd=20_000,
                          maximum_vnd=100_000)
    assert rule.amount(0) == 20_000  # the minimum
    assert rule.amount(200_000) == 25_000  # 5.000 + 10% of 200.000
    assert rule.amount(5_000_000) == 100_000  # the maximum
    assert ServiceFeeRule(date(2025, 1, 1), percent=Decimal("2.5")).amount(15_000) == 375


def test_rules_are_versioned_by_effective_date():
    rules = [ServiceFeeRule(date(2025, 1, 1), flat_vnd=20_000), ServiceFeeRule(date(2026, 7, 1), flat_vnd=25_000)]
    assert rule_on(rules, date(2024, 12, 31)) is None
    assert rule_on(rules, date(2026, 6, 30)).flat_vnd == 20_000
    assert rule_on(rules, date(2026, 7, 1)).flat_vnd == 25_000


def test_courier_bands():
    assert [courier_fee(km) for km in (0.5, 5.0, 5.01, 29.9, 120)] == [22_000, 22_000, 30_000, 38_000, 45_000]
    with pytest.raises(ValueError):
        courier_fee(10, [CourierBand(5, 1)])


def test_a_quote_is_the_sum_of_its_components():
    q = quote(200_000, [ServiceFeeRule(date(2025, 1, 1), flat_vnd=20_000)], date(2026, 11, 24), delivery_km=3.2)
    assert q.components() == {"state_fee": 200_000, "service_fee": 20_000, "courier_fee": 22_000}
    assert q.total_vnd == 242_000


@given(state=dong, flat=dong, pct=st.decimals(0, 100, places=2), lo=dong, span=st.one_of(st.none(), dong))
def test_service_fee_is_whole_dong_within_its_bounds(state, flat, pct, lo, span):
    hi = None if span is None else lo + span
    fee = ServiceFeeRule(date(2025, 1, 1), flat, pct, lo, hi).amount(state)
    assert isinstance(fee, int) and fee >= lo and (hi is None or fee <= hi)


def test_unbalanced_or_fractional_transactions_are_refused():
    with pytest.raises(UnbalancedTransaction):
        Transaction("payment", "pi_1", (Entry(Account.BANK, 100), Entry(Account.TREASURY_PAYABLE, -99)))
    with pytest.raises(UnbalancedTransaction):
        Transaction("payment", "pi_1", (Entry(Account.BANK, 100.5), Entry(Account.TREASURY_PAYABLE, -100.5)))
    with pytest.raises(UnbalancedTransaction):
        Transaction("payment", "pi_1", (Entry(Account.BANK, 0), Entry(Account.TREASURY_PAYABLE, 0)))


@given(state=dong, service=dong, courier=dong, fee=st.integers(1, 10_000), refund_share=st.floats(0, 1))
def test_every_transaction_sums_to_zero_and_the_books_balance(state, service, courier, fee, refund_share):
    components = {"state_fee": state, "service_fee": service, "courier_fee": courier}
    if not sum(components.values()):
        return
    books = [ledger.payment("pi_1", components, agent="VNPOST-HN"), ledger.gateway_fee("txn_1", fee)]
    refunded = {name: int(amount * refund_share) for name, amount in components.items()}
    if sum(refunded.values()):
        books.append(ledger.refund("re_1", refunded, agent="VNPOST-HN"))
    assert all(sum(e.amount_vnd for e in t.entries) == 0 for t in books)
    totals = ledger.balances(books)
    assert sum(totals.values()) == 0
    assert totals.get((Account.TREASURY_PAYABLE, None), 0) == -(state - refunded["state_fee"])
    assert totals.get((Account.AGENT_PAYABLE, "VNPOST-HN"), 0) == -(service - refunded["service_fee"])
    assert totals.get((Account.COURIER_PAYABLE, None), 0) == -(courier - refunded["courier_fee"])


def test_cash_is_owed_by_the_agent_who_collected_it():
    books = [ledger.payment("cash-1", {"state_fee": 200_000, "service_fee": 20_000}, Account.CASH_AT_AGENTS,
                            agent="VNPOST-HN")]
    assert ledger.balances(books)[(Account.CASH_AT_AGENTS, "VNPOST-HN")] == 220_000


def test_the_service_fee_never_exceeds_the_cap_and_says_what_it_adds_on_top():
    from payments.fees import on_top, service_fee

    steep = ServiceFeeRule(date(2025, 1, 1), percent=Decimal("10"))  # no maximum: 10% of 1.000.000 is 100.000
    assert steep.highest() is None and ServiceFeeRule(date(2025, 1, 1), flat_vnd=20_000).highest() == 20_000
    assert service_fee(steep, 1_000_000) == 100_000 and service_fee(steep, 1_000_000, cap_vnd=50_000) == 50_000
    assert quote(1_000_000, [steep], date(2026, 1, 2), cap_vnd=50_000).service_fee_vnd == 50_000
    assert on_top(steep, [0, 200_000], 50_000) == [
        {"state_fee_vnd": 0, "service_fee_vnd": 0, "total_vnd": 0},
        {"state_fee_vnd": 200_000, "service_fee_vnd": 20_000, "total_vnd": 220_000}]


def test_a_fee_rule_that_could_charge_more_than_the_cap_is_refused(client, finance_key, agent_key):
    rules = "/api/v1/organisations/VNPOST-HN/fee-rules"
    for body in ({"effective_from": "2027-01-01", "percent": "5"},  # a percentage needs a maximum
                 {"effective_from": "2027-01-01", "flat_vnd": 60_000},
                 {"effective_from": "2027-01-01", "percent": "5", "maximum_vnd": 80_000}):
        refused = client.post(rules, json=body, headers=auth(finance_key))
        assert refused.status_code == 422, body
        problem = refused.get_json()
        assert "50.000" in problem["detail_vi"] and "50,000" in problem["detail_en"]
        assert problem["errors"][0]["field"] == "maximum_vnd"
    assert client.get(rules, headers=auth(finance_key)).get_json()["rules"] == []  # nothing was written
    ok = client.post(rules, json={"effective_from": "2027-01-01", "percent": "5", "maximum_vnd": 50_000},
                     headers=auth(finance_key))
    assert ok.status_code == 201 and ok.get_json()["cap_vnd"] == 50_000
