"""Test helpers for the exception queue, the treasury report and the charts."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count

import pytest

from core.extensions import db
from core.models import Organisation
from core.timeutil import utcnow
from core.uow import unit_of_work
from finance import exceptions
from finance.models import ExceptionKind, FinanceException
from tests import factories
from tests.factories import sign_in

_keys = count(1)
PASSWORD = "correct horse battery staple"


def raise_item(app, kind: ExceptionKind = ExceptionKind.BANK_UNMATCHED, *, amount_vnd: int = 150_000,
               occurred_at: datetime | None = None, age_days: int = 0, ours: dict | None = None,
               theirs: dict | None = None, dossier_id: int | None = None, organisation: str | None = None) -> int:
    """One open item raised as a reconciliation raises it (finance.exceptions.raise_items); its id."""
    key = f"test:{kind.value}:{next(_keys)}"
    with app.app_context():
        org_id = db.session.query(Organisation.id).filter_by(code=organisation).scalar() if organisation else None
        with unit_of_work():
            exceptions.raise_items([exceptions.Found(
                kind=kind, dedupe_key=key, amount_vnd=amount_vnd,
                occurred_at=occurred_at or utcnow() - timedelta(days=age_days),
                ours=ours if ours is not None else {"ledger": {"reference": "pi_123", "amount_vnd": amount_vnd}},
                theirs=theirs if theirs is not None else {"bank_line": {"reference": "FT26069001",
                                                                        "amount_vnd": amount_vnd}},
                dossier_id=dossier_id, organisation_id=org_id)])
        return db.session.query(FinanceException.id).filter_by(dedupe_key=key).scalar()


def finance_user(app, email: str = "ketoan@test.vn"):
    with app.app_context():
        user = factories.create_user(role="finance", email=email)
        return {"id": user.id, "email": user.email, "key": factories.user_key(user)}


@pytest.fixture
def finance(app):
    """Finance staff with a personal API key (a user principal: 'myself' is this user)."""
    return finance_user(app)


@pytest.fixture
def finance_browser(app, finance):
    """A test client signed in as the same finance user through the sign-in form."""
    browser = app.test_client()
    signed = sign_in(browser, finance["email"])
    assert signed.status_code == 302
    return browser
