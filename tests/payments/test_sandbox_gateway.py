"""The sandbox gateway over HTTP: Stripe's formats, idempotency, money, events and webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date

import pytest
from sqlalchemy import select, text

from core.extensions import db
from sandboxes.gateway import money, webhooks
from sandboxes.gateway.http import parse_params
from sandboxes.gateway.models import SandboxWebhookDelivery

pytestmark = pytest.mark.smoke

AUTH = {"Authorization": "Bearer sk_test_sandbox"}
BASE = "/sandbox-gateway/v1"
HOOK_URL = "http://hooks.test/api/v1/payments/webhook"
TABLES = ["sandbox_webhook_deliveries", "sandbox_events", "sandbox_idempotency_keys", "sandbox_refunds",
          "sandbox_payouts", "sandbox_balance_transactions", "sandbox_payment_intents"]


class Recorder:
    def __init__(self, statuses: list[int] | None = None) -> None:
        self.calls: list[tuple[str, bytes, dict]] = []
        self.statuses = statuses or []

    def __call__(self, url: str, body: bytes, headers: dict, timeout: float) -> int:
        self.calls.append((url, body, headers))
        if self.statuses:
            status = self.statuses.pop(0)
            if status == 0:
                raise ConnectionError("refused")
            return status
        return 200

    def types(self) -> list[str]:
        return [json.loads(body)["type"] for _, body, _ in self.calls]


@pytest.fixture
def hooks(app, monkeypatch):
    recorder = Recorder()
    monkeypatch.setitem(app.config, "SANDBOX_GATEWAY_WEBHOOK_URL", HOOK_URL)
    monkeypatch.setitem(app.config, "SANDBOX_GATEWAY_WEBHOOK_TRANSPORT", recorder)
    monkeypatch.setitem(app.config, "SANDBOX_GATEWAY_WEBHOOK_SECRET", "whsec_test")
    yield recorder
    with app.app_context():
        db.session.rollback()
        for table in TABLES:
            db.session.execute(text(f"DELETE FROM {table}"))
        db.session.commit()


@pytest.fixture
def gw(client, hooks):
    def call(method: str, path: str, data: dict | None = None, headers: dict | None = None):
        kwargs = {"headers": {**AUTH, **(headers or {})}}
        if method == "GET":
            kwargs["query_string"] = data
        else:
            kwargs["data"] = data or {}
        return client.open(BASE + path, method=method, **kwargs)

    return call


def pay(gw, amount=500000, pm="pm_card_visa", **extra):
    return gw("POST", "/payment_intents", {"amount": str(amount), "currency": "vnd", "payment_method": pm,
                                           "confirm": "true", "metadata[dossier]": "HN-CN02-260101-0001",
                                           "payment_method_types[]": "card", **extra})


def test_parse_stripe_brackets():
    assert parse_params([("metadata[dossier]", "X"), ("payment_method_types[]", "card"),
                         ("payment_method_types[]", "qr"), ("items[0][price]", "p1"), ("items[1][price]", "p2"),
                         ("amount", "5")]) == {
        "metadata": {"dossier": "X"}, "payment_method_types": ["card", "qr"],
        "items": [{"price": "p1"}, {"price": "p2"}], "amount": "5"}


def test_api_key_required(client):
    missing = client.post(BASE + "/payment_intents", data={"amount": "1", "currency": "vnd"})
    assert missing.status_code == 401 and missing.json["error"]["type"] == "invalid_request_error"
    wrong = client.get(BASE + "/events", headers={"Authorization": "Bearer sk_test_wrong"})
    assert wrong.status_code == 401 and "Invalid API Key" in wrong.json["error"]["message"]


def test_success(gw, hooks):
    response = pay(gw)
    assert response.status_code == 200
    pi = response.json
    assert pi["object"] == "payment_intent" and pi["id"].startswith("pi_")
    assert pi["status"] == "succeeded" and pi["amount"] == 500000 and pi["currency"] == "vnd"
    assert pi["amount_received"] == 500000 and pi["latest_charge"].startswith("ch_")
    assert pi["metadata"] == {"dossier": "HN-CN02-260101-0001"} and pi["livemode"] is False
    assert pi["client_secret"].startswith(pi["id"] + "_secret_") and isinstance(pi["created"], int)
    assert gw("GET", f"/payment_intents/{pi['id']}").json["status"] == "succeeded"
    assert "payment_intent.succeeded" in hooks.types()


def test_validation_errors(gw):
    usd = gw("POST", "/payment_intents", {"amount": "100", "currency": "usd"})
    assert usd.status_code == 400 and usd.json["error"]["param"] == "currency"
    bad = gw("POST", "/payment_intents", {"amount": "1.5", "currency": "vnd"})
    assert bad.json["error"]["code"] == "parameter_invalid_integer"
    assert gw("GET", "/payment_intents/pi_nope").status_code == 404
    assert gw("GET", "/payment_intents/pi_nope").json["error"]["code"] == "resource_missing"


@pytest.mark.parametrize(("pm", "decline_code"), [("pm_card_chargeDeclined", "generic_decline"),
                                                 ("pm_card_visa_chargeDeclinedInsufficientFunds",
                                                  "insufficient_funds")])
def test_decline(gw, hooks, pm, decline_code):
    response = pay(gw, pm=pm)
    assert response.status_code == 402
    error = response.json["error"]
    assert error["type"] == "card_error" and error["code"] == "card_declined"
    assert error["decline_code"] == decline_code
    pi = error["payment_intent"]
    assert pi["status"] == "requires_payment_method"
    assert pi["last_payment_error"]["decline_code"] == decline_code
    assert "payment_intent.payment_failed" in hooks.types()
    retried = gw("POST", f"/payment_intents/{pi['id']}/confirm", {"payment_method": "pm_card_visa"})
    assert retried.status_code == 200 and retried.json["status"] == "succeeded"
    assert retried.json["last_payment_error"] is None


def test_three_d_secure(gw, client, hooks):
    pi = pay(gw, pm="pm_card_threeDSecure2Required").json
    assert pi["status"] == "requires_action"
    assert pi["next_action"]["type"] == "redirect_to_url"
    url = pi["next_action"]["redirect_to_url"]["url"]
    assert url.endswith(f"/sandbox-gateway/v1/3ds/{pi['id']}")
    path = url[url.index("/sandbox-gateway"):]
    page = client.get(path)
    assert page.status_code == 200 and b"approve" in page.data
    assert client.post(path, data={"action": "approve"}).status_code == 200
    assert gw("GET", f"/payment_intents/{pi['id']}").json["status"] == "succeeded"
    assert hooks.types()[-1] == "payment_intent.succeeded"

    failed = pay(gw, pm="pm_card_threeDSecure2Required").json
    client.post(failed["next_action"]["redirect_to_url"]["url"][len("http://localhost"):], data={"action": "fail"})
    again = gw("GET", f"/payment_intents/{failed['id']}").json
    assert again["status"] == "requires_payment_method"
    assert again["last_payment_error"]["code"] == "payment_intent_authentication_failure"


def test_cancel(gw, hooks):
    pi = gw("POST", "/payment_intents", {"amount": "10000", "currency": "vnd"}).json
    assert pi["status"] == "requires_payment_method"
    canceled = gw("POST", f"/payment_intents/{pi['id']}/cancel", {"cancellation_reason": "abandoned"})
    assert canceled.json["status"] == "canceled" and canceled.json["cancellation_reason"] == "abandoned"
    assert gw("POST", f"/payment_intents/{pi['id']}/cancel").json["error"]["code"] == \
        "payment_intent_unexpected_state"
    assert "payment_intent.canceled" in hooks.types()


def test_idempotent_replay_and_conflict(gw):
    key = {"Idempotency-Key": "dossier-0001-attempt-1"}
    first = gw("POST", "/payment_intents", {
        "amount": "200000", "currency": "vnd", "payment_method": "pm_card_visa", "confirm": "true"}, key)
    again = gw("POST", "/payment_intents", {
        "amount": "200000", "currency": "vnd", "payment_method": "pm_card_visa", "confirm": "true"}, key)
    assert first.status_code == again.status_code == 200
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    listed = gw("GET", "/balance_transactions", {"type": "charge"}).json["data"]
    assert len(listed) == 1  # charged once
    conflict = gw("POST", "/payment_intents", {"amount": "300000", "currency": "vnd"}, key)
    assert conflict.status_code == 400 and conflict.json["error"]["type"] == "idempotency_error"
    other_key = gw("POST", "/payment_intents", {"amount": "300000", "currency": "vnd"},
                   {"Idempotency-Key": "dossier-0001-attempt-2"})
    assert other_key.status_code == 200 and other_key.json["id"] != first.json["id"]


def test_declines_are_replayed_too(gw):
    key = {"Idempotency-Key": "decline-1"}
    data = {"amount": "1000", "currency": "vnd", "payment_method": "pm_card_chargeDeclined", "confirm": "true"}
    first = gw("POST", "/payment_intents", data, key)
    again = gw("POST", "/payment_intents", data, key)
    assert first.status_code == again.status_code == 402 and again.json == first.json


def test_fault_injection_then_retry_succeeds(gw, app, monkeypatch):
    data = {"amount": "1000", "currency": "vnd", "payment_method": "pm_card_visa", "confirm": "true"}
    key = {"Idempotency-Key": "fault-1"}
    failed = gw("POST", "/payment_intents", data, {**key, "Sandbox-Fault": "500"})
    assert failed.status_code == 500 and failed.json["error"]["type"] == "api_error"
    assert failed.headers["Stripe-Should-Retry"] == "true"
    monkeypatch.setitem(app.config, "SANDBOX_GATEWAY_FAULTS", ["should-retry"])
    busy = gw("POST", "/payment_intents", data, key)
    assert busy.status_code == 409 and busy.headers["Stripe-Should-Retry"] == "true"
    ok = gw("POST", "/payment_intents", data, key)
    assert ok.status_code == 200 and ok.json["status"] == "succeeded" and "Idempotent-Replayed" not in ok.headers


def test_refunds_partial_rest_too_much(gw, hooks):
    pi = pay(gw, amount=100000).json
    partial = gw("POST", "/refunds", {"payment_intent": pi["id"], "amount": "30000", "reason": "requested_by_customer",
                                      "metadata[dossier]": "X"})
    assert partial.status_code == 200
    refund = partial.json
    assert refund["object"] == "refund" and refund["amount"] == 30000 and refund["status"] == "succeeded"
    assert refund["charge"] == pi["latest_charge"] and refund["metadata"] == {"dossier": "X"}
    assert gw("GET", f"/refunds/{refund['id']}").json == refund
    too_much = gw("POST", "/refunds", {"payment_intent": pi["id"], "amount": "70001"})
    assert too_much.status_code == 400 and too_much.json["error"]["code"] == "amount_too_large"
    rest = gw("POST", "/refunds", {"payment_intent": pi["id"]})
    assert rest.json["amount"] == 70000
    again = gw("POST", "/refunds", {"payment_intent": pi["id"], "amount": "1"})
    assert again.status_code == 400 and again.json["error"]["type"] == "invalid_request_error"
    assert hooks.types().count("charge.refunded") == 2


def test_balance_transactions_fee_and_net(gw, app, monkeypatch):
    monkeypatch.setitem(app.config, "SANDBOX_GATEWAY_FEE_BPS", 150)
    monkeypatch.setitem(app.config, "SANDBOX_GATEWAY_FEE_FIXED", 1000)
    pi = pay(gw, amount=200000).json
    gw("POST", "/refunds", {"payment_intent": pi["id"], "amount": "50000"})
    txns = gw("GET", "/balance_transactions").json
    assert txns["object"] == "list" and txns["url"] == BASE + "/balance_transactions"
    refund, charge = txns["data"]  # newest first
    assert charge["type"] == "charge" and charge["amount"] == 200000
    assert charge["fee"] == 3000 + 1000 and charge["net"] == 196000 and charge["source"] == pi["latest_charge"]
    assert charge["fee_details"][0]["type"] == "stripe_fee"
    assert refund["type"] == "refund" and refund["amount"] == -50000 and refund["net"] == -50000


def test_pagination(gw):
    ids = [pay(gw, amount=10000 + i).json["id"] for i in range(5)]
    page1 = gw("GET", "/balance_transactions", {"limit": "2"}).json
    assert [t["amount"] for t in page1["data"]] == [10004, 10003] and page1["has_more"] is True
    page2 = gw("GET", "/balance_transactions", {"limit": "2", "starting_after": page1["data"][-1]["id"]}).json
    assert [t["amount"] for t in page2["data"]] == [10002, 10001] and page2["has_more"] is True
    page3 = gw("GET", "/balance_transactions", {"limit": "2", "starting_after": page2["data"][-1]["id"]}).json
    assert [t["amount"] for t in page3["data"]] == [10000] and page3["has_more"] is False
    assert len(ids) == 5
    assert gw("GET", "/balance_transactions", {"limit": "0"}).status_code == 400


def test_payout(gw, app, hooks):
    pay(gw, amount=100000)
    pay(gw, amount=200000)
    run = gw("POST", "/_sandbox/payouts/run", {"date": money.today().isoformat()}).json
    payout = run["payout"]
    assert payout["object"] == "payout" and payout["status"] == "paid"
    assert payout["amount"] == 100000 - 1500 + 200000 - 3000
    assert gw("POST", "/_sandbox/payouts/run", {"date": money.today().isoformat()}).json["payout"]["id"] == \
        payout["id"]  # once a day
    listed = gw("GET", "/payouts").json
    assert [p["id"] for p in listed["data"]] == [payout["id"]]
    paid = gw("GET", "/balance_transactions", {"payout": payout["id"]}).json["data"]
    assert sum(t["net"] for t in paid) == 0  # the charges and the payout itself
    assert "payout.paid" in hooks.types()
    with app.app_context():
        assert money.run_daily_payout(date(2099, 1, 1)) is None  # nothing left to pay


def test_events(gw):
    pi = pay(gw).json
    events = gw("GET", "/events").json
    assert events["object"] == "list"
    types = [e["type"] for e in events["data"]]
    assert types[0] == "payment_intent.succeeded" and "payment_intent.created" in types
    first = events["data"][0]
    assert first["object"] == "event" and first["data"]["object"]["id"] == pi["id"]
    assert gw("GET", f"/events/{first['id']}").json == first
    assert [e["type"] for e in gw("GET", "/events", {"type": "payment_intent.created"}).json["data"]] == \
        ["payment_intent.created"]


def test_webhook_signature(gw, hooks):
    pi = pay(gw).json
    url, body, headers = next(c for c in hooks.calls if json.loads(c[1])["type"] == "payment_intent.succeeded")
    assert url == HOOK_URL and json.loads(body)["data"]["object"]["id"] == pi["id"]
    parts = dict(item.split("=", 1) for item in headers["Stripe-Signature"].split(","))
    expected = hmac.new(b"whsec_test", f"{parts['t']}.{body.decode()}".encode(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)


def test_webhook_retry_after_failing_transport(gw, app, hooks):
    hooks.statuses = [500, 0, 0]  # the three events of one payment: created, charge, succeeded
    pay(gw)
    with app.app_context():
        deliveries = db.session.scalars(select(SandboxWebhookDelivery)).all()
        assert {d.status for d in deliveries} == {"pending"} and {d.attempts for d in deliveries} == {1}
        due = max(d.next_attempt_at for d in deliveries)
        assert webhooks.deliver_pending(now=due - 120, transport=hooks) == 0  # not due yet
        calls = len(hooks.calls)
        assert webhooks.deliver_pending(now=due, transport=hooks) == 3
        assert len(hooks.calls) == calls + 3
        assert {d.status for d in db.session.scalars(select(SandboxWebhookDelivery)).all()} == {"succeeded"}
