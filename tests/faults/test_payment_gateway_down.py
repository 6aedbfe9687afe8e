"""The payment gateway down, then back: a card payment and a refund through the platform's real-gateway
configuration (``PAYMENT_GATEWAY_URL``), with the gateway behind a proxy that fails on demand.

While it is down the agent gets a clear 503 in Vietnamese and English and nothing is booked or receipted;
a refund asked for meanwhile stays pending and the outbox retries it with the same Idempotency-Key. Once
it is back the same attempt key charges once, the refund completes once, and webhooks arriving late, or
twice, change nothing further. The ledger balances, and its clearing account matches the gateway's books.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import create_app
from core import outbox
from core.extensions import db
from payments.models import LedgerEntry, LedgerTransaction, Payment, Receipt, Refund, WebhookEvent
from sandboxes.gateway import DEFAULT_SECRET_KEY, DEFAULT_WEBHOOK_SECRET
from sandboxes.gateway import webhooks as sandbox_webhooks
from sandboxes.gateway.models import SandboxBalanceTransaction, SandboxEvent, SandboxWebhookDelivery
from tests import factories
from tests.factories import auth
from tests.faults.peers import GatewayProxy

pytestmark = pytest.mark.postgres

PAID_PROCEDURE = "HN-TP-001"  # 200.000 ₫ state fee
WEBHOOK = "/api/v1/payments/webhook"


@pytest.fixture
def gateway(app, monkeypatch):
    """The proxy in front of the session app's sandbox gateway; the sandbox's webhooks are held back
    (delivered by the test, late), so the test decides when the platform hears of an event."""
    monkeypatch.setitem(app.config, "SANDBOX_GATEWAY_DELIVER_INLINE", False)
    monkeypatch.setitem(app.config, "SANDBOX_GATEWAY_FAULTS", None)
    with GatewayProxy(app) as proxy:
        yield proxy


@pytest.fixture
def platform(app, gateway, tmp_path):
    """The platform as production configures it: a real gateway URL (so no sandbox gateway mounted),
    the gateway's key and webhook secret, on the test database."""
    platform = create_app({
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "TESTING": True, "OUTBOX_THREAD": False,
        "ROUTING_LOADS_TTL_S": 0, "DOCUMENT_STORAGE_DIR": str(tmp_path / "documents"),
        "PAYMENT_GATEWAY_URL": gateway.url, "PAYMENT_GATEWAY_KEY": DEFAULT_SECRET_KEY,
        "PAYMENT_GATEWAY_TIMEOUT_S": 0.5, "PAYMENT_WEBHOOK_SECRET": DEFAULT_WEBHOOK_SECRET,
    })
    assert "gateway" not in platform.extensions["sandboxes"]  # the real-gateway path, not the sandbox's
    yield platform
    with platform.app_context():
        db.session.remove()
        db.engine.dispose()


def run_outbox(platform) -> int:
    with platform.app_context():
        done = 0
        while ran := outbox.run_due():
            done += ran
        return done


def open_messages(platform, topic: str) -> list[outbox.OutboxMessage]:
    with platform.app_context():
        rows = list(db.session.scalars(select(outbox.OutboxMessage).where(
            outbox.OutboxMessage.topic == topic, outbox.OutboxMessage.status != "done")))
        db.session.expunge_all()
        return rows


def books(platform) -> dict:
    """What the platform recorded: ledger transactions, receipts, the payment and its refunds."""
    with platform.app_context():
        txns = [(t.kind, t.reference) for t in db.session.scalars(select(LedgerTransaction)
                                                                   .order_by(LedgerTransaction.id))]
        receipts = [(r.kind, r.source_reference) for r in db.session.scalars(select(Receipt).order_by(Receipt.id))]
        payment = db.session.scalars(select(Payment)).one_or_none()
        refunds = [(r.status, int(r.amount_vnd), r.gateway_refund_id)
                   for r in db.session.scalars(select(Refund).order_by(Refund.id))]
        return {"ledger": txns, "receipts": receipts, "refunds": refunds,
                "payment": None if payment is None else (payment.status.value, int(payment.amount_vnd),
                                                         int(payment.refunded_vnd))}


def gateway_books(app) -> dict[str, list[int]]:
    """The gateway's own balance transactions (the sandbox's tables): amounts by type."""
    with app.app_context():
        found: dict[str, list[int]] = {}
        for txn in db.session.scalars(select(SandboxBalanceTransaction).order_by(SandboxBalanceTransaction.created)):
            found.setdefault(txn.type, []).append(int(txn.amount))
        net = db.session.scalar(select(func.coalesce(func.sum(SandboxBalanceTransaction.net), 0)))
        return {**found, "net": [int(net)]}


def deliver_webhooks(app, platform_client) -> int:
    """The sandbox's held-back deliveries, now (late), to the platform's receiver over its HTTP interface."""
    def transport(url: str, body: bytes, headers: dict, timeout: float) -> int:
        return platform_client.post(url, data=body, headers=headers).status_code

    with app.app_context():
        return sandbox_webhooks.deliver_pending(transport=transport)


def redeliver_all(app, platform_client) -> list[dict]:
    """Every event the gateway sent, sent again (a gateway's at-least-once delivery), freshly signed."""
    with app.app_context():
        bodies = [e.body for e in db.session.scalars(select(SandboxEvent).order_by(SandboxEvent.created))]
    answers = []
    for body in bodies:
        headers = {"Content-Type": "application/json",
                   "Stripe-Signature": sandbox_webhooks.sign(body, DEFAULT_WEBHOOK_SECRET, int(time.time()))}
        answers.append(platform_client.post(WEBHOOK, data=body.encode(), headers=headers).get_json())
    return answers


def assert_unavailable(response) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["code"] == "gateway_unavailable"
    assert problem["title_vi"] == "Cổng thanh toán không phản hồi" and problem["title_en"] == \
        "Payment gateway unavailable"
    assert "không có khoản nào bị trừ hai lần" in problem["detail_vi"]
    assert "nothing is charged twice" in problem["detail_en"]


def test_gateway_down_then_back_charges_once_refunds_once_and_late_webhooks_change_nothing(
        app, platform, gateway, agent_key, clock):
    client = platform.test_client()
    with app.app_context():
        finance_key = factories.user_key(factories.create_user(role="finance", email="taichinh.faults@test.vn"))
    number = factories.create_dossier(client, agent_key, procedure_code=PAID_PROCEDURE)["number"]
    pay_path, card_path = f"/api/v1/dossiers/{number}/payment", f"/api/v1/dossiers/{number}/payment/card"
    nothing = {"ledger": [], "receipts": [], "refunds": []}

    # Down (503, then a dropped connection): choosing card needs a PaymentIntent, which cannot be made.
    gateway.mode = "503"
    assert_unavailable(client.post(pay_path, json={"method": "card"}, headers=auth(agent_key)))
    gateway.mode = "drop"
    assert_unavailable(client.post(pay_path, json={"method": "card"}, headers=auth(agent_key)))
    created = gateway.posts("/payment_intents")
    assert len(created) == 6 and len({r["key"] for r in created}) == 1  # 3 tries each, one key throughout
    assert {k: v for k, v in books(platform).items() if k != "payment"} == nothing
    assert books(platform)["payment"] == ("awaiting", 200_000, 0)

    # Back for a moment: the intent is made, with that same key.
    gateway.mode = "up"
    started = client.post(pay_path, json={"method": "card"}, headers=auth(agent_key))
    assert started.status_code == 200 and started.get_json()["status"] == "awaiting"
    assert gateway.posts("/payment_intents")[-1]["key"] == created[0]["key"]

    # Down again while the card is charged: hanging (timeouts), then the worst case, the gateway charging
    # and its answer lost on the way back.
    card = {"payment_method": "pm_card_visa", "attempt_key": "tablet-attempt-1"}
    gateway.mode = "hang"
    assert_unavailable(client.post(card_path, json=card, headers=auth(agent_key)))
    assert gateway_books(app).get("charge") is None
    gateway.mode = "lost"
    assert_unavailable(client.post(card_path, json=card, headers=auth(agent_key)))
    assert gateway_books(app)["charge"] == [200_000]  # charged at the gateway, unknown to the platform
    assert {k: v for k, v in books(platform).items() if k != "payment"} == nothing  # nothing booked, no receipt
    assert client.get(pay_path, headers=auth(agent_key)).get_json()["status"] == "awaiting"
    # Cash instead? Not while the card intent cannot be cancelled: it may have charged (it did).
    gateway.mode = "503"
    assert_unavailable(client.post(f"{pay_path}/cash", headers=auth(agent_key)))
    assert {k: v for k, v in books(platform).items() if k != "payment"} == nothing

    # Back: the tablet retries with the same attempt key; the gateway replays its charge.
    gateway.mode = "up"
    paid = client.post(card_path, json=card, headers=auth(agent_key))
    assert paid.status_code == 200 and paid.get_json()["status"] == "paid", paid.get_json()
    with platform.app_context():
        payment_id = db.session.scalar(select(Payment.id))
    confirms = [r for r in gateway.posts("/payment_intents/") if r["path"].endswith("/confirm")]
    assert {r["key"] for r in confirms} == {f"confirm-{payment_id}-tablet-attempt-1"}
    # A new attempt key on the tablet (a second press) does not charge again either.
    again = client.post(card_path, json={**card, "attempt_key": "tablet-attempt-2"}, headers=auth(agent_key))
    assert again.status_code == 200 and again.get_json()["status"] == "paid"
    assert gateway_books(app)["charge"] == [200_000]
    run_outbox(platform)  # the paid SMS, the gateway's fee
    after_payment = books(platform)
    assert after_payment["payment"] == ("paid", 200_000, 0)
    assert [kind for kind, _ in after_payment["ledger"]] == ["payment", "gateway_fee"]
    assert [kind for kind, _ in after_payment["receipts"]] == ["payment"]

    # Down during a refund: accepted, pending, retried in the background with the same key.
    gateway.mode = "503"
    refund = client.post(f"/api/v1/dossiers/{number}/refunds", json={"amount_vnd": 50_000, "reason": "Thu thừa"},
                         headers=auth(finance_key, **{"Idempotency-Key": "refund-0001"}))
    assert refund.status_code == 201 and refund.get_json()["status"] == "pending", refund.get_json()
    for _ in range(2):  # the outbox's retries while it is still down, each after its backoff
        [retry] = open_messages(platform, "payments.retry_refund")
        clock.set(retry.due_at + timedelta(seconds=1))
        run_outbox(platform)
    [retry] = open_messages(platform, "payments.retry_refund")
    assert retry.status == "pending" and retry.attempts == 2 and "Service Unavailable" in (retry.last_error or "")
    assert books(platform)["refunds"] == [("pending", 50_000, None)]
    assert [kind for kind, _ in books(platform)["ledger"]] == ["payment", "gateway_fee"]  # nothing reversed yet
    assert gateway_books(app).get("refund") is None

    gateway.mode = "up"
    clock.set(retry.due_at + timedelta(seconds=1))
    run_outbox(platform)
    refund_keys = {r["key"] for r in gateway.posts("/refunds")}
    # The request's call and two retries while down (3 tries each), then the one that worked: one key.
    assert len(gateway.posts("/refunds")) == 10 and len(refund_keys) == 1
    assert open_messages(platform, "payments.retry_refund") == []
    # The same request again (finance pressed twice) is the same refund, not a second one.
    twice = client.post(f"/api/v1/dossiers/{number}/refunds", json={"amount_vnd": 50_000, "reason": "Thu thừa"},
                        headers=auth(finance_key, **{"Idempotency-Key": "refund-0001"}))
    assert twice.status_code == 201 and twice.get_json()["id"] == refund.get_json()["id"]
    done = books(platform)
    assert done["payment"] == ("partially_refunded", 200_000, 50_000)
    assert [(status, amount) for status, amount, _ in done["refunds"]] == [("succeeded", 50_000)]
    assert [kind for kind, _ in done["ledger"]] == ["payment", "gateway_fee", "refund"]
    assert [kind for kind, _ in done["receipts"]] == ["payment", "refund"]
    assert gateway_books(app)["refund"] == [-50_000] and gateway_books(app)["charge"] == [200_000]

    # The webhooks the gateway held back arrive now, late; then every one of them again.
    delivered = deliver_webhooks(app, client)
    with app.app_context():
        assert delivered == db.session.scalar(select(func.count()).select_from(SandboxWebhookDelivery)) >= 2
    run_outbox(platform)
    assert all(answer == {"received": True, "duplicate": True} for answer in redeliver_all(app, client))
    run_outbox(platform)
    assert books(platform) == done
    with platform.app_context():
        outcomes = {e.type: e.outcome for e in db.session.scalars(select(WebhookEvent))}
        # Nothing left open that is due (a later message, such as the nightly SMS purge, is no backlog).
        backlog = [(m.topic, m.status, m.last_error) for m in db.session.scalars(
            select(outbox.OutboxMessage).where(outbox.OutboxMessage.status != "done",
                                               outbox.OutboxMessage.due_at <= clock.at))]
    assert outcomes.get("payment_intent.succeeded") == "processed", (outcomes, [
        (m.topic, m.status, m.attempts, m.last_error) for m in open_messages(platform, "payments.webhook_event")])
    assert backlog == []

    # The ledger: every transaction sums to zero, and the clearing account is what the gateway holds.
    with platform.app_context():
        sums = db.session.execute(select(LedgerEntry.transaction_id, func.sum(LedgerEntry.amount_vnd))
                                  .group_by(LedgerEntry.transaction_id)).all()
        clearing = db.session.scalar(select(func.sum(LedgerEntry.amount_vnd))
                                     .where(LedgerEntry.account == "gateway_clearing"))
    balances = {(b["account"], b["party"]): b["balance_vnd"]
                for b in client.get("/api/v1/finance/balances", headers=auth(finance_key)).get_json()}
    assert len(sums) == 3 and all(int(total) == 0 for _, total in sums)
    assert int(clearing) == gateway_books(app)["net"][0] == balances[("gateway_clearing", None)]
    assert balances[("treasury_payable", None)] == -150_000  # the state fee, less what was refunded


def test_a_charge_whose_answer_was_lost_is_settled_by_its_webhook_once_the_gateway_answers_again(
        app, platform, gateway, agent_key, clock):
    """The other order: the gateway's webhook reaches the platform while the gateway's API is still down
    for it; the event's job (which fetches the intent again) is retried until it answers, and the
    tablet's retry afterwards finds the payment paid without a second charge."""
    client = platform.test_client()
    number = factories.create_dossier(client, agent_key, procedure_code=PAID_PROCEDURE)["number"]
    assert client.post(f"/api/v1/dossiers/{number}/payment", json={"method": "card"},
                       headers=auth(agent_key)).status_code == 200
    card = {"payment_method": "pm_card_visa", "attempt_key": "tablet-attempt-1"}
    gateway.mode = "lost"
    assert_unavailable(client.post(f"/api/v1/dossiers/{number}/payment/card", json=card, headers=auth(agent_key)))
    gateway.mode = "drop"
    assert deliver_webhooks(app, client) >= 2  # payment_intent.succeeded among them: recorded, job queued
    run_outbox(platform)
    with platform.app_context():
        jobs = list(db.session.scalars(select(outbox.OutboxMessage).where(
            outbox.OutboxMessage.topic == "payments.webhook_event", outbox.OutboxMessage.status == "pending",
            outbox.OutboxMessage.attempts == 1)))
        assert jobs and all("unreachable" in job.last_error for job in jobs)
        clock.set(max(job.due_at for job in jobs) + timedelta(seconds=1))
    assert books(platform)["payment"] == ("awaiting", 200_000, 0) and books(platform)["ledger"] == []

    gateway.mode = "up"
    run_outbox(platform)
    settled = books(platform)
    assert settled["payment"] == ("paid", 200_000, 0)
    assert [kind for kind, _ in settled["ledger"]] == ["payment", "gateway_fee"]
    assert [kind for kind, _ in settled["receipts"]] == ["payment"]
    confirms_before = len(gateway.posts("/payment_intents/"))
    again = client.post(f"/api/v1/dossiers/{number}/payment/card", json=card, headers=auth(agent_key))
    assert again.status_code == 200 and again.get_json()["status"] == "paid"
    assert len(gateway.posts("/payment_intents/")) == confirms_before  # paid: the gateway is not asked again
    assert gateway_books(app)["charge"] == [200_000]
    assert all(a["duplicate"] for a in redeliver_all(app, client))
    run_outbox(platform)
    assert books(platform) == settled


def test_a_second_attempt_on_a_charge_the_gateway_already_made_while_its_reads_fail_is_a_503(
        app, platform, gateway, agent_key, clock):
    """The answer of a charge was lost; the tablet tries a new attempt key; the gateway refuses to confirm
    a paid intent (400), and fetching the intent then fails: the agent gets the 503 problem, not a 500,
    and a later try settles the payment once."""
    client = platform.test_client()
    number = factories.create_dossier(client, agent_key, procedure_code=PAID_PROCEDURE)["number"]
    card_path = f"/api/v1/dossiers/{number}/payment/card"
    assert client.post(f"/api/v1/dossiers/{number}/payment", json={"method": "card"},
                       headers=auth(agent_key)).status_code == 200
    gateway.mode = "lost"
    card = {"payment_method": "pm_card_visa", "attempt_key": "tablet-attempt-1"}
    assert_unavailable(client.post(card_path, json=card, headers=auth(agent_key)))

    gateway.mode, gateway.get_mode = "up", "503"  # writes answered, reads failing
    second = {**card, "attempt_key": "tablet-attempt-2"}
    assert_unavailable(client.post(card_path, json=second, headers=auth(agent_key)))
    assert books(platform)["ledger"] == [] and books(platform)["receipts"] == []

    gateway.get_mode = None
    paid = client.post(card_path, json=second, headers=auth(agent_key))
    assert paid.status_code == 200 and paid.get_json()["status"] == "paid"
    assert gateway_books(app)["charge"] == [200_000]
    assert [kind for kind, _ in books(platform)["ledger"]] == ["payment"]
