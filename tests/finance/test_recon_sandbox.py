"""Gateway reconciliation against the embedded sandbox gateway, one injected discrepancy per class."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.extensions import db
from finance.models import FinanceException, FinanceExceptionAction
from finance.recon_models import GatewayPayout, GatewayTransaction
from tests import factories
from tests.finance.factories_recon import inject, open_items, paid_by_card, reconcile, refunded, run_payout


@pytest.fixture
def finance_key(app):
    with app.app_context():
        return factories.user_key(factories.create_user(role="finance", email="taichinh@test.vn"))


def _kinds(app) -> list[str]:
    return [kind for kind, _, _ in open_items(app)]


def test_a_clean_period_finds_nothing_and_stages_the_gateway_side(app, client, agent_key, finance_key):
    first = paid_by_card(app, client, agent_key)
    paid_by_card(app, client, agent_key)
    refunded(app, client, finance_key, first["number"], 50_000)
    payout = run_payout(app)
    run = reconcile(app)
    assert run["status"] == "succeeded", run
    assert open_items(app) == []
    assert sum(run["counts"]["found"].values()) == 0
    with app.app_context():
        staged = db.session.execute(select(GatewayTransaction.type, func.count()).group_by(GatewayTransaction.type))
        assert dict(staged.all()) == {"charge": 2, "refund": 1, "payout": 1}
        assert db.session.get(GatewayPayout, payout).amount > 0
        charges = db.session.scalars(select(GatewayTransaction.payment_intent)
                                     .where(GatewayTransaction.type == "charge")).all()
        assert first["intent"] in charges  # the charge's intent, from the expanded source
        assert {t.payout_id for t in db.session.scalars(select(GatewayTransaction))} == {payout}


def test_missing_at_gateway(app, client, agent_key):
    paid_by_card(app, client, agent_key)
    lost = paid_by_card(app, client, agent_key)
    inject(app, "drop_charge", lost["intent"])
    reconcile(app)
    assert open_items(app) == [("missing_at_gateway", f"gw-missing:{lost['intent']}", lost["amount"])]


def test_missing_in_ledger(app, client, agent_key):
    paid_by_card(app, client, agent_key)
    intent = inject(app, "orphan_charge", 123_000)
    reconcile(app)
    items = open_items(app)
    assert [(k, amount) for k, _, amount in items] == [("missing_in_ledger", 123_000)]
    with app.app_context():
        item = db.session.scalars(select(FinanceException)).one()
        assert item.theirs["intent"] == intent


def test_amount_mismatch(app, client, agent_key):
    paid = paid_by_card(app, client, agent_key)
    inject(app, "change_amount", paid["intent"], paid["amount"] + 5_000)
    reconcile(app)
    assert open_items(app) == [("amount_mismatch", f"amount:{paid['intent']}", 5_000)]


def test_fee_mismatch(app, client, agent_key):
    paid = paid_by_card(app, client, agent_key)
    with app.app_context():
        booked = db.session.execute(db.text("SELECT gateway_fee_vnd FROM payments WHERE id = :i"),
                                    {"i": paid["payment_id"]}).scalar_one()
    inject(app, "change_fee", paid["intent"], booked + 700)
    reconcile(app)
    assert open_items(app) == [("fee_mismatch", f"fee:{paid['intent']}", 700)]


def test_duplicate(app, client, agent_key):
    paid = paid_by_card(app, client, agent_key)
    inject(app, "duplicate_charge", paid["intent"])
    reconcile(app)
    assert open_items(app) == [("duplicate", f"dup:{paid['intent']}", paid["amount"])]


def test_refund_without_payment(app, client, agent_key):
    paid_by_card(app, client, agent_key)
    inject(app, "orphan_refund", 40_000)
    reconcile(app)
    assert [(k, amount) for k, _, amount in open_items(app)] == [("refund_without_payment", 40_000)]


def test_payout_sum_mismatch(app, client, agent_key):
    paid_by_card(app, client, agent_key)
    payout = run_payout(app)
    inject(app, "break_payout_sum", payout, 9_000)
    reconcile(app)
    assert open_items(app) == [("payout_sum_mismatch", f"payout-sum:{payout}", 9_000)]


def test_two_runs_give_the_same_items_and_a_fixed_mismatch_is_cleared(app, client, agent_key):
    paid = paid_by_card(app, client, agent_key)
    inject(app, "duplicate_charge", paid["intent"])
    inject(app, "orphan_refund", 40_000)
    first = reconcile(app)
    again = reconcile(app)
    assert open_items(app) and len(open_items(app)) == 2
    assert sum(first["counts"]["new"].values()) == 2 and sum(again["counts"]["new"].values()) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FinanceException)) == 2
        assert db.session.scalar(select(func.count()).select_from(FinanceExceptionAction)) == 2  # detected, once
        # The duplicate disappears at the gateway: the next run clears its item.
        db.session.execute(db.text("DELETE FROM sandbox_balance_transactions WHERE id <> (SELECT MIN(id) FROM "
                                   "sandbox_balance_transactions WHERE type = 'charge') AND type = 'charge'"))
        db.session.execute(db.text("DELETE FROM finance_gateway_transactions WHERE type = 'charge'"))
        db.session.commit()
    cleared = reconcile(app)
    assert cleared["counts"]["cleared"] == 1
    assert [k for k, _, _ in open_items(app)] == ["refund_without_payment"]


def test_demo_seed_gives_an_item_of_each_class_and_is_idempotent(app, client, agent_key):
    from datetime import date

    from finance.demo_recon import seed_demo
    from finance.recon_sql import KINDS

    for _ in range(4):
        paid_by_card(app, client, agent_key)
    with app.app_context():
        from core.timeutil import to_local, utcnow
        today = to_local(utcnow()).date()
        first = seed_demo(date(today.year, today.month, 1))
    items = open_items(app)
    kinds = {kind for kind, _, _ in items}
    assert kinds >= {k.value for k in KINDS} - {"payout_not_in_bank"}, kinds
    assert first["run"]
    with app.app_context():
        seed_demo(date(today.year, today.month, 1))
    assert open_items(app) == items
