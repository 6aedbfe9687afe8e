"""The gateway client against a peer nobody here wrote: localstripe 1.15.10, a fake Stripe server.

localstripe runs as a subprocess on 127.0.0.1 and the tests talk to it only through
``GatewayClient`` (its ``/_config`` endpoint, which is not Stripe's API, is set up with
plain ``requests``). What localstripe does differently from Stripe, read in its source
(localstripe/resources.py, server.py, webhooks.py, errors.py), and so what these tests can
and cannot prove:

- Currencies: it has no currency table. An amount is stored as the integer it was sent as,
  so ``vnd`` 242000 comes back as 242000; that proves our client sends whole đồng untouched,
  not that the peer knows ``vnd`` is zero-decimal.
- Errors: every error body it sends has ``type: invalid_request_error``, a card decline
  included (HTTP 402, ``code: card_declined``, no ``decline_code``); our client takes any 402
  as a ``CardError`` (Stripe's meaning of 402), so the agent still gets the explanation.
- Declines: 4000000000000002 is declined only when attached to a customer; a PaymentIntent
  charged with it succeeds. 4000000000000341 is the number it declines at charge time.
- Refunds: it does not check the amount left to refund; a refund beyond it is accepted and
  the charge ends up refunded more than it was paid.
- Idempotency-Key and Stripe-Version are ignored; events carry api_version 2017-08-15.
- A PaymentIntent's ``latest_charge`` is the embedded charge object, not its id.
- Lists: ``/v1/balance_transactions`` takes only ``limit`` and ``starting_after`` (any filter
  is a 400), newest first; ``has_more`` and ``starting_after`` paginate as Stripe's do.
- Webhooks: registered at ``POST /_config/webhooks/<name>`` (form fields url, secret and
  optionally events[]); each event is posted about 1 s after it happens, signed as Stripe
  signs (``t=<event.created>,v1=HMAC-SHA256(secret, "<t>.<body>")``), never retried.
- It is started through its aiohttp app rather than ``python -m localstripe --port N
  --from-scratch``, because that binds every interface (``::``) and pickles its store to the
  fixed path /tmp/localstripe.pickle after every change; here it listens on 127.0.0.1 only
  and keeps its store in memory (a fresh, empty store each run).
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from core.signatures import SignatureError, verify
from payments.errors import CardError, InvalidRequestError
from payments.gateway import GatewayClient
from tests.waiting import wait_for

pytestmark = pytest.mark.slow  # a localstripe server in a subprocess

IN_CI = os.environ.get("CI", "").lower() == "true"
API_KEY = "sk_test_localstripe"
WEBHOOK_SECRET = "whsec_localstripe_peer"
DOSSIER = {"dossier": "HN-CN02-261124-0042", "organisation": "Bưu điện Hà Nội — Điểm Cửa Nam",
           "components": "fee:200000,courier:42000"}

# localstripe's app on 127.0.0.1:<port>, its store in memory only (see the module docstring).
_SERVE = """
import sys
from aiohttp import web
from localstripe import resources, server
resources.Store.dump_to_disk = lambda self: None
web.run_app(server.app, host="127.0.0.1", port=int(sys.argv[1]), print=None, shutdown_timeout=1)
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def localstripe_url(tmp_path_factory):
    if importlib.util.find_spec("localstripe") is None:
        why = "localstripe is not installed (pip install -r requirements-dev.txt)"
        if IN_CI:
            pytest.fail(f"CI=true: {why}; nothing may be skipped in CI")
        pytest.skip(why)
    port = _free_port()
    log_path = tmp_path_factory.mktemp("localstripe") / "server.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen([sys.executable, "-c", _SERVE, str(port)], stdout=log_file,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        def answers() -> bool:
            if process.poll() is not None:
                pytest.fail(f"localstripe exited with {process.returncode}: {log_path.read_text()[-2000:]}")
            try:
                return requests.get(f"{url}/v1/balance_transactions", auth=(API_KEY, ""), timeout=1).ok
            except requests.ConnectionError:
                return False

        wait_for(answers, f"localstripe to answer on {url}")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def gateway(localstripe_url):
    client = GatewayClient(f"{localstripe_url}/v1", API_KEY, sleep=lambda s: None)
    yield client
    client.session.close()


def _key(what: str) -> str:
    return f"{DOSSIER['dossier']}:{what}:{uuid.uuid4().hex[:8]}"


def _card(gateway: GatewayClient, number: str = "4242424242424242") -> str:
    method = gateway.request("POST", "/payment_methods", {
        "type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
    }, idempotency_key=_key("payment-method"))
    assert method["object"] == "payment_method" and method["card"]["last4"] == number[-4:]
    return method["id"]


def _pay(gateway: GatewayClient, amount: int = 242_000) -> dict:
    return gateway.create_payment_intent(amount=amount, idempotency_key=_key("charge"), metadata=DOSSIER,
                                         payment_method=_card(gateway), confirm=True)


# Idempotency is not asserted here: localstripe ignores Idempotency-Key (proven against the sandbox instead).


def test_a_card_payment_in_vnd_succeeds_and_keeps_its_amount_and_metadata(gateway):
    intent = _pay(gateway)
    assert intent["object"] == "payment_intent" and intent["status"] == "succeeded"
    assert intent["amount"] == 242_000 and isinstance(intent["amount"], int) and intent["currency"] == "vnd"
    assert intent["metadata"] == DOSSIER
    charge = intent["latest_charge"]  # embedded by localstripe
    assert charge["amount"] == 242_000 and charge["currency"] == "vnd" and charge["paid"] is True

    again = gateway.retrieve_payment_intent(intent["id"])
    assert (again["id"], again["status"], again["amount"], again["currency"]) == (
        intent["id"], "succeeded", 242_000, "vnd")
    assert again["metadata"] == DOSSIER


def test_created_then_confirmed(gateway):
    intent = gateway.create_payment_intent(amount=150_000, idempotency_key=_key("charge"), metadata=DOSSIER,
                                           payment_method=_card(gateway))
    assert intent["status"] == "requires_confirmation"
    confirmed = gateway.confirm_payment_intent(intent["id"], idempotency_key=_key("confirm"))
    assert confirmed["status"] == "succeeded" and confirmed["amount"] == 150_000


def test_a_partial_refund_then_one_beyond_what_is_left(gateway):
    intent = _pay(gateway)
    refund = gateway.create_refund(payment_intent=intent["id"], amount=100_000, idempotency_key=_key("refund-1"))
    assert refund["object"] == "refund" and refund["status"] == "succeeded"
    assert refund["amount"] == 100_000 and refund["currency"] == "vnd"
    assert gateway.retrieve_refund(refund["id"])["amount"] == 100_000
    # Stripe refuses this one (400, amount greater than unrefunded); localstripe does not check and accepts it.
    beyond = gateway.create_refund(payment_intent=intent["id"], amount=200_000, idempotency_key=_key("refund-2"))
    assert beyond["status"] == "succeeded" and beyond["amount"] == 200_000
    charge = gateway.retrieve_payment_intent(intent["id"])["latest_charge"]
    assert charge["amount_refunded"] == 300_000 > charge["amount"]
    # What it does refuse, as a typed error: refunding a payment that does not exist.
    with pytest.raises(InvalidRequestError) as unknown:
        gateway.create_refund(payment_intent="pi_doesnotexist0000", amount=1, idempotency_key=_key("refund-3"))
    assert unknown.value.http_status == 404


def test_balance_transactions_list_the_charges_and_refunds_page_after_page(gateway):
    intents = [_pay(gateway, amount) for amount in (10_000, 20_000, 30_000)]
    refund = gateway.create_refund(payment_intent=intents[0]["id"], amount=4_000, idempotency_key=_key("refund"))

    everything = list(gateway.list_balance_transactions())
    by_source = {txn["source"]: txn for txn in everything}
    for intent in intents:
        txn = by_source[intent["latest_charge"]["id"]]
        assert txn["type"] == "charge" and txn["currency"] == "vnd" and txn["amount"] == intent["amount"]
        assert txn["net"] == txn["amount"] - txn["fee"]
        assert txn["id"] == intent["latest_charge"]["balance_transaction"]
    assert by_source[refund["id"]]["type"] == "refund" and by_source[refund["id"]]["amount"] == -4_000

    pages = 0
    original = gateway.request

    def counting(method, path, params=None, idempotency_key=None):
        nonlocal pages
        pages += 1
        return original(method, path, params, idempotency_key)

    gateway.request = counting
    one_by_one = list(gateway.paginate("/balance_transactions", page_size=1))
    assert [txn["id"] for txn in one_by_one] == [txn["id"] for txn in everything]  # same order, none twice
    assert len(one_by_one) >= 4 and pages == len(one_by_one)  # one request per page of one


def test_a_declined_card_is_a_typed_error(gateway):
    # The number localstripe declines at charge time: a 402 that it labels invalid_request_error.
    with pytest.raises(CardError) as declined:
        gateway.create_payment_intent(amount=50_000, idempotency_key=_key("charge"), metadata=DOSSIER,
                                      payment_method=_card(gateway, "4000000000000341"), confirm=True)
    error = declined.value
    assert (error.http_status, error.code, error.message) == (402, "card_declined", "Your card was declined.")
    assert error.body["error"]["charge"].startswith("ch_") and error.decline_code is None
    assert error.explain().vi.startswith("Ngân hàng từ chối") and "declined" in error.explain().en

    # 4000000000000002 ("generic decline" at Stripe) is declined by localstripe only when attached to a customer.
    card = _card(gateway, "4000000000000002")
    customer = gateway.request("POST", "/customers", {"email": "citizen@example.vn"}, idempotency_key=_key("cus"))
    with pytest.raises(CardError) as on_attach:
        gateway.request("POST", f"/payment_methods/{card}/attach", {"customer": customer["id"]},
                        idempotency_key=_key("attach"))
    assert (on_attach.value.http_status, on_attach.value.code) == (402, "card_declined")
    charged = gateway.create_payment_intent(amount=50_000, idempotency_key=_key("charge"), payment_method=card,
                                            confirm=True)
    assert charged["status"] == "succeeded"


class _Recorder(BaseHTTPRequestHandler):
    deliveries: list[tuple[bytes, str | None]] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.deliveries.append((body, self.headers.get("Stripe-Signature")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):  # noqa: A002 - http.server's signature
        pass


@pytest.fixture
def webhook_receiver():
    _Recorder.deliveries = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhooks/gateway", _Recorder.deliveries
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_a_payment_sends_a_signed_webhook_that_our_verifier_accepts(gateway, localstripe_url, webhook_receiver):
    url, deliveries = webhook_receiver
    answer = requests.post(f"{localstripe_url}/_config/webhooks/peer-test", timeout=5, data={
        "url": url, "secret": WEBHOOK_SECRET, "events[0]": "payment_intent.succeeded"})
    assert answer.status_code == 200

    intent = _pay(gateway)
    def delivered():
        for body, signature in list(deliveries):
            event = json.loads(body)
            if event["type"] == "payment_intent.succeeded" and event["data"]["object"]["id"] == intent["id"]:
                return body, signature, event
        return None

    body, signature, event = wait_for(delivered, f"localstripe's payment_intent.succeeded for {intent['id']}")

    assert verify(body, signature, WEBHOOK_SECRET) == event["created"]
    paid = event["data"]["object"]
    assert (paid["status"], paid["amount"], paid["currency"], paid["metadata"]) == (
        "succeeded", 242_000, "vnd", DOSSIER)
    tampered = body.replace(b"242000", b"2420000", 1)
    assert tampered != body
    with pytest.raises(SignatureError):
        verify(tampered, signature, WEBHOOK_SECRET)
    with pytest.raises(SignatureError):
        verify(body, signature, "whsec_someone_else")
    assert {json.loads(delivered)["type"] for delivered, _ in deliveries} == {"payment_intent.succeeded"}  # events[]

    # The same event, as the events list and a retrieve give it back.
    assert event["id"] in {listed["id"] for listed in gateway.list_events(type="payment_intent.succeeded")}
    assert gateway.retrieve_event(event["id"])["data"]["object"]["id"] == intent["id"]
