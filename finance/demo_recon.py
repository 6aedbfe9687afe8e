"""The demo month's gateway reconciliation: the sandbox's payouts for the month's days, one injected
discrepancy of each class, and a reconciliation, so the queue shows one item of each.

Runs on top of the card payments the demo month generator made (app/demo_month.py). Idempotent: the
discrepancies are injected once (a marker in the sandbox's intents' metadata), the payouts and the
queue's items are keyed by their ids.
"""

from __future__ import annotations

from calendar import monthrange
from datetime import date, timedelta

from sqlalchemy import select

from core.extensions import db
from core.timeutil import to_local, utcnow
from core.uow import unit_of_work
from finance import recon
from payments.models import BankStatementLine, Method, Payment, PaymentStatus

MARK = "demo-recon"


def seed_demo(month_start: date) -> dict:
    from sandboxes.gateway import discrepancies, money
    from sandboxes.gateway.models import SandboxPaymentIntent

    last = date(month_start.year, month_start.month, monthrange(month_start.year, month_start.month)[1])
    today = to_local(utcnow()).date()
    end = min(last, today)
    with unit_of_work():
        payouts = [p.id for day in _days(month_start, end) if (p := money.run_daily_payout(day)) is not None]
    injected = db.session.scalars(select(SandboxPaymentIntent.id).where(
        SandboxPaymentIntent.description == MARK)).first() is not None
    if not injected:
        with unit_of_work():
            intents = list(db.session.scalars(select(Payment.gateway_intent_id).where(
                Payment.method == Method.CARD, Payment.status == PaymentStatus.PAID,
                Payment.gateway_intent_id.is_not(None)).order_by(Payment.id).limit(4)))
            if len(intents) >= 4:
                discrepancies.drop_charge(intents[0])
                discrepancies.duplicate_charge(intents[1])
                discrepancies.change_amount(intents[2], _amount(intents[2]) + 10_000)
                discrepancies.change_fee(intents[3], _fee(intents[3]) + 500)
            orphan = discrepancies.orphan_charge(185_000)
            db.session.get(SandboxPaymentIntent, _seq(orphan)).description = MARK
            discrepancies.orphan_refund(60_000)
            if payouts:
                discrepancies.break_payout_sum(payouts[-1], 12_000)
            _stray_bank_line(end)
    run = recon.reconcile(max(month_start, end - timedelta(days=recon.MAX_DAYS - 1)), end, actor="demo")
    return {"payouts": len(payouts), "run": run["id"], "found": run["counts"]["found"]}


def _days(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _seq(intent_id: str) -> int:
    from sandboxes.gateway.models import SandboxPaymentIntent

    return db.session.scalars(select(SandboxPaymentIntent.seq).where(SandboxPaymentIntent.id == intent_id)).one()


def _amount(intent_id: str) -> int:
    return int(db.session.scalars(select(Payment.amount_vnd).where(Payment.gateway_intent_id == intent_id)).one())


def _fee(intent_id: str) -> int:
    return int(db.session.scalars(select(Payment.gateway_fee_vnd).where(Payment.gateway_intent_id == intent_id))
               .one() or 0)


def _stray_bank_line(day: date) -> None:
    """A credit on the statement nothing explains (BANK_UNMATCHED), in a statement import of its own."""
    from datetime import datetime, time

    from core.timeutil import LOCAL_TZ, as_utc
    from payments.models import BankStatementImport

    if db.session.scalars(select(BankStatementLine).where(BankStatementLine.bank_reference == "DEMO-FT-STRAY"))\
            .first() is not None:
        return
    record = BankStatementImport(filename="demo-saoke.csv", sha256="demo-recon-stray-line".ljust(64, "0"),
                                 imported_by="demo", summary={"credits": 1, "unmatched": 1})
    db.session.add(record)
    db.session.flush()
    db.session.add(BankStatementLine(import_id=record.id, bank_reference="DEMO-FT-STRAY",
                                     booked_at=as_utc(datetime.combine(day, time(10, 30), tzinfo=LOCAL_TZ)),
                                     amount_vnd=350_000, description="CHUYEN KHOAN KHONG RO NOI DUNG",
                                     payment_id=None, outcome="unmatched"))
