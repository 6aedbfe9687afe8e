"""The embedded default's transport: HTTP requests served by this same app, in-process.

While the sandbox gateway is mounted (``PAYMENT_GATEWAY_URL`` empty) the gateway client talks to
the sandbox that this app serves, and the sandbox delivers its webhooks to this app's receiver. Going
through a socket would have a worker wait on itself (a sync gunicorn worker would deadlock
on its own request); this ``requests`` adapter hands the prepared request to the app's WSGI
interface instead. Everything above the socket is the same code path: the client's
encoding, headers, retries and error mapping, the gateway's authentication, idempotency
and signing, and the receiver's signature check.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests
from flask import Flask, has_request_context, request
from requests.adapters import BaseAdapter

INTERNAL_BASE = "http://app.internal"


class InProcessAdapter(BaseAdapter):
    def __init__(self, app: Flask):
        super().__init__()
        self.app = app

    def send(self, prepared: requests.PreparedRequest, **kwargs) -> requests.Response:
        parts = urlsplit(prepared.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {k: v for k, v in prepared.headers.items() if k.lower() != "host"}
        # Links the gateway builds (3-D Secure pages) must point where the browser reaches this app.
        base_url = request.host_url if has_request_context() else self.app.config.get("PUBLIC_BASE_URL")
        answer = self.app.test_client().open(path, method=prepared.method, headers=headers,
                                             data=prepared.body, base_url=base_url)
        response = requests.Response()
        response.status_code, response.url, response.request = answer.status_code, prepared.url, prepared
        response._content = answer.get_data()
        response.headers.update(dict(answer.headers))
        response.encoding = answer.mimetype_params.get("charset", "utf-8")
        return response

    def close(self) -> None:
        pass


def session_for(app: Flask) -> requests.Session:
    session = requests.Session()
    session.mount(INTERNAL_BASE, InProcessAdapter(app))
    return session


def webhook_transport(app: Flask):
    """The sandbox's webhook transport for a receiver given as a path of this app."""
    session = session_for(app)

    def send(url: str, body: bytes, headers: dict, timeout: float) -> int:
        return session.post(INTERNAL_BASE + url, data=body, headers=headers, timeout=timeout).status_code

    return send
