"""The demo month's gateway reconciliation: the sandbox's books dated by the demo clock, the month's payout
on the centre's bank statement, one injected discrepancy of each class, and a reconciliation of the month,
so the queue shows items of every class.

Runs on top of the card payments the demo month generator made (app/demo_month.py). The sandbox gateway
dates its objects by the system's clock, so on its side the whole month happened the moment it was loaded;
first, each charge's and refund's balance transaction is dated when the ledger booked it, and each payout
the ledger booked is dated when it was booked (arriving at the bank that day, where the demo statement
shows it). Then, once (a marker in the sandbox's intents' description), the discrepancies: a card charge
lost, one doubled, one with another amount, one with another fee; a charge and a refund we never made,
paid out ten days ago in a payout that does not add up and never reached the bank; and a credit on the
statement nothing explains. Idempotent: the dating sets the same values again, the discrepancies are
injected once, the statement lines are keyed by their bank reference, and the month is reconciled once.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import String, cast, literal, select

from core.extensions import db
from core.timeutil import LOCAL_TZ, as_utc, to_local, utcnow
from core.uow import unit_of_work
from finance import recon
from finance.recon_models import ReconciliationRun
from payments.models import (
    BankStatementImport,
    BankStatementLine,
    LedgerTransaction,
    Method,
    Payment,
    PaymentStatus,
    Refund,
)

MARK = "demo-recon"
ORPHAN_CHARGE_VND = 185_000
ORPHAN_REFUND_VND = 60_000
PAYOUT_SHORT_VND = 12_000  # the orphans' payout says 12.000 ₫ more than its transactions add up to
ORPHAN_DAYS_AGO = 10


def seed_demo(month_start: date) -> dict:
    today = to_local(utcnow()).date()
    first = max(month_start, today - timedelta(days=recon.MAX_DAYS - 1))
    with unit_of_work():
        dated = _date_by_the_ledger()
        on_statement = _payouts_on_the_statement(month_start)
        injected = _inject(first, today)
        _stray_bank_line(today)
    run = _reconcile_once(first, today)
    return {"dated": dated, "payouts_on_statement": on_statement, "injected": injected, "run": run["id"],
            "found": run["counts"].get("found", {})}


def _ts(moment: datetime) -> int:
    return int(as_utc(moment).timestamp())


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return as_utc(datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TZ))


def _date_by_the_ledger() -> dict:
    """Each card charge's, card refund's and booked payout's sandbox object dated when our ledger booked it."""
    from sandboxes.gateway.models import SandboxBalanceTransaction as Txn
    from sandboxes.gateway.models import SandboxPaymentIntent, SandboxPayout, SandboxRefund

    charges = db.session.execute(
        select(Txn, LedgerTransaction.booked_at)
        .join(SandboxPaymentIntent, SandboxPaymentIntent.charge_balance_transaction == Txn.id)
        .join(Payment, Payment.gateway_intent_id == SandboxPaymentIntent.id)
        .join(LedgerTransaction, (LedgerTransaction.kind == "payment")
              & (LedgerTransaction.reference == Payment.gateway_intent_id))
        .where(Payment.method == Method.CARD)).all()
    for txn, booked in charges:
        txn.created = txn.available_on = _ts(booked)
    refunds = db.session.execute(
        select(SandboxRefund, LedgerTransaction.booked_at)
        .join(Refund, Refund.gateway_refund_id == SandboxRefund.id)
        .join(LedgerTransaction, (LedgerTransaction.kind == "refund")
              & (LedgerTransaction.reference == literal("refund-").concat(cast(Refund.id, String(20)))))).all()
    for refund, booked in refunds:
        refund.created = _ts(booked)
        txn = db.session.scalars(select(Txn).where(Txn.id == refund.balance_transaction)).one_or_none()
        if txn is not None:
            txn.created = txn.available_on = _ts(booked)
    payouts = db.session.execute(
        select(SandboxPayout, LedgerTransaction.booked_at)
        .join(LedgerTransaction, (LedgerTransaction.kind == "payout")
              & (LedgerTransaction.reference == SandboxPayout.id))).all()
    days = set(db.session.scalars(select(SandboxPayout.day)))
    for payout, booked in payouts:
        day = to_local(as_utc(booked)).date()
        if day != payout.day and day in days:
            continue  # one payout a day: that day has its own
        days.discard(payout.day)
        days.add(day)
        payout.day, payout.created, payout.arrival_date = day, _ts(booked), _ts(booked)
        own = db.session.scalars(select(Txn).where(Txn.id == payout.balance_transaction)).one_or_none()
        if own is not None:
            own.created = own.available_on = _ts(booked)
    db.session.flush()
    return {"charges": len(charges), "refunds": len(refunds), "payouts": len(payouts)}


def _payouts_on_the_statement(month_start: date) -> int:
    """The booked payouts as credits on the centre's bank statement, the day they arrive (named by their id)."""
    from sandboxes.gateway.models import SandboxPayout

    booked = list(db.session.scalars(select(SandboxPayout).join(
        LedgerTransaction, (LedgerTransaction.kind == "payout") & (LedgerTransaction.reference == SandboxPayout.id))
        .order_by(SandboxPayout.created)))
    lines = []
    for payout in booked:
        reference = f"DEMO-FT-{payout.id[-12:]}".upper()
        if db.session.scalars(select(BankStatementLine.id).where(BankStatementLine.bank_reference == reference)
                              ).first() is None:
            lines.append((reference, payout))
    if not lines:
        return 0
    record = BankStatementImport(filename=f"demo-saoke-chi-tra-{month_start:%Y-%m}.csv",
                                 sha256=f"demo-recon-payouts-{lines[0][0]}".ljust(64, "0")[:64],
                                 imported_by="demo", summary={"credits": len(lines), "unmatched": len(lines)})
    db.session.add(record)
    db.session.flush()
    for reference, payout in lines:
        db.session.add(BankStatementLine(
            import_id=record.id, bank_reference=reference,
            booked_at=datetime.fromtimestamp(payout.arrival_date, LOCAL_TZ), amount_vnd=int(payout.amount),
            description=f"STRIPE PAYMENTS SINGAPORE CHUYEN TIEN {payout.id}", payment_id=None,
            outcome="unmatched"))
    db.session.flush()
    return len(lines)


def _inject(first: date, today: date) -> bool:
    """One discrepancy of each class, once. False when an earlier load injected them."""
    from sandboxes.gateway import discrepancies
    from sandboxes.gateway.models import SandboxPaymentIntent

    if db.session.scalars(select(SandboxPaymentIntent.id).where(SandboxPaymentIntent.description == MARK)
                          ).first() is not None:
        return False
    intents = list(db.session.scalars(select(Payment.gateway_intent_id).where(
        Payment.method == Method.CARD, Payment.status == PaymentStatus.PAID,
        Payment.gateway_intent_id.is_not(None)).order_by(Payment.id).limit(4)))
    if len(intents) >= 4:
        discrepancies.drop_charge(intents[0])
        discrepancies.duplicate_charge(intents[1])
        discrepancies.change_amount(intents[2], _amount(intents[2]) + 10_000)
        discrepancies.change_fee(intents[3], _fee(intents[3]) + 500)
    day = max(first, today - timedelta(days=ORPHAN_DAYS_AGO))
    orphan = discrepancies.orphan_charge(ORPHAN_CHARGE_VND, created=_ts(_local(day, 10, 15)))
    db.session.scalars(select(SandboxPaymentIntent).where(SandboxPaymentIntent.id == orphan)).one()\
        .description = MARK
    refund = discrepancies.orphan_refund(ORPHAN_REFUND_VND, created=_ts(_local(day, 14, 40)))
    _orphans_paid_out(day, orphan, refund)
    return True


def _orphans_paid_out(day: date, orphan_intent: str, orphan_refund: str) -> None:
    """The gateway pays the orphans out that evening, in a payout that says more than they add up to and that
    never reaches the bank (unless that day already has a payout)."""
    from sandboxes.gateway import discrepancies
    from sandboxes.gateway.base import CURRENCY, new_id
    from sandboxes.gateway.models import SandboxBalanceTransaction as Txn
    from sandboxes.gateway.models import SandboxPaymentIntent, SandboxPayout, SandboxRefund

    if db.session.scalars(select(SandboxPayout.id).where(SandboxPayout.day == day)).first() is not None:
        return
    charge_txn = db.session.scalars(select(SandboxPaymentIntent.charge_balance_transaction)
                                    .where(SandboxPaymentIntent.id == orphan_intent)).one()
    refund_txn = db.session.scalars(select(SandboxRefund.balance_transaction)
                                    .where(SandboxRefund.id == orphan_refund)).one()
    txns = list(db.session.scalars(select(Txn).where(Txn.id.in_([charge_txn, refund_txn]))))
    amount = sum(t.net for t in txns)
    created = _ts(_local(day, 23, 0))
    payout = SandboxPayout(id=new_id("po"), day=day, amount=amount, currency=CURRENCY, status="paid",
                           arrival_date=_ts(_local(day + timedelta(days=1), 0)), balance_transaction="",
                           created=created)
    own = Txn(id=new_id("txn"), type="payout", amount=-amount, fee=0, net=-amount, currency=CURRENCY,
              source=payout.id, description="STRIPE PAYOUT", available_on=created, payout=payout.id, created=created)
    payout.balance_transaction = own.id
    for txn in txns:
        txn.payout = payout.id
    db.session.add_all([payout, own])
    db.session.flush()
    discrepancies.break_payout_sum(payout.id, PAYOUT_SHORT_VND)


def _reconcile_once(first: date, last: date) -> dict:
    done = db.session.scalars(select(ReconciliationRun).where(
        ReconciliationRun.actor == "demo", ReconciliationRun.status == "succeeded",
        ReconciliationRun.period_from == first, ReconciliationRun.period_to == last)).first()
    if done is not None:
        return recon.as_dict(done)
    return recon.reconcile(first, last, actor="demo")


def _amount(intent_id: str) -> int:
    return int(db.session.scalars(select(Payment.amount_vnd).where(Payment.gateway_intent_id == intent_id)).one())


def _fee(intent_id: str) -> int:
    return int(db.session.scalars(select(Payment.gateway_fee_vnd).where(Payment.gateway_intent_id == intent_id))
               .one() or 0)


def _stray_bank_line(day: date) -> None:
    """A credit on the statement nothing explains (BANK_UNMATCHED), in a statement import of its own."""
    if db.session.scalars(select(BankStatementLine).where(BankStatementLine.bank_reference == "DEMO-FT-STRAY"))\
            .first() is not None:
        return
    record = BankStatementImport(filename="demo-saoke.csv", sha256="demo-recon-stray-line".ljust(64, "0"),
                                 imported_by="demo", summary={"credits": 1, "unmatched": 1})
    db.session.add(record)
    db.session.flush()
    db.session.add(BankStatementLine(import_id=record.id, bank_reference="DEMO-FT-STRAY",
                                     booked_at=_local(day, 10, 30) if _local(day, 10, 30) <= utcnow()
                                     else _local(day - timedelta(days=1), 10, 30),
                                     amount_vnd=350_000, description="CHUYEN KHOAN KHONG RO NOI DUNG",
                                     payment_id=None, outcome="unmatched"))
