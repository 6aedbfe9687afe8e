"""VietQR at the counter: the bank's confirmation the citizen shows is provisional until the statement."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from core.extensions import db
from core.timeutil import utcnow
from payments.models import Payment
from tests import factories
from tests.factories import auth
from tests.payments.conftest import ledger_rows, pay
from tests.payments.test_cash_transfer_refunds import _balances, _statement

pytestmark = pytest.mark.smoke


def _mark(client, key, number, reference="FT26328123456"):
    return client.post(f"/api/v1/dossiers/{number}/payment/vietqr/provisional",
                       json={"bank_reference": reference}, headers=auth(key))


def _import(client, finance_key, *lines):
    return client.post("/api/v1/finance/bank-statements", headers=auth(finance_key),
                       data={"file": (io.BytesIO(_statement(*lines)), "saoke.csv")},
                       content_type="multipart/form-data")


def test_provisional_books_nothing_until_the_statement_confirms_it(app, client, agent_key, finance_key):
    number = factories.create_dossier(client, agent_key, procedure_code="HN-TP-001")["number"]
    shown = pay(client, agent_key, number, "vietqr").get_json()
    marked = _mark(client, agent_key, number)
    assert marked.status_code == 200, marked.get_json()
    body = marked.get_json()
    assert body["status"] == "awaiting" and body["receipts"] == []
    assert body["provisional"]["state"] == "provisional"
    assert body["provisional"]["bank_reference"] == "FT26328123456"
    assert body["provisional"]["marked_by"] == "org:VNPOST-HN" and body["provisional"]["overdue"] is False
    assert ledger_rows(app) == [] and _balances(client, finance_key) == {}  # not money received

    upload = _import(client, finance_key, ("24/11/2026 09:15:02", "FT26328123456", shown["amount_vnd"],
                                           f"MBVCB.{shown['vietqr']['reference']}.CT tu NGUYEN VAN AN"))
    assert upload.status_code == 201 and upload.get_json()["summary"]["confirmed_provisional"] == 1
    after = client.get(f"/api/v1/dossiers/{number}/payment", headers=auth(agent_key)).get_json()
    assert after["status"] == "paid" and after["provisional"]["state"] == "confirmed"
    assert after["provisional"]["confirmed_bank_reference"] == "FT26328123456"
    assert _balances(client, finance_key)[("bank", None)] == shown["amount_vnd"]


def test_only_an_open_vietqr_payment_can_be_marked_and_only_by_agents(app, client, agent_key, finance_key):
    number = factories.create_dossier(client, agent_key, procedure_code="HN-TP-001")["number"]
    pay(client, agent_key, number, "cash")
    assert _mark(client, agent_key, number).status_code == 409
    pay(client, agent_key, number, "vietqr")
    assert _mark(client, finance_key, number).status_code == 403
    short = _mark(client, agent_key, number, reference="FT")
    assert short.status_code == 422 and short.get_json()["errors"][0]["field"] == "bank_reference"


def test_a_wrong_amount_or_no_line_in_time_surfaces_to_finance(app, client, agent_key, finance_key):
    from tests.factories import sign_in

    number = factories.create_dossier(client, agent_key, procedure_code="HN-TP-001")["number"]
    shown = pay(client, agent_key, number, "vietqr").get_json()
    _mark(client, agent_key, number)
    upload = _import(client, finance_key, ("24/11/2026 09:15:02", "FT1", 1_000, shown["vietqr"]["reference"]))
    assert upload.get_json()["summary"]["wrong_amount"] == 1
    still = client.get(f"/api/v1/dossiers/{number}/payment", headers=auth(agent_key)).get_json()
    assert still["status"] == "awaiting" and still["provisional"]["state"] == "provisional"
    with app.app_context():
        payment = db.session.query(Payment).one()
        payment.provisional_at = utcnow() - timedelta(days=app.config["PROVISIONAL_TRANSFER_DAYS"], minutes=1)
        db.session.commit()
    late = client.get(f"/api/v1/dossiers/{number}/payment", headers=auth(agent_key)).get_json()
    assert late["provisional"]["overdue"] is True
    with app.app_context():
        factories.create_user("finance", email="ketoan@test.vn")
    browser = app.test_client()
    sign_in(browser, "ketoan@test.vn")
    page = browser.get("/finance").get_data(as_text=True)
    assert 'id="provisional-overdue"' in page and number in page and "FT26328123456" in page
