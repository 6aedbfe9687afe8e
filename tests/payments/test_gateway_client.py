"""The gateway client against a scripted gateway mounted as a requests transport adapter:
encoding, keys, Stripe's retry rules, pagination, typed errors."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from requests.adapters import BaseAdapter

from payments.errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    CardError,
    IdempotencyError,
    InvalidRequestError,
)
from payments.gateway import GatewayClient, encode

BASE = "http://gw.test/v1"


class Scripted(BaseAdapter):
    """Answers requests in order from a script of (status, body, headers) or exceptions."""

    def __init__(self, *answers):
        super().__init__()
        self.answers, self.seen = list(answers), []

    def send(self, request, **kwargs):
        self.seen.append((request, kwargs))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, body, headers = (*answer, {})[:3] if len(answer) == 2 else answer
        response = requests.Response()
        response.status_code, response.url, response.request = status, request.url, request
        response._content = json.dumps(body).encode()
        response.headers.update({"Content-Type": "application/json", **headers})
        return response

    def close(self):
        pass


def client(*answers, **kwargs):
    adapter = Scripted(*answers)
    session = requests.Session()
    session.mount("http://gw.test", adapter)
    sleeps = []
    made = GatewayClient(BASE, "sk_test_x", session=session, sleep=sleeps.append, jitter=lambda: 1.0, **kwargs)
    return made, adapter, sleeps


def form(request) -> dict:
    return dict(parse_qsl(request.body or ""))


PI = {"id": "pi_1", "object": "payment_intent", "amount": 150000, "currency": "vnd", "status": "succeeded"}


def test_form_encoding_is_stripes():
    assert encode({"amount": 150000, "metadata": {"dossier": "HN-CN02-261124-0001", "org": "VNPOST-HN"},
                   "expand": ["latest_charge"], "confirm": True, "skip": None,
                   "items": [{"price": "p1", "quantity": 2}]}) == [
        ("amount", "150000"), ("metadata[dossier]", "HN-CN02-261124-0001"), ("metadata[org]", "VNPOST-HN"),
        ("expand[0]", "latest_charge"), ("confirm", "true"), ("items[0][price]", "p1"), ("items[0][quantity]", "2"),
    ]


def test_create_sends_bearer_key_idempotency_key_and_vnd_as_whole_dong():
    gw, adapter, _ = client((200, PI))
    intent = gw.create_payment_intent(amount=150000, idempotency_key="dossier-1-charge",
                                      metadata={"dossier": "HN-CN02-261124-0001"}, payment_method="pm_card_visa",
                                      confirm=True)
    request, kwargs = adapter.seen[0]
    assert intent["id"] == "pi_1"
    assert request.method == "POST" and urlsplit(request.url).path == "/v1/payment_intents"
    assert request.headers["Authorization"] == "Bearer sk_test_x"
    assert request.headers["Idempotency-Key"] == "dossier-1-charge"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form(request) == {"amount": "150000", "currency": "vnd", "metadata[dossier]": "HN-CN02-261124-0001",
                             "payment_method": "pm_card_visa", "confirm": "true"}
    assert kwargs["timeout"] == (3.05, 20.0)


@pytest.mark.parametrize("bad", [{"amount": 1500.5}, {"amount": 0}, {"amount": 100, "currency": "usd"}])
def test_amounts_are_positive_whole_dong_in_vnd(bad):
    gw, adapter, _ = client()
    with pytest.raises(ValueError):
        gw.create_payment_intent(idempotency_key="k", **bad)
    assert adapter.seen == []


def test_a_post_without_its_idempotency_key_is_refused_before_sending():
    gw, adapter, _ = client()
    with pytest.raises(ValueError):
        gw.request("POST", "/refunds", {"payment_intent": "pi_1"})
    assert adapter.seen == []


def test_retries_reuse_the_same_key_with_backoff_on_5xx_409_and_connection_errors():
    gw, adapter, sleeps = client(
        requests.ConnectionError("reset"), (503, {"error": {"type": "api_error"}}), (409, {"error": {}}), (200, PI),
        max_retries=3)
    assert gw.create_payment_intent(amount=150000, idempotency_key="k-1")["id"] == "pi_1"
    assert [r.headers["Idempotency-Key"] for r, _ in adapter.seen] == ["k-1"] * 4
    assert sleeps == [0.5, 1.0, 2.0]  # exponential; jitter pinned to the full delay here


def test_the_should_retry_header_decides_when_present():
    gw, adapter, _ = client((500, {"error": {"type": "api_error"}}, {"Stripe-Should-Retry": "false"}))
    with pytest.raises(APIError):
        gw.retrieve_payment_intent("pi_1")
    assert len(adapter.seen) == 1
    gw, adapter, _ = client((400, {"error": {"type": "invalid_request_error"}}, {"Stripe-Should-Retry": "true"}),
                            (200, PI))
    assert gw.retrieve_payment_intent("pi_1")["status"] == "succeeded"


def test_client_errors_are_not_retried_and_come_back_typed():
    gw, adapter, _ = client((402, {"error": {"type": "card_error", "code": "card_declined",
                                             "decline_code": "insufficient_funds", "message": "Your card has "
                                             "insufficient funds."}}, {"Request-Id": "req_9"}))
    with pytest.raises(CardError) as caught:
        gw.confirm_payment_intent("pi_1", idempotency_key="k", payment_method="pm_card_chargeDeclined")
    assert len(adapter.seen) == 1
    error = caught.value
    assert error.decline_code == "insufficient_funds" and error.http_status == 402 and error.request_id == "req_9"
    assert "không đủ số dư" in error.explain().vi and "Insufficient funds" in error.explain().en


def test_unknown_decline_codes_fall_back_to_a_general_explanation():
    error = CardError("declined", decline_code="something_new")
    assert "Ngân hàng từ chối thẻ" in error.explain().vi


@pytest.mark.parametrize(("status", "body", "kind"), [
    (400, {"error": {"type": "idempotency_error", "message": "Keys for idempotent requests can only be used with "
                                                             "the same parameters"}}, IdempotencyError),
    (401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key"}}, AuthenticationError),
    (404, {"error": {"type": "invalid_request_error", "code": "resource_missing", "param": "id"}},
     InvalidRequestError),
    (502, "not json", APIError),
])
def test_error_mapping(status, body, kind):
    gw, _, _ = client((status, body, {"Stripe-Should-Retry": "false"}))
    with pytest.raises(kind):
        gw.retrieve_payment_intent("pi_404")


def test_connection_failures_end_in_a_typed_error_after_the_retries():
    gw, adapter, sleeps = client(requests.Timeout("slow"), requests.Timeout("slow"), requests.Timeout("slow"))
    with pytest.raises(APIConnectionError):
        gw.retrieve_payment_intent("pi_1")
    assert len(adapter.seen) == 3 and len(sleeps) == 2


def test_lists_paginate_automatically():
    page1 = {"object": "list", "data": [{"id": "txn_1"}, {"id": "txn_2"}], "has_more": True}
    page2 = {"object": "list", "data": [{"id": "txn_3"}], "has_more": False}
    gw, adapter, _ = client((200, page1), (200, page2))
    assert [t["id"] for t in gw.list_balance_transactions(payout="po_1")] == ["txn_1", "txn_2", "txn_3"]
    second = dict(parse_qsl(urlsplit(adapter.seen[1][0].url).query))
    assert second == {"limit": "100", "payout": "po_1", "starting_after": "txn_2"}


def test_partial_and_full_refunds():
    gw, adapter, _ = client((200, {"id": "re_1", "amount": 50000}), (200, {"id": "re_2", "amount": 100000}))
    gw.create_refund(payment_intent="pi_1", amount=50000, reason="requested_by_customer", idempotency_key="r-1")
    gw.create_refund(payment_intent="pi_1", idempotency_key="r-2")
    assert form(adapter.seen[0][0]) == {"payment_intent": "pi_1", "amount": "50000", "reason": "requested_by_customer"}
    assert form(adapter.seen[1][0]) == {"payment_intent": "pi_1"}
