"""The queue's and the treasury's demo data: a transfer, one item assigned, one explained; twice is once."""

from __future__ import annotations

from datetime import date

from core.extensions import db
from finance import demo_queue
from finance.models import ExceptionKind, FinanceException, TreasuryTransfer
from tests import factories
from tests.factories import auth
from tests.finance.factories_queue import raise_item


def test_seed_demo_is_idempotent(app, client, clock, agent_key):
    with app.app_context():
        factories.create_user(role="finance", email=demo_queue.DEMO_FINANCE_EMAIL)
    number = factories.create_dossier(client, agent_key, procedure_code="HN-TP-001")["number"]
    assert client.post(f"/api/v1/dossiers/{number}/payment/cash", headers=auth(agent_key)).status_code == 200
    first = raise_item(app, ExceptionKind.BANK_UNMATCHED, age_days=4)
    second = raise_item(app, ExceptionKind.CASH_OVERDUE, age_days=2)
    with app.app_context():
        made = demo_queue.seed_demo(date(2026, 3, 1))
        assert made == {"treasury_transfer": "KB-DEMO-202603-01", "assigned": first, "explained": second}
        assert demo_queue.seed_demo(date(2026, 3, 1)) == {"treasury_transfer": None, "assigned": None,
                                                          "explained": None}
        transfers = db.session.query(TreasuryTransfer).all()
        assert [(t.amount_vnd, t.transferred_on) for t in transfers] == [(200_000, date(2026, 3, 10))]
        items = {i.id: i for i in db.session.query(FinanceException)}
        assert items[first].assignee_user_id is not None and items[first].status.value == "open"
        assert items[second].status.value == "resolved"
