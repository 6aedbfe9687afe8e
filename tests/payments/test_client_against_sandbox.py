"""The gateway client and the sandbox gateway together: a retried charge is charged once."""

from __future__ import annotations

import pytest
import requests
from requests.adapters import BaseAdapter

from payments.errors import CardError, IdempotencyError
from payments.gateway import GatewayClient

pytestmark = pytest.mark.smoke


class WSGIAdapter(BaseAdapter):
    """Hands requests' prepared requests to the Flask app in-process (no socket)."""

    def __init__(self, app):
        super().__init__()
        self.client = app.test_client()

    def send(self, request, **kwargs):
        path = request.url.split("://", 1)[1].split("/", 1)[1]
        answer = self.client.open("/" + path, method=request.method, headers=dict(request.headers),
                                  data=request.body)
        response = requests.Response()
        response.status_code, response.url, response.request = answer.status_code, request.url, request
        response._content = answer.get_data()
        response.headers.update(dict(answer.headers))
        return response

    def close(self):
        pass


@pytest.fixture
def gateway(app):
    session = requests.Session()
    session.mount("http://sandbox.local", WSGIAdapter(app))
    return GatewayClient("http://sandbox.local/sandbox-gateway/v1", "sk_test_sandbox", session=session,
                         sleep=lambda s: None)


def test_a_charge_retried_after_server_errors_is_made_once(app, gateway):
    app.config["SANDBOX_GATEWAY_FAULTS"] = ["500", "should-retry"]
    try:
        intent = gateway.create_payment_intent(amount=242_000, idempotency_key="HN-CN02-261124-0001:charge",
                                               metadata={"dossier": "HN-CN02-261124-0001"},
                                               payment_method="pm_card_visa", confirm=True)
    finally:
        app.config["SANDBOX_GATEWAY_FAULTS"] = None
    assert intent["status"] == "succeeded" and intent["amount"] == 242_000 and intent["currency"] == "vnd"
    again = gateway.create_payment_intent(amount=242_000, idempotency_key="HN-CN02-261124-0001:charge",
                                          metadata={"dossier": "HN-CN02-261124-0001"},
                                          payment_method="pm_card_visa", confirm=True)
    assert again["id"] == intent["id"]
    charges = [t for t in gateway.list_balance_transactions() if t.get("source") and t["type"] in
               ("charge", "payment")]
    assert len(charges) == 1 and charges[0]["net"] == 242_000 - charges[0]["fee"]


def test_the_same_key_with_another_amount_is_refused(gateway):
    gateway.create_payment_intent(amount=100_000, idempotency_key="k-1", payment_method="pm_card_visa", confirm=True)
    with pytest.raises(IdempotencyError):
        gateway.create_payment_intent(amount=200_000, idempotency_key="k-1", payment_method="pm_card_visa",
                                      confirm=True)


def test_a_decline_is_explained_and_refunds_never_exceed_the_payment(gateway):
    with pytest.raises(CardError) as declined:
        gateway.create_payment_intent(amount=50_000, idempotency_key="d-1",
                                      payment_method="pm_card_visa_chargeDeclinedInsufficientFunds", confirm=True)
    assert "không đủ số dư" in declined.value.explain().vi
    paid = gateway.create_payment_intent(amount=50_000, idempotency_key="p-1", payment_method="pm_card_visa",
                                         confirm=True)
    assert gateway.create_refund(payment_intent=paid["id"], amount=20_000, idempotency_key="r-1")["amount"] == 20_000
    assert gateway.create_refund(payment_intent=paid["id"], idempotency_key="r-2")["amount"] == 30_000
    with pytest.raises(Exception) as too_much:
        gateway.create_refund(payment_intent=paid["id"], amount=1, idempotency_key="r-3")
    assert getattr(too_much.value, "http_status", None) == 400
