"""Card payments through the API and the sandbox gateway, webhooks included: charged once, booked once."""

from __future__ import annotations

import json
import time

from core import signatures
from core.extensions import db
from payments.models import Payment
from tests.factories import auth
from tests.payments.conftest import card, ledger_rows, pay, run_outbox, webhook_events


def _charges(app) -> int:
    with app.app_context():
        return db.session.execute(db.text("SELECT count(*) FROM sandbox_balance_transactions WHERE type = 'charge'")
                                  ).scalar_one()


def _payment(app, number: str) -> Payment:
    with app.app_context():
        return db.session.execute(db.text("SELECT p.status, p.amount_vnd, p.gateway_intent_id FROM payments p "
                                          "JOIN dossiers d ON d.id = p.dossier_id WHERE d.number = :n"),
                                  {"n": number}).one()


def test_quote_then_card_payment_is_charged_booked_and_receipted_once(app, client, agent_key, dossier):
    number = dossier["number"]
    quote = client.get(f"/api/v1/dossiers/{number}/quote", headers=auth(agent_key)).get_json()
    assert quote["state_fee"] == 200_000 and quote["courier_fee"] == 0 and quote["fixed"] is False
    assert quote["total_vnd"] == quote["state_fee"] + quote["service_fee"] + quote["courier_fee"]

    started = pay(client, agent_key, number)
    assert started.status_code == 200, started.get_json()
    assert started.get_json()["status"] == "awaiting" and started.get_json()["amount_vnd"] == quote["total_vnd"]

    paid = card(client, agent_key, number)
    body = paid.get_json()
    assert paid.status_code == 200, body
    assert body["status"] == "paid" and body["method"] == "card"
    assert [(r["kind"], r["document"]) for r in body["receipts"]] == [("payment", "fee_receipt")]  # no service fee

    # The sandbox's webhooks reached the receiver during the API call (before its answer); processing them,
    # and delivering them all again, changes nothing.
    run_outbox(app)
    types = [t for t, _ in webhook_events(app)]
    assert "payment_intent.succeeded" in types and "payment_intent.created" in types
    with app.app_context():
        from sandboxes.gateway import webhooks
        db.session.execute(db.text("UPDATE sandbox_webhook_deliveries SET status = 'pending', next_attempt_at = 0"))
        db.session.commit()
        webhooks.deliver_pending()
    run_outbox(app)
    assert len(webhook_events(app)) == len(types)  # duplicates recorded once

    rows = ledger_rows(app)
    payments = [r for r in rows if r[0] == "payment"]
    assert len(payments) == 1 and sum(amount for _, _, amount in payments[0][2]) == 0
    assert dict(((a, p), v) for a, p, v in payments[0][2])[("treasury_payable", None)] == -200_000
    assert [r[0] for r in rows].count("gateway_fee") == 1  # from the charge's balance transaction
    assert _charges(app) == 1

    again = card(client, agent_key, number, attempt_key="attempt-0002")
    assert again.status_code == 200 and again.get_json()["status"] == "paid"
    assert _charges(app) == 1 and len([r for r in ledger_rows(app) if r[0] == "payment"]) == 1


def test_the_intent_carries_the_dossier_organisation_and_components(app, client, agent_key, dossier):
    number = dossier["number"]
    pay(client, agent_key, number)
    status, amount, intent_id = _payment(app, number)
    intent = client.get(f"/sandbox-gateway/v1/payment_intents/{intent_id}",
                        headers={"Authorization": "Bearer sk_test_sandbox"}).get_json()
    meta = intent["metadata"]
    assert meta["dossier"] == number and meta["organisation"] == "VNPOST-HN"
    assert int(meta["state_fee"]) + int(meta["service_fee"]) + int(meta["courier_fee"]) == intent["amount"] == amount
    assert intent["currency"] == "vnd"


def test_a_declined_card_is_explained_in_both_languages_then_another_card_pays(app, client, agent_key, dossier):
    number = dossier["number"]
    pay(client, agent_key, number)
    declined = card(client, agent_key, number, "pm_card_visa_chargeDeclinedInsufficientFunds", "attempt-decline")
    problem = declined.get_json()
    assert declined.status_code == 402 and declined.mimetype == "application/problem+json"
    assert "số dư" in problem["detail"]
    english = card(client, agent_key, number, "pm_card_visa_chargeDeclinedInsufficientFunds", "attempt-decline")
    assert english.status_code == 402
    en = client.post(f"/api/v1/dossiers/{number}/payment/card", headers=auth(agent_key, **{"Accept-Language": "en"}),
                     json={"payment_method": "pm_card_visa_chargeDeclinedInsufficientFunds",
                           "attempt_key": "attempt-decline"}).get_json()
    assert "Insufficient funds" in en["detail"]
    assert _payment(app, number)[0] == "awaiting" and _charges(app) == 0

    paid = card(client, agent_key, number, "pm_card_mastercard", "attempt-second")
    assert paid.get_json()["status"] == "paid" and _charges(app) == 1


def test_three_d_secure_is_completed_by_the_citizen_and_the_webhook_settles_it(app, client, agent_key, dossier):
    number = dossier["number"]
    pay(client, agent_key, number)
    pending = card(client, agent_key, number, "pm_card_threeDSecure2Required", "attempt-3ds").get_json()
    assert pending["status"] == "requires_action" and "/3ds/" in pending["next_action_url"]
    path = pending["next_action_url"].split("://", 1)[1].split("/", 1)[1]
    approved = client.post("/" + path, data={"action": "approve"})
    assert approved.status_code in (200, 302)
    assert _payment(app, number)[0] == "requires_action"  # the webhook is recorded, not yet processed
    run_outbox(app)
    assert _payment(app, number)[0] == "paid"
    polled = client.get(f"/api/v1/dossiers/{number}/payment?refresh=true", headers=auth(agent_key)).get_json()
    assert polled["status"] == "paid" and polled["next_action_url"] is None
    assert len([r for r in ledger_rows(app) if r[0] == "payment"]) == 1


def test_gateway_errors_leave_a_key_to_retry_with_and_the_charge_happens_once(app, client, agent_key, dossier,
                                                                              monkeypatch):
    number = dossier["number"]
    pay(client, agent_key, number)
    monkeypatch.setattr("payments.gateway.time.sleep", lambda s: None)
    app.config["SANDBOX_GATEWAY_FAULTS"] = ["500", "500", "500"]  # more than the client's retries
    try:
        failed = card(client, agent_key, number, attempt_key="attempt-flaky")
    finally:
        app.config["SANDBOX_GATEWAY_FAULTS"] = None
    assert failed.status_code == 503 and "hai lần" in failed.get_json()["detail"]
    assert _payment(app, number)[0] == "awaiting" and _charges(app) == 0

    app.config["SANDBOX_GATEWAY_FAULTS"] = ["500", "should-retry"]  # the client's own retries absorb these
    try:
        retried = card(client, agent_key, number, attempt_key="attempt-flaky")
    finally:
        app.config["SANDBOX_GATEWAY_FAULTS"] = None
    assert retried.status_code == 200 and retried.get_json()["status"] == "paid"
    assert _charges(app) == 1


def test_a_lost_answer_is_replayed_by_the_gateway_not_charged_again(app, client, agent_key, dossier):
    """The gateway charged, but the answer never came back: the retry with the same key replays it."""
    number = dossier["number"]
    pay(client, agent_key, number)
    first = card(client, agent_key, number, attempt_key="attempt-lost")
    assert first.get_json()["status"] == "paid"
    with app.app_context():  # as if the answer had been lost: our side still thinks it is open
        db.session.execute(db.text("UPDATE payments SET status = 'awaiting'"))
        db.session.commit()
    replay = card(client, agent_key, number, attempt_key="attempt-lost")
    assert replay.get_json()["status"] == "paid" and _charges(app) == 1
    assert len([r for r in ledger_rows(app) if r[0] == "payment"]) == 1  # (kind, reference) booked once


def _signed(app, event: dict, timestamp: int | None = None, secret: str | None = None) -> tuple[bytes, str]:
    raw = json.dumps(event).encode()
    return raw, signatures.header(raw, secret or app.config["PAYMENT_WEBHOOK_SECRET"], timestamp)


def test_bad_or_stale_signatures_are_refused_and_record_nothing(app, client):
    event = {"id": "evt_forged", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_x"}}}
    raw, header = _signed(app, event, secret="whsec_wrong")
    assert client.post("/api/v1/payments/webhook", data=raw, headers={"Stripe-Signature": header}).status_code == 400
    raw, header = _signed(app, event, timestamp=int(time.time()) - 301)
    stale = client.post("/api/v1/payments/webhook", data=raw, headers={"Stripe-Signature": header})
    assert stale.status_code == 400 and stale.mimetype == "application/problem+json"
    assert client.post("/api/v1/payments/webhook", data=raw).status_code == 400
    raw, header = _signed(app, event)
    assert client.post("/api/v1/payments/webhook", data=raw + b" ", headers={"Stripe-Signature": header}
                       ).status_code == 400
    assert webhook_events(app) == []


def test_duplicate_out_of_order_and_unknown_events(app, client, agent_key, dossier):
    number = dossier["number"]
    pay(client, agent_key, number)
    assert card(client, agent_key, number).get_json()["status"] == "paid"
    intent_id = _payment(app, number)[2]
    stale_failure = {"id": "evt_late_failure", "type": "payment_intent.payment_failed",
                     "data": {"object": {"id": intent_id, "object": "payment_intent",
                                         "status": "requires_payment_method"}}}
    unknown = {"id": "evt_unknown", "type": "customer.created", "data": {"object": {"id": "cus_1"}}}
    for event in (stale_failure, stale_failure, unknown):
        raw, header = _signed(app, event)
        answer = client.post("/api/v1/payments/webhook", data=raw, headers={"Stripe-Signature": header})
        assert answer.status_code == 200
    assert answer.get_json() == {"received": True, "duplicate": False}
    raw, header = _signed(app, stale_failure)
    assert client.post("/api/v1/payments/webhook", data=raw, headers={"Stripe-Signature": header}
                       ).get_json()["duplicate"] is True
    run_outbox(app)
    outcomes = dict((t, o) for t, o in webhook_events(app) if t in ("payment_intent.payment_failed",
                                                                     "customer.created"))
    assert outcomes == {"payment_intent.payment_failed": "processed", "customer.created": "ignored"}
    assert _payment(app, number)[0] == "paid"  # the late failure was checked against the gateway: still paid
    assert len([r for r in ledger_rows(app) if r[0] == "payment"]) == 1


def test_switching_from_card_to_cash_cancels_the_intent(app, client, agent_key, dossier):
    number = dossier["number"]
    pay(client, agent_key, number)
    intent_id = _payment(app, number)[2]
    cash = client.post(f"/api/v1/dossiers/{number}/payment/cash", headers=auth(agent_key))
    assert cash.status_code == 200 and cash.get_json()["status"] == "paid" and cash.get_json()["method"] == "cash"
    intent = client.get(f"/sandbox-gateway/v1/payment_intents/{intent_id}",
                        headers={"Authorization": "Bearer sk_test_sandbox"}).get_json()
    assert intent["status"] == "canceled"
    assert card(client, agent_key, number, attempt_key="attempt-late").get_json()["method"] == "cash"
    assert _charges(app) == 0


def test_only_the_registering_agent_collects(app, client, agent_key, other_agent_key, dossier):
    number = dossier["number"]
    assert pay(client, other_agent_key, number).status_code == 404  # not even visible to another agent
    assert client.post(f"/api/v1/dossiers/{number}/payment/cash").status_code == 401


def test_a_webhook_processed_before_the_api_answer_books_once(app, client, agent_key, dossier, monkeypatch):
    """The gateway's webhook is delivered and fully processed while the charge's API call is still
    waiting for its answer; the answer then finds the payment paid and books nothing more."""
    from core import outbox
    from sandboxes.gateway.inprocess import webhook_transport

    deliver = webhook_transport(app)
    processed_first = []

    def deliver_and_process(url, body, headers, timeout):
        status = deliver(url, body, headers, timeout)
        if b"payment_intent.succeeded" in body:
            processed_first.append(outbox.run_due())
        return status

    monkeypatch.setitem(app.config, "SANDBOX_GATEWAY_WEBHOOK_TRANSPORT", deliver_and_process)
    number = dossier["number"]
    pay(client, agent_key, number)
    answer = card(client, agent_key, number, attempt_key="attempt-race")
    assert processed_first and processed_first[-1] >= 1  # the webhook's job ran inside the gateway call
    assert answer.status_code == 200 and answer.get_json()["status"] == "paid"
    assert len([r for r in ledger_rows(app) if r[0] == "payment"]) == 1
    assert len(answer.get_json()["receipts"]) == 1 and _charges(app) == 1


def test_a_daily_payout_reaches_the_ledger_once(app, client, agent_key, finance_key, dossier):
    number = dossier["number"]
    pay(client, agent_key, number)
    card(client, agent_key, number)
    run_outbox(app)
    gateway = {"Authorization": "Bearer sk_test_sandbox", "Idempotency-Key": "payout-run-1"}
    # The sandbox's balance becomes available on a later day; pay out far enough ahead.
    run = client.post("/sandbox-gateway/v1/_sandbox/payouts/run", data={"date": "2099-01-01"}, headers=gateway)
    assert run.status_code == 200, run.get_json()
    payout = run.get_json()["payout"]
    assert payout and payout["amount"] > 0
    run_outbox(app)
    payouts = [r for r in ledger_rows(app) if r[0] == "payout"]
    assert len(payouts) == 1 and dict(((a, p), v) for a, p, v in payouts[0][2])[("bank", None)] == payout["amount"]
    balances = {(r["account"], r["party"]): r["balance_vnd"] for r in
                client.get("/api/v1/finance/balances", headers=auth(finance_key)).get_json()}
    assert balances.get(("gateway_clearing", None), 0) == 0  # received - fee - paid out
