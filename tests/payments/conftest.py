"""Payments fixtures: a paid-procedure dossier, finance staff, and the outbox run by hand."""

from __future__ import annotations

import pytest

from core import outbox
from core.extensions import db
from payments.models import LedgerEntry, LedgerTransaction, WebhookEvent
from tests import factories
from tests.factories import auth

PAID_PROCEDURE = "HN-TP-001"  # Phiếu lý lịch tư pháp: 200.000 ₫ state fee


@pytest.fixture
def finance_key(app):
    with app.app_context():
        return factories.user_key(factories.create_user(role="finance", email="taichinh@test.vn"))


@pytest.fixture
def dossier(client, agent_key):
    """A registered dossier with a state fee, collected at the point (no courier)."""
    return factories.create_dossier(client, agent_key, procedure_code=PAID_PROCEDURE)


def run_outbox(app) -> int:
    """Run every due outbox message, as the worker would; returns how many were done."""
    with app.app_context():
        done = 0
        while True:
            ran = outbox.run_due()
            done += ran
            if not ran:
                return done


def ledger_rows(app, dossier_number: str | None = None) -> list[tuple[str, str, list[tuple[str, str | None, int]]]]:
    with app.app_context():
        rows = []
        for txn in db.session.query(LedgerTransaction).order_by(LedgerTransaction.id):
            entries = [(e.account, e.party, int(e.amount_vnd)) for e in
                       db.session.query(LedgerEntry).filter_by(transaction_id=txn.id).order_by(LedgerEntry.id)]
            rows.append((txn.kind, txn.reference, entries))
        return rows


def webhook_events(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [(e.type, e.outcome) for e in db.session.query(WebhookEvent).order_by(WebhookEvent.id)]


def pay(client, key: str, number: str, method: str = "card"):
    return client.post(f"/api/v1/dossiers/{number}/payment", json={"method": method}, headers=auth(key))


def card(client, key: str, number: str, payment_method: str = "pm_card_visa", attempt_key: str = "attempt-0001"):
    return client.post(f"/api/v1/dossiers/{number}/payment/card",
                       json={"payment_method": payment_method, "attempt_key": attempt_key}, headers=auth(key))
