"""`flask demo load`'s finance month (app/demo.py FINANCE_SEEDS): cash handed over, the gateway and the bank
reconciled, a statement issued, the queue worked on; every class of mismatch in the queue; twice is once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.demo import FINANCE_SEEDS, load_demo
from app.demo_month import MARKER, generate
from core.extensions import db
from core.timeutil import to_local
from dossiers.models import Dossier
from finance.models import CashHandover, ExceptionKind, ExceptionStatus, FinanceException, TreasuryTransfer
from finance.recon_models import GatewayPayout, ReconciliationRun
from finance.recon_sql import KINDS
from finance.statement_models import Statement
from payments.models import BankStatementLine, LedgerTransaction, Payment, PaymentStatus, Refund

TABLES = ("finance_exceptions", "finance_exception_actions", "finance_reconciliation_runs", "cash_handovers",
          "bank_statement_imports", "bank_statement_lines", "sandbox_balance_transactions", "sandbox_payouts",
          "finance_gateway_payouts", "ledger_transactions", "ledger_entries", "finance_statements",
          "treasury_transfers", "payments", "payment_refunds", "dossiers")


def _counts() -> dict[str, int]:
    return {name: db.session.execute(db.text(f"SELECT COUNT(*) FROM {name}")).scalar_one()  # noqa: S608
            for name in TABLES}


def test_the_finance_month_has_every_class_of_mismatch_and_a_second_load_adds_nothing(app, clock):
    assert FINANCE_SEEDS == ("finance.demo_cash", "finance.demo_recon", "finance.demo_statements",
                             "finance.demo_queue")
    with app.app_context():
        load_demo(month=False)
        now = clock.now()
        generate(days=30, volume=0.12, now=now)
        load_demo()  # the month is there: only the finance seeds add theirs
        first = _counts()

        # Every class of gateway and bank mismatch is in the queue, open, for a new user to look at.
        open_kinds = set(db.session.scalars(select(FinanceException.kind).where(
            FinanceException.status == ExceptionStatus.OPEN)))
        assert {k.value for k in KINDS} <= {k.value for k in open_kinds}, open_kinds
        assert ExceptionKind.CASH_OVERDUE in open_kinds
        # The month's reconciliation found them: the sandbox's books are dated by the demo clock, in the month.
        run = db.session.scalars(select(ReconciliationRun).where(ReconciliationRun.actor == "demo")).one()
        assert run.status == "succeeded" and run.period_to == to_local(now).date()
        assert run.counts["fetched"]["transactions"] > 20
        assert run.counts["found"]["missing_at_gateway"] == 1  # the one dropped charge, not the whole month
        # A payout arrived on the demo statement and is matched to it; the orphans' payout never arrived.
        payouts = db.session.scalars(select(GatewayPayout)).all()
        assert any(p.bank_line_id is not None for p in payouts)
        assert any(p.bank_line_id is None for p in payouts)
        matched_line = db.session.get(BankStatementLine, next(p.bank_line_id for p in payouts if p.bank_line_id))
        assert matched_line.outcome == "payout"
        # The deposit short by 10.000 ₫ stays in the queue: the reconciliation clears only its own items.
        short = db.session.scalars(select(FinanceException).where(
            FinanceException.dedupe_key.like("cash_deposit:%"))).all()
        assert short and all(item.status is ExceptionStatus.OPEN for item in short)

        # Several organisations and points; card, VietQR and cash; refunds; a few handovers; one point overdue.
        demo = Dossier.agent_reference.like(f"{MARKER}%")
        assert db.session.scalar(select(func.count(func.distinct(Dossier.organisation_id))).where(demo)) >= 2
        assert db.session.scalar(select(func.count(func.distinct(Dossier.agent_point_id))).where(demo)) >= 4
        methods = {m.value for m in db.session.scalars(select(Payment.method).where(
            Payment.status.in_((PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED))))}
        assert methods == {"card", "vietqr", "cash"}
        assert db.session.scalar(select(func.count()).select_from(Refund).where(Refund.status == "succeeded")) >= 1
        assert db.session.scalar(select(func.count()).select_from(CashHandover)) >= 3
        overdue = db.session.scalars(select(FinanceException).where(
            FinanceException.kind == ExceptionKind.CASH_OVERDUE)).all()
        assert any(to_local(now).date() - to_local(item.occurred_at).date() > timedelta(days=2) for item in overdue)
        assert db.session.scalar(select(func.count()).select_from(Statement)) == 1
        assert db.session.scalar(select(func.count()).select_from(TreasuryTransfer)) == 1
        assert db.session.scalar(select(func.count()).select_from(LedgerTransaction).where(
            LedgerTransaction.kind == "cash_handover")) >= 3

        load_demo()
        assert _counts() == first
    # And through the command line, as `make run` does.
    output = app.test_cli_runner().invoke(args=["demo", "load"]).output
    assert "demo month:     0 dossiers created" in output
    with app.app_context():
        assert _counts() == first
