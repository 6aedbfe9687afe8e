"""Helpers for the gateway reconciliation's tests: card payments and refunds through the API and the
sandbox gateway, the sandbox's payouts, and a reconciliation of the last two local days."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from core.extensions import db
from core.timeutil import to_local, utcnow
from finance import recon
from finance.models import ExceptionStatus, FinanceException
from payments.models import Payment, Refund
from tests import factories
from tests.factories import auth
from tests.payments.conftest import PAID_PROCEDURE, card, pay, run_outbox


def paid_by_card(app, client, agent_key) -> dict:
    """A dossier paid by card, its gateway fee booked; its number, intent and amount."""
    number = factories.create_dossier(client, agent_key, procedure_code=PAID_PROCEDURE)["number"]
    assert pay(client, agent_key, number).status_code == 200
    paid = card(client, agent_key, number, attempt_key=f"attempt-{number}")
    assert paid.status_code == 200, paid.get_json()
    run_outbox(app)  # the gateway fee is booked by a job
    with app.app_context():
        payment = db.session.scalars(select(Payment).where(Payment.amount_vnd == paid.get_json()["amount_vnd"])
                                     .order_by(Payment.id.desc())).first()
        return {"number": number, "intent": payment.gateway_intent_id, "amount": int(payment.amount_vnd),
                "payment_id": payment.id}


def refunded(app, client, finance_key, number: str, amount: int) -> str:
    answer = client.post(f"/api/v1/dossiers/{number}/refunds", json={"reason": "Hoàn phí thử", "amount_vnd": amount},
                         headers=auth(finance_key, **{"Idempotency-Key": f"refund-{number}-{amount}"}))
    assert answer.status_code == 201, answer.get_json()
    with app.app_context():
        return db.session.scalars(select(Refund.gateway_refund_id).order_by(Refund.id.desc())).first()


def run_payout(app, day: date | None = None) -> str | None:
    from sandboxes.gateway import money

    with app.app_context():
        payout = money.run_daily_payout(day or money.today())
        db.session.commit()
        return payout.id if payout else None


def period() -> tuple[date, date]:
    today = to_local(utcnow()).date()
    return today - timedelta(days=1), today


def reconcile(app, **kwargs) -> dict:
    with app.app_context():
        start, end = period()
        return recon.reconcile(start, end, actor="test:recon", **kwargs)


def open_items(app) -> list[tuple[str, str, int]]:
    with app.app_context():
        return sorted((i.kind.value, i.dedupe_key, int(i.amount_vnd)) for i in db.session.scalars(
            select(FinanceException).where(FinanceException.status == ExceptionStatus.OPEN)))


def inject(app, name: str, *args):
    from sandboxes.gateway import discrepancies

    with app.app_context():
        result = getattr(discrepancies, name)(*args)
        db.session.commit()
        return result
