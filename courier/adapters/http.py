"""The HTTP courier adapter: a real carrier's REST API, signed webhooks, polling as the fallback.

The API it speaks (small on purpose; a carrier's own API is mapped onto it by a thin proxy,
or this class is subclassed). JSON both ways, ``Authorization: Bearer <COURIER_API_KEY>``;
every POST carries ``Idempotency-Key`` (the same key again returns the first answer, never a
second shipment or pickup)::

    POST /shipments            {"reference", "shipper": {name, address, phone, lat, lon},
                                "recipient": {name, address, phone}, "parcel": {description, weight_g}}
                               → 201/200 {"id", "tracking_number", "status", "estimated_delivery"}
    POST /pickups              {"shipment_id", "tracking_number", "attempt", "window_start", "window_end",
                                "address": {...}}
                               → 201/200 {"id", "status": "scheduled", "estimated_delivery"}
    POST /pickups/<id>/cancel  → 200 {"id", "status": "cancelled"}
    GET  /tracking/<tracking_number>
                               → 200 {"tracking_number", "events": [<event>, …]}   (oldest first)

Events have the shape in ``courier.adapters.wire``; statuses are the shared vocabulary or one
of the synonyms mapped there. The carrier pushes ``POST <our base>/api/v1/courier/webhook``
with ``{"id", "type": "tracking.updated", "events": [...]}`` signed in
``X-Courier-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``
(``courier.adapters.signing``); a push that does not verify is refused with 400.

Transport: connect and read timeouts; urllib3's ``Retry`` retries GETs on connection errors,
429 and 5xx with exponential backoff (honouring ``Retry-After``); a POST is retried by
urllib3 only when the connection could not be made, and otherwise by the platform's outbox
later, with the same idempotency key.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from courier.adapters import wire
from courier.adapters.base import (
    Address,
    CourierAdapter,
    CourierError,
    PickupRequest,
    PickupResult,
    ShipmentRequest,
    ShipmentResult,
    TrackingEvent,
)
from courier.adapters.signing import parse_signed_webhook

RETRY_STATUSES = (429, 500, 502, 503, 504)


def _address(address: Address) -> dict:
    return {"name": address.name, "address": address.address, "phone": address.phone,
            "lat": address.lat, "lon": address.lon}


class HttpCourier(CourierAdapter):
    pushes_webhooks = True

    def __init__(self, base_url: str, api_key: str, webhook_secret: str, *, name: str = "http",
                 timeout: tuple[float, float] = (3.05, 10.0), retries: int = 3, backoff_s: float = 0.5,
                 tolerance_s: int = 300, session: requests.Session | None = None):
        if not base_url:
            raise ValueError("COURIER_API_URL is required for the HTTP courier")
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.api_key, self.webhook_secret = api_key, webhook_secret
        self.timeout, self.tolerance_s = timeout, tolerance_s
        self.session = session or requests.Session()
        retry = Retry(total=retries, connect=retries, read=retries, status=retries, other=0,
                      backoff_factor=backoff_s, status_forcelist=RETRY_STATUSES,
                      allowed_methods=frozenset({"GET"}), respect_retry_after_header=True,
                      raise_on_status=False)
        self.session.mount(self.base_url, HTTPAdapter(max_retries=retry))

    # -- operations ------------------------------------------------------------------------------

    def create_shipment(self, request: ShipmentRequest) -> ShipmentResult:
        body = {"reference": request.reference, "shipper": _address(request.shipper),
                "recipient": _address(request.recipient),
                "parcel": {"description": request.description, "weight_g": request.weight_g}}
        answer = self._call("POST", "/shipments", body, request.idempotency_key)
        return ShipmentResult(str(answer["id"]), str(answer["tracking_number"]),
                              wire.parse_time(answer.get("estimated_delivery")))

    def schedule_pickup(self, request: PickupRequest) -> PickupResult:
        body = {"shipment_id": request.shipment_id, "tracking_number": request.tracking_number,
                "attempt": request.attempt, "window_start": wire.format_time(request.window_start),
                "window_end": wire.format_time(request.window_end), "address": _address(request.address)}
        answer = self._call("POST", "/pickups", body, request.idempotency_key)
        return PickupResult(str(answer["id"]), wire.parse_time(answer.get("estimated_delivery")))

    def cancel_pickup(self, confirmation: str, idempotency_key: str) -> None:
        self._call("POST", f"/pickups/{quote(confirmation, safe='')}/cancel", {}, idempotency_key)

    def get_tracking(self, tracking_number: str) -> list[TrackingEvent]:
        answer = self._call("GET", f"/tracking/{quote(tracking_number, safe='')}")
        events = [wire.event_from_json(item, tracking_number) for item in answer.get("events", [])]
        return [event for event in events if event is not None]

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> list[TrackingEvent]:
        return parse_signed_webhook(headers, raw_body, self.webhook_secret, self.tolerance_s)

    # -- transport -------------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: dict | None = None, idempotency_key: str | None = None) -> dict:
        headers = {"Authorization": f"Bearer {self.api_key}", "Accept": "application/json"}
        if method == "POST":
            if not idempotency_key:
                raise ValueError("every POST to the courier carries an idempotency key")
            headers["Idempotency-Key"] = idempotency_key
        try:
            response = self.session.request(method, self.base_url + path, json=body if method == "POST" else None,
                                            headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise CourierError(f"courier {method} {path} failed: {type(exc).__name__}") from exc
        if not 200 <= response.status_code < 300:
            raise CourierError(f"courier {method} {path} answered {response.status_code}: {response.text[:300]}")
        try:
            return response.json()
        except ValueError as exc:
            raise CourierError(f"courier {method} {path} answered something that is not JSON") from exc
