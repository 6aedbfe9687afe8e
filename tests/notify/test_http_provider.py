"""The HTTP provider against a local stub gateway (http.server in a thread), and its signed receipts."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.timeutil import utcnow
from notify import service
from notify.models import SmsStatus
from tests import factories
from tests.notify.conftest import receipts, run_outbox, sms_rows

SECRET = "whsec_sms_test"
API_KEY = "sms-key-123"


class StubGateway:
    """A REST SMS gateway: Bearer key, Idempotency-Key honoured (same key → same message), faults on demand."""

    def __init__(self):
        self.requests: list[dict] = []
        self.messages: dict[str, str] = {}  # Idempotency-Key → message id
        self.faults: list[int] = []  # statuses to answer before the next real answer
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with stub.lock:
                    stub.requests.append({"path": self.path, "headers": dict(self.headers), "json": body})
                    status = stub.faults.pop(0) if stub.faults else None
                    if status is None and self.headers.get("Authorization") != f"Bearer {API_KEY}":
                        status = 401
                    if status is None:
                        key = self.headers["Idempotency-Key"]
                        message_id = stub.messages.setdefault(key, f"gw-{len(stub.messages) + 1}")
                answer = {"error": "fault"} if status else {"id": message_id, "status": "accepted"}
                raw = json.dumps(answer).encode()
                self.send_response(status or 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1/messages"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway(app, monkeypatch):
    with StubGateway() as stub:
        for name, value in {"SMS_PROVIDER": "http", "SMS_HTTP_URL": stub.url, "SMS_HTTP_API_KEY": API_KEY,
                            "SMS_SENDER": "TTPVHCC HN", "SMS_WEBHOOK_SECRET": SECRET}.items():
            monkeypatch.setitem(app.config, name, value)
        yield stub


def post_receipt(client, body: dict, secret: str = SECRET, signature: str | None = None):
    raw = json.dumps(body).encode()
    header = signature if signature is not None else service.signature(raw, secret)
    return client.post("/api/v1/notify/receipts", data=raw, content_type="application/json",
                       headers={service.SIGNATURE_HEADER: header})


def test_a_send_retried_after_a_5xx_is_one_message_and_a_signed_receipt_delivers_it(app, client, agent_key,
                                                                                      gateway):
    gateway.faults = [503]
    dossier = factories.create_dossier(client, agent_key)
    run_outbox(app)
    [sms] = sms_rows(app)
    assert (sms.status, sms.provider, sms.provider_message_id, sms.attempts) == (SmsStatus.SENDING, "http", "gw-1", 1)
    first, retry = gateway.requests  # urllib3 retried the 503 with the same Idempotency-Key
    assert first["headers"]["Idempotency-Key"] == retry["headers"]["Idempotency-Key"] == sms.reference
    assert retry["headers"]["Authorization"] == f"Bearer {API_KEY}"
    assert retry["json"] == {"to": "+84912345678", "from": "TTPVHCC HN", "text": sms.body, "reference": sms.reference}
    assert dossier["number"] in retry["json"]["text"]
    assert gateway.messages == {sms.reference: "gw-1"}  # one message at the gateway

    response = post_receipt(client, {"id": "gw-1", "status": "DELIVRD"})
    assert response.status_code == 200 and response.get_json() == {"received": True, "outcome": "applied"}
    [sms] = sms_rows(app)
    assert sms.status is SmsStatus.DELIVERED
    # A late failure report does not undo it.
    assert post_receipt(client, {"id": "gw-1", "status": "undelivered", "error": "late"}).get_json()["outcome"] \
        == "ignored"
    assert sms_rows(app)[0].status is SmsStatus.DELIVERED
    assert receipts(app) == [("gw-1", "delivered", "applied"), ("gw-1", "failed", "ignored")]


def test_a_bad_signature_is_refused_and_records_nothing(app, client, agent_key, gateway):
    factories.create_dossier(client, agent_key)
    run_outbox(app)
    for response in (post_receipt(client, {"id": "gw-1", "status": "delivered"}, secret="whsec_wrong"),
                     post_receipt(client, {"id": "gw-1", "status": "delivered"}, signature=""),
                     post_receipt(client, {"id": "gw-1", "status": "delivered"}, signature="sha256=00")):
        assert response.status_code == 400
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["code"] == "bad_signature"
    assert receipts(app) == [] and sms_rows(app)[0].status is SmsStatus.SENDING
    # Signed but not a receipt: 400 too, nothing recorded.
    bad = post_receipt(client, {"id": "gw-1", "status": "on the moon"})
    assert bad.status_code == 400 and bad.get_json()["code"] == "bad_receipt"
    assert receipts(app) == []


def test_no_secret_configured_refuses_every_receipt(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_WEBHOOK_SECRET", "")
    assert post_receipt(client, {"id": "gw-1", "status": "delivered"}, secret="").status_code == 400


def test_a_refused_message_fails_at_once(app, client, agent_key, gateway):
    gateway.faults = [400]
    factories.create_dossier(client, agent_key)
    run_outbox(app)
    [sms] = sms_rows(app)
    assert (sms.status, sms.attempts) == (SmsStatus.FAILED, 1) and "400" in sms.last_error
    assert len(gateway.requests) == 1


def test_an_unreachable_gateway_is_retried_through_the_outbox_then_failed(app, client, agent_key, gateway,
                                                                           monkeypatch):
    monkeypatch.setitem(app.config, "SMS_MAX_ATTEMPTS", 2)
    gateway.faults = [503] * 6  # the session's own retries (3 tries a call) exhausted twice
    factories.create_dossier(client, agent_key)
    run_outbox(app)
    [sms] = sms_rows(app)
    assert (sms.status, sms.attempts) == (SmsStatus.SENDING, 1) and "503" in sms.last_error
    run_outbox(app, now=utcnow() + timedelta(hours=1))
    [sms] = sms_rows(app)
    assert (sms.status, sms.attempts) == (SmsStatus.FAILED, 2) and sms.failed_at is not None
    assert len(gateway.requests) == 6 and gateway.messages == {}
    assert len({r["headers"]["Idempotency-Key"] for r in gateway.requests}) == 1
