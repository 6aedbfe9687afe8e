"""Gateway reconciliation against a Stripe peer nobody here wrote: localstripe (tests/payments/
test_localstripe_peer.py starts it and lists how it differs from Stripe).

Card payments and a refund are made as agents and finance staff make them, through the API, with the
platform's Stripe HTTP adapter pointed at localstripe; then the reconciliation fetches localstripe's
balance transactions and matches them with the ledger. What localstripe lacks, read in its source
(localstripe/resources.py), is asserted here as a limitation, not skipped:

- ``GET /v1/balance_transactions`` takes only ``limit`` and ``starting_after``: Stripe's ``created`` and
  ``payout`` filters are a 400, so the run lists everything and keeps the period client-side
  (``server_filters=False``), and cannot list a payout's transactions (``payouts=False``);
- its payouts are manual only, in ``eur`` only, with a made-up balance transaction and no link from any
  balance transaction to them: no payout of a vnd balance can be reconciled against it;
- a PaymentIntent's ``latest_charge`` comes expanded (the charge object), where Stripe gives the id;
- a PaymentIntent takes no ``description`` (a 400 "Unexpected description"), and its confirm takes no
  ``payment_method`` (a 500 "Not implemented"), and a refund takes no ``reason``: the client here leaves
  the description and the reason out and sets the payment method by updating the intent before confirming
  it, the only changes to what the platform sends.
"""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import select

from core.extensions import db
from core.outbox import OutboxMessage
from dossiers.models import Dossier
from finance import recon
from finance.models import ExceptionStatus, FinanceException
from finance.recon_models import GatewayPayout, GatewayTransaction
from payments.errors import InvalidRequestError
from payments.gateway import GatewayClient
from payments.models import Payment, PaymentStatus
from tests import factories
from tests.finance.factories_recon import period, refunded
from tests.payments.conftest import PAID_PROCEDURE, card, pay, run_outbox
from tests.payments.test_localstripe_peer import API_KEY, localstripe_url  # noqa: F401 - the fixture

pytestmark = pytest.mark.slow  # a localstripe server in a subprocess


class LocalstripeClient(GatewayClient):
    """The platform's Stripe adapter, around what localstripe refuses (see the module docstring)."""

    def create_payment_intent(self, *, description=None, **params):
        return super().create_payment_intent(**params)

    def confirm_payment_intent(self, intent_id, *, idempotency_key, payment_method=None, **extra):
        if payment_method is not None:
            self.request("POST", f"/payment_intents/{intent_id}", {"payment_method": payment_method},
                         idempotency_key=f"{idempotency_key}:method")
        return super().confirm_payment_intent(intent_id, idempotency_key=idempotency_key, **extra)

    def create_refund(self, *, reason=None, **params):
        return super().create_refund(**params)


@pytest.fixture
def localstripe(app, localstripe_url):  # noqa: F811 - the fixture imported above
    """The app's gateway is localstripe, through the platform's own Stripe adapter."""
    client = LocalstripeClient(f"{localstripe_url}/v1", API_KEY, sleep=lambda s: None)
    previous = app.extensions.get("payment_gateway")
    app.extensions["payment_gateway"] = client
    yield client
    app.extensions["payment_gateway"] = previous
    client.session.close()


@pytest.fixture
def finance_key(app):
    with app.app_context():
        return factories.user_key(factories.create_user(role="finance", email="taichinh@test.vn"))


def _paid(app, client, agent_key) -> dict:
    number = factories.create_dossier(client, agent_key, procedure_code=PAID_PROCEDURE)["number"]
    assert pay(client, agent_key, number).status_code == 200
    paid = card(client, agent_key, number, attempt_key=f"attempt-{number}")
    assert paid.status_code == 200, paid.get_json()
    run_outbox(app)
    with app.app_context():
        payment = db.session.scalars(select(Payment).join(Dossier, Dossier.id == Payment.dossier_id).where(
            Dossier.number == number)).one()
        assert payment.status is PaymentStatus.PAID
        # The gateway fee's job read the expanded charge's balance transaction by its id (localstripe refuses
        # the list by ``source``): done, not failing.
        fee_jobs = db.session.execute(select(OutboxMessage.status, OutboxMessage.payload).where(
            OutboxMessage.dedupe_key == f"gateway_fee:{payment.gateway_intent_id}")).all()
        assert [(status, payload["balance_transaction"][:4]) for status, payload in fee_jobs] == [("done", "txn_")]
        return {"number": number, "intent": payment.gateway_intent_id, "amount": int(payment.amount_vnd)}


def _run(app) -> dict:
    start, end = period()
    with app.app_context():
        return recon.reconcile(start, end, actor="test:localstripe", server_filters=False, payouts=False)


def _open(app) -> list[tuple[str, str]]:
    with app.app_context():
        return sorted((i.kind.value, i.dedupe_key) for i in db.session.scalars(
            select(FinanceException).where(FinanceException.status == ExceptionStatus.OPEN)))


def test_card_payments_and_a_refund_made_through_localstripe_are_matched(app, client, agent_key, finance_key,
                                                                         localstripe):
    payments = [_paid(app, client, agent_key) for _ in range(3)]
    assert all(p["intent"].startswith("pi_") for p in payments)
    refund_id = refunded(app, client, finance_key, payments[0]["number"], 50_000)
    assert refund_id.startswith("re_")

    run = _run(app)
    assert run["status"] == "succeeded", run
    assert run["counts"]["fetched"]["transactions"] >= 4  # three charges and the refund (and earlier tests')
    with app.app_context():
        staged = {t.payment_intent: t for t in db.session.scalars(select(GatewayTransaction).where(
            GatewayTransaction.type == "charge"))}
        for paid in payments:  # each charge read with its PaymentIntent, from the expanded source
            assert staged[paid["intent"]].amount == paid["amount"]
        refunds = db.session.scalars(select(GatewayTransaction).where(GatewayTransaction.source == refund_id)).all()
        assert [(t.type, t.amount) for t in refunds] == [("refund", -50_000)]
    # Every charge and the refund is matched: nothing of ours is in the queue.
    ours = {p["intent"] for p in payments} | {refund_id}
    assert not [item for item in _open(app) if item[1].split(":", 1)[1] in ours], _open(app)
    assert run["counts"]["found"]["missing_at_gateway"] == 0
    assert run["counts"]["found"]["amount_mismatch"] == 0 and run["counts"]["found"]["fee_mismatch"] == 0


def test_a_charge_at_localstripe_that_the_ledger_lacks_is_queued(app, client, agent_key, localstripe):
    _paid(app, client, agent_key)
    # Someone charges a card at the gateway outside the platform.
    method = localstripe.request("POST", "/payment_methods", {
        "type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}},
        idempotency_key="outside-pm")
    stranger = localstripe.create_payment_intent(amount=77_000, idempotency_key="outside", payment_method=method["id"],
                                                 confirm=True)
    run = _run(app)
    assert run["counts"]["found"]["missing_in_ledger"] >= 1
    with app.app_context():
        item = db.session.scalars(select(FinanceException).where(
            FinanceException.kind == "missing_in_ledger",
            FinanceException.amount_vnd == 77_000)).all()
        assert [i.theirs["intent"] for i in item] == [stranger["id"]]


def test_what_localstripe_lacks_is_a_stated_limitation(localstripe, localstripe_url):  # noqa: F811
    # Stripe's filters on balance transactions are refused: the run must list everything (server_filters=False).
    for params in ({"created[gte]": 1}, {"payout": "po_any"}):
        with pytest.raises(InvalidRequestError) as refused:
            localstripe.request("GET", "/balance_transactions", params)
        assert refused.value.http_status == 400
    # Payouts: manual, eur only; a vnd payout is refused, so no vnd balance is ever paid out there.
    with pytest.raises(InvalidRequestError):
        localstripe.request("POST", "/payouts", {"amount": 100_000, "currency": "vnd"}, idempotency_key="po-vnd")
    payout = localstripe.request("POST", "/payouts", {"amount": 100, "currency": "eur"}, idempotency_key="po-eur")
    assert payout["automatic"] is False and payout["balance_transaction"].startswith("txn_")
    listed = requests.get(f"{localstripe_url}/v1/balance_transactions/{payout['balance_transaction']}",
                          auth=(API_KEY, ""), timeout=5)
    assert listed.status_code == 404  # the payout's balance transaction is made up: nothing lists it
    with pytest.raises(InvalidRequestError):
        list(localstripe.paginate("/balance_transactions", {"payout": payout["id"]}))


def test_payouts_fetched_from_a_peer_without_payouts_are_none(app, client, agent_key, localstripe):
    _paid(app, client, agent_key)
    run = _run(app)
    assert run["counts"]["fetched"]["payouts"] == 0 and run["counts"]["fetched"]["payout_transactions"] == 0
    with app.app_context():
        assert db.session.scalars(select(GatewayPayout)).all() == []
