"""Notify fixtures: the outbox run by hand, the SMS rows as plain values, an admin's key."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from core import outbox
from core.extensions import db
from notify.models import SmsMessage, SmsReceipt
from tests import factories


def run_outbox(app, now: datetime | None = None) -> int:
    """Run every due outbox message (as the runner would, at ``now``); returns how many were done."""
    with app.app_context():
        done = 0
        while ran := outbox.run_due(now=now):
            done += ran
        return done


def sms_rows(app) -> list[SmsMessage]:
    with app.app_context():
        rows = list(db.session.scalars(select(SmsMessage).order_by(SmsMessage.id)))
        db.session.expunge_all()
        return rows


def receipts(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        return [(r.provider_message_id, r.status, r.outcome)
                for r in db.session.scalars(select(SmsReceipt).order_by(SmsReceipt.id))]


def pending(app, topic: str) -> list[outbox.OutboxMessage]:
    with app.app_context():
        rows = list(db.session.scalars(select(outbox.OutboxMessage).where(
            outbox.OutboxMessage.topic == topic, outbox.OutboxMessage.status == "pending")
            .order_by(outbox.OutboxMessage.id)))
        db.session.expunge_all()
        return rows


@pytest.fixture
def admin_key(app):
    with app.app_context():
        return factories.user_key(factories.create_user(role="admin", email="quantri@test.vn"))
