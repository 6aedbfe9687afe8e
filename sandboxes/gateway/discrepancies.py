"""Discrepancies injected into the sandbox gateway, for the reconciliation's tests and the demo month.

Each function breaks the sandbox's books the way a real gateway's can disagree with ours, one class
of mismatch each: a balance transaction lost or doubled, an amount or a fee changed, a charge or a
refund we never made, a payout that does not add up. Sandbox code only: the sandbox is mounted only
while no real gateway is configured, and never in production (sandboxes.init_app). Like the rest of
the sandbox, these change the session and never commit.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from core.extensions import db
from sandboxes.gateway.base import CURRENCY, new_id, now_ts
from sandboxes.gateway.models import SandboxBalanceTransaction, SandboxPaymentIntent, SandboxPayout, SandboxRefund


def _charge_txn(intent_id: str) -> SandboxBalanceTransaction:
    pi = db.session.scalars(select(SandboxPaymentIntent).where(SandboxPaymentIntent.id == intent_id)).one()
    return db.session.scalars(select(SandboxBalanceTransaction)
                              .where(SandboxBalanceTransaction.id == pi.charge_balance_transaction)).one()


def drop_charge(intent_id: str) -> str:
    """The gateway lost the charge's balance transaction: ours is missing at the gateway."""
    txn = _charge_txn(intent_id)
    db.session.execute(delete(SandboxBalanceTransaction).where(SandboxBalanceTransaction.id == txn.id))
    return txn.id


def duplicate_charge(intent_id: str) -> str:
    """The same charge twice among the balance transactions."""
    txn = _charge_txn(intent_id)
    copy = SandboxBalanceTransaction(id=new_id("txn"), type=txn.type, amount=txn.amount, fee=txn.fee, net=txn.net,
                                     currency=txn.currency, source=txn.source, description=txn.description,
                                     available_on=txn.available_on, payout=None, created=txn.created)
    db.session.add(copy)
    db.session.flush()
    return copy.id


def change_amount(intent_id: str, amount: int) -> str:
    """The gateway's charge amount differs from what we booked."""
    txn = _charge_txn(intent_id)
    txn.amount, txn.net = amount, amount - txn.fee
    return txn.id


def change_fee(intent_id: str, fee: int) -> str:
    """The gateway's fee differs from the one booked."""
    txn = _charge_txn(intent_id)
    txn.fee, txn.net = fee, txn.amount - fee
    return txn.id


def orphan_charge(amount: int, created: int | None = None) -> str:
    """A succeeded charge of an intent the platform never created: missing in our ledger."""
    created = now_ts() if created is None else created
    charge, txn_id = new_id("ch"), new_id("txn")
    pi = SandboxPaymentIntent(id=new_id("pi"), amount=amount, currency=CURRENCY, status="succeeded",
                              client_secret=new_id("secret"), meta={}, latest_charge=charge,
                              charge_balance_transaction=txn_id, amount_received=amount, created=created)
    db.session.add_all([pi, SandboxBalanceTransaction(
        id=txn_id, type="charge", amount=amount, fee=0, net=amount, currency=CURRENCY, source=charge,
        description="ORPHAN CHARGE", available_on=created, created=created)])
    db.session.flush()
    return pi.id


def orphan_refund(amount: int, created: int | None = None) -> str:
    """A refund of an intent that has no payment anywhere (not at the gateway, not with us)."""
    created = now_ts() if created is None else created
    refund = SandboxRefund(id=new_id("re"), payment_intent=new_id("pi"), charge=new_id("ch"), amount=amount,
                           currency=CURRENCY, status="succeeded", reason=None, meta={}, created=created)
    txn = SandboxBalanceTransaction(id=new_id("txn"), type="refund", amount=-amount, fee=0, net=-amount,
                                    currency=CURRENCY, source=refund.id, description="REFUND FOR CHARGE",
                                    available_on=created, created=created)
    refund.balance_transaction = txn.id
    db.session.add_all([refund, txn])
    db.session.flush()
    return refund.id


def break_payout_sum(payout_id: str, delta: int) -> None:
    """A payout whose amount is not the sum of the transactions it pays out."""
    payout = db.session.scalars(select(SandboxPayout).where(SandboxPayout.id == payout_id)).one()
    payout.amount += delta
    own = db.session.scalars(select(SandboxBalanceTransaction)
                             .where(SandboxBalanceTransaction.id == payout.balance_transaction)).one()
    own.amount, own.net = -payout.amount, -payout.amount
