"""A courier API stub for the HTTP adapter's tests: the small API documented in courier/adapters/http.py,
served by http.server in a thread, with a memory of its own (idempotency keys, pickups, events)."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from courier.adapters import signing, wire
from courier.adapters.base import ShipmentStatus, TrackingEvent

API_KEY = "ck_test_stub"
SECRET = "cwhsec_test_stub"


class StubCourier:
    def __init__(self):
        self.shipments: dict[str, dict] = {}  # by our idempotency key
        self.pickups: dict[str, dict] = {}
        self.events: dict[str, list[TrackingEvent]] = {}  # by tracking number
        self.requests: list[tuple[str, str]] = []
        self.fail_next: dict[tuple[str, str], list[int]] = {}  # (method, path prefix) → statuses to answer first
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    # -- what a test does -------------------------------------------------------------------------

    def add_event(self, tracking_number: str, status: ShipmentStatus, at, attempt: int = 1, **extra) -> TrackingEvent:
        with self.lock:
            events = self.events.setdefault(tracking_number, [])
            event = TrackingEvent(f"evt_{tracking_number}_{len(events) + 1}", tracking_number, status, at,
                                  attempt=attempt, **extra)
            events.append(event)
            return event

    @staticmethod
    def webhook(events: list[TrackingEvent], secret: str = SECRET, timestamp: int | None = None):
        """A push as the courier sends it: body and headers."""
        body = json.dumps({"id": f"whk_{events[0].event_id}", "type": "tracking.updated",
                           "events": [wire.event_to_json(e) for e in events]}).encode()
        return body, {"Content-Type": "application/json",
                      signing.HEADER: signing.sign(body, secret, timestamp)}

    def count(self, method: str, prefix: str) -> int:
        return sum(1 for m, p in self.requests if m == method and p.startswith(prefix))

    # -- the server -------------------------------------------------------------------------------

    def _handler(self):
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _start(self, method: str) -> str | None:
                path = self.path.removeprefix("/v1")
                with stub.lock:
                    stub.requests.append((method, path))
                    for (m, prefix), statuses in stub.fail_next.items():
                        if m == method and path.startswith(prefix) and statuses:
                            self._answer(statuses.pop(0), {"error": "try again"})
                            return None
                if self.headers.get("Authorization") != f"Bearer {API_KEY}":
                    self._answer(401, {"error": "bad key"})
                    return None
                return path

            def do_GET(self):  # noqa: N802
                path = self._start("GET")
                if path is None:
                    return
                found = re.fullmatch(r"/tracking/([\w-]+)", path)
                if not found:
                    return self._answer(404, {"error": "not found"})
                with stub.lock:
                    events = [wire.event_to_json(e) for e in stub.events.get(found.group(1), [])]
                return self._answer(200, {"tracking_number": found.group(1), "events": events})

            def do_POST(self):  # noqa: N802
                path = self._start("POST")
                if path is None:
                    return
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                key = self.headers.get("Idempotency-Key")
                if not key:
                    return self._answer(400, {"error": "Idempotency-Key required"})
                with stub.lock:
                    if path == "/shipments":
                        if key in stub.shipments:
                            return self._answer(200, stub.shipments[key])
                        n = len(stub.shipments) + 1
                        stub.shipments[key] = {"id": f"shp_{n}", "tracking_number": f"VN{n:09d}", "status": "created",
                                               "reference": body["reference"], "recipient": body["recipient"]}
                        return self._answer(201, stub.shipments[key])
                    if path == "/pickups":
                        if key in stub.pickups:
                            return self._answer(200, stub.pickups[key])
                        stub.pickups[key] = {"id": f"pk_{len(stub.pickups) + 1}", "status": "scheduled", **body}
                        return self._answer(201, stub.pickups[key])
                    cancel = re.fullmatch(r"/pickups/([\w-]+)/cancel", path)
                    if cancel:
                        for pickup in stub.pickups.values():
                            if pickup["id"] == cancel.group(1):
                                pickup["status"] = "cancelled"
                                return self._answer(200, pickup)
                return self._answer(404, {"error": "not found"})

        return Handler
