"""External peers the fault tests switch off and on: a payment gateway and a courier on 127.0.0.1.

``GatewayProxy`` is what the platform's ``PAYMENT_GATEWAY_URL`` points at: an HTTP server in a thread
that, while ``up``, forwards every request to the dev sandbox gateway (sandboxes/gateway, served by a
Flask app in-process) and, while down, fails the way a real gateway does:

- ``"503"``: answers 503 with Stripe's ``api_error`` object (the work is not done);
- ``"drop"``: closes the connection without a word (the work is not done);
- ``"hang"``: says nothing until the client's read timeout gives up (the work is not done);
- ``"lost"``: forwards the request (the gateway does the work), then drops the answer: the outcome
  is unknown to the platform, which is exactly what idempotency keys are for.

``DownCourier`` is the courier API stub of tests/courier (Idempotency-Key honoured: the same key is
the same shipment or pickup) with a switch: while ``down`` it answers 503 or drops the connection.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.courier.stub_courier import StubCourier

PREFIX = "/v1"
SANDBOX_PREFIX = "/sandbox-gateway/v1"
FORWARDED_HEADERS = ("Authorization", "Idempotency-Key", "Stripe-Version", "Content-Type", "Accept")


class GatewayProxy:
    def __init__(self, sandbox_app):
        self.sandbox_app = sandbox_app
        self.mode = "up"  # up | 503 | drop | hang | lost
        self.get_mode: str | None = None  # when set, the mode of GET requests (reads down, writes up)
        self.requests: list[dict] = []  # every request that reached this server: method, path, key, mode
        self.lock = threading.Lock()
        self.release = threading.Event()  # frees "hang" handlers at the end
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with proxy.lock:
                    mode = proxy.get_mode if self.command == "GET" and proxy.get_mode else proxy.mode
                    proxy.requests.append({"method": self.command, "path": self.path.split("?")[0],
                                           "key": self.headers.get("Idempotency-Key"), "mode": mode})
                if mode == "503":
                    return self._send(503, {"error": {"type": "api_error", "message": "Service Unavailable"}})
                if mode == "drop":
                    self.close_connection = True
                    return None
                if mode == "hang":
                    proxy.release.wait(10)  # longer than the client's read timeout
                    self.close_connection = True
                    return None
                status, headers, data = proxy.forward(self.command, self.path, dict(self.headers), body)
                if mode == "lost":
                    self.close_connection = True  # done at the gateway; the answer never arrives
                    return None
                return self._send(status, data, headers)

            def _send(self, status: int, body, headers: dict | None = None):
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                for name, value in (headers or {}).items():
                    if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(name, value)
                if not any(name.lower() == "content-type" for name in headers or {}):
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
                return None

            do_GET = do_POST = _handle  # noqa: N815 - http.server's names

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}{PREFIX}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def forward(self, method: str, path: str, headers: dict, body: bytes) -> tuple[int, dict, bytes]:
        """The request as the sandbox gateway answers it (a Flask test client: a thread of its own is fine)."""
        target = SANDBOX_PREFIX + path.removeprefix(PREFIX)
        wanted = {name: headers[name] for name in FORWARDED_HEADERS if name in headers}
        answer = self.sandbox_app.test_client().open(target, method=method, headers=wanted, data=body)
        return answer.status_code, dict(answer.headers), answer.get_data()

    def posts(self, path_prefix: str) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if r["method"] == "POST" and r["path"].startswith(PREFIX + path_prefix)]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class DownCourier(StubCourier):
    """The courier stub with an outage switch: ``down`` is None (up), ``"503"``, ``"drop"``, or ``"lost"``
    (the stub does the work, then the answer is dropped)."""

    def __init__(self):
        self.down: str | None = None
        super().__init__()

    def _handler(self):
        base = super()._handler()
        stub = self

        class Handler(base):
            def _answer(self, status: int, body: dict) -> None:
                if getattr(self, "lose_answer", False):
                    self.close_connection = True  # done at the courier; the answer never arrives
                    return
                super()._answer(status, body)

            def _start(self, method: str) -> str | None:
                self.lose_answer = stub.down == "lost"
                if stub.down in (None, "lost"):
                    return super()._start(method)
                with stub.lock:
                    stub.requests.append((method, "!down " + self.path.removeprefix("/v1")))
                if stub.down == "drop":
                    self.close_connection = True
                    return None
                self._answer(503, {"error": "down for maintenance"})
                return None

        return Handler

    def calls(self, method: str, prefix: str, *, down: bool) -> int:
        """Requests that reached the stub while it was down (``down=True``) or up."""
        with self.lock:
            marker = "!down "
            return sum(1 for m, p in self.requests if m == method
                       and (p.startswith(marker + prefix) if down else p.startswith(prefix)))
