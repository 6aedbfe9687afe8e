"""The stored ledger: every transaction balances, nothing is booked twice, nothing is edited."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from core.extensions import db
from payments import ledger, repository
from payments.models import LedgerEntry, LedgerTransaction

_examples = itertools.count()
components = st.fixed_dictionaries({"state_fee": st.integers(0, 5_000_000), "service_fee": st.integers(0, 500_000),
                                    "courier_fee": st.integers(0, 100_000)}).filter(lambda c: sum(c.values()) > 0)


@pytest.mark.smoke
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(paid=components, refund_share=st.integers(1, 100), fee=st.integers(1, 9_999))
def test_stored_transactions_sum_to_zero_and_book_once(ctx, paid, refund_share, fee):
    from payments.refunds import allocate

    reference = f"pi_{next(_examples)}"  # unique per example: hypothesis may draw the same values twice
    total = sum(paid.values())
    refund_amount = max(1, total * refund_share // 100)
    refunded = allocate(dict(paid), refund_amount)
    assert sum(refunded.values()) == refund_amount
    assert all(0 <= refunded.get(name, 0) <= paid[name] for name in paid)
    for transaction in (ledger.payment(reference, paid, agent="VNPOST-HN"), ledger.gateway_fee(reference, fee),
                        ledger.refund(f"re_{reference}", refunded, agent="VNPOST-HN")):
        assert repository.book(transaction) is True
        assert repository.book(transaction) is False  # the same (kind, reference) is never booked twice
    db.session.commit()
    sums = db.session.execute(text(
        "SELECT t.id, SUM(e.amount_vnd) FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id "
        "GROUP BY t.id")).all()
    assert sums and all(total == 0 for _, total in sums)
    whole = db.session.execute(text("SELECT COALESCE(SUM(amount_vnd), 0) FROM ledger_entries")).scalar_one()
    assert whole == 0


@pytest.mark.smoke
def test_an_unbalanced_transaction_is_refused_before_it_is_stored(ctx):
    with pytest.raises(ledger.UnbalancedTransaction):
        repository.book(ledger.Transaction("payment", "pi_bad", (ledger.Entry(ledger.Account.BANK, 100),
                                                                  ledger.Entry(ledger.Account.TREASURY_PAYABLE, -99))))
    assert db.session.query(LedgerTransaction).count() == 0


@pytest.mark.postgres
def test_the_database_refuses_edits_deletes_and_unbalanced_entries(ctx):
    repository.book(ledger.payout("po_1", 500_000))
    db.session.commit()
    for statement in ("UPDATE ledger_entries SET amount_vnd = amount_vnd + 1",
                      "DELETE FROM ledger_entries", "DELETE FROM ledger_transactions",
                      "UPDATE ledger_transactions SET reference = 'po_2'"):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
    # Written around the domain code, straight to the tables: refused at commit.
    row = LedgerTransaction(kind="payout", reference="po_forged")
    db.session.add(row)
    db.session.flush()
    db.session.add_all([LedgerEntry(transaction_id=row.id, account="bank", amount_vnd=1000),
                        LedgerEntry(transaction_id=row.id, account="gateway_clearing", amount_vnd=-999)])
    with pytest.raises((IntegrityError, DBAPIError), match="does not balance"):
        db.session.commit()
    db.session.rollback()
    assert db.session.query(LedgerTransaction).filter_by(reference="po_forged").count() == 0
