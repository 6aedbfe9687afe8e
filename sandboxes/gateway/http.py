"""The sandbox gateway's HTTP machinery: Stripe's form encoding, its key, injected faults, idempotency.

``gateway_view`` wraps every API view: it authenticates the caller with the sandbox's secret key
(``Authorization: Bearer sk_test_…``, or HTTP Basic with the key as user name, as Stripe accepts),
takes an injected fault, replays a stored answer for a repeated ``Idempotency-Key``, commits once,
answers Stripe's JSON and error objects, and delivers the webhooks of the events it created after
the commit. Every view is ``@public`` for the platform's access rules.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, current_app, g, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.auth import public
from core.extensions import db
from core.settings import settings
from sandboxes.gateway import DEFAULT_SECRET_KEY, webhooks
from sandboxes.gateway.base import API_VERSION, GatewayError, invalid, new_id, now_ts
from sandboxes.gateway.models import SandboxIdempotencyKey

log = logging.getLogger(__name__)

_BRACKETS = re.compile(r"\[([^\[\]]*)\]")


# ---------------------------------------------------------------- request parsing

def parse_params(items: list[tuple[str, str]]) -> dict:
    """Stripe's form encoding: ``metadata[k]=v``, ``types[]=card``, ``items[0][price]=x``."""
    root: dict[str, Any] = {}
    for raw_key, value in items:
        head, _, rest = raw_key.partition("[")
        parts = [head] + (_BRACKETS.findall("[" + rest) if rest else [])
        node: Any = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if isinstance(node, list):
                if part == "" or part.isdigit():
                    if last:
                        node.append(value)
                        break
                    if part.isdigit() and int(part) < len(node):
                        node = node[int(part)]
                        continue
                    child: Any = [] if parts[index + 1] in ("",) or parts[index + 1].isdigit() else {}
                    node.append(child)
                    node = child
                    continue
                node = None
                break
            if last:
                node[part] = value
                break
            nxt = parts[index + 1]
            if part not in node or not isinstance(node[part], dict | list):
                node[part] = [] if nxt == "" or nxt.isdigit() else {}
            node = node[part]
    return root


def _raw_items() -> list[tuple[str, str]]:
    source = request.form if request.method == "POST" else request.args
    return list(source.items(multi=True))


# ---------------------------------------------------------------- responses

def respond(body: Any, status: int = 200, headers: dict | None = None) -> Response:
    response = Response(json.dumps(body, ensure_ascii=False), status=status,
                        mimetype="application/json")
    response.headers["Request-Id"] = g.get("sandbox_request_id") or new_id("req", 14)
    response.headers["Stripe-Version"] = API_VERSION
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_response(exc: GatewayError) -> Response:
    return respond(exc.body(), exc.status, exc.headers)


def _api_key() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() == "basic" and token:
        try:
            token = base64.b64decode(token).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            token = ""
    elif scheme.lower() != "bearer":
        token = ""
    if not token:
        raise GatewayError(401, "invalid_request_error",
                           "You did not provide an API key. You need to provide your API key in the Authorization "
                           "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').")
    expected = str(settings().sandbox_gateway_secret_key or DEFAULT_SECRET_KEY)
    if not hmac.compare_digest(token.encode(), expected.encode()):
        shown = token[:8] + "*" * max(len(token) - 12, 0) + token[-4:] if len(token) > 12 else "*" * len(token)
        raise GatewayError(401, "invalid_request_error", f"Invalid API Key provided: {shown}")
    return token


def _fault() -> None:
    """Injected failures for the client's retry tests, before any work is done.

    ``SANDBOX_GATEWAY_FAULTS``: a list in the app config, one taken per API request.
    ``Sandbox-Fault`` header: honoured only when ``TESTING``.
    """
    fault = None
    queue = settings().sandbox_gateway_faults
    if queue:
        fault = queue.pop(0)
    elif current_app.config.get("TESTING"):
        fault = request.headers.get("Sandbox-Fault")
    if not fault:
        return
    if fault == "500":
        raise GatewayError(500, "api_error", "An unknown error occurred (injected by the sandbox).",
                           headers={"Stripe-Should-Retry": "true"})
    if fault == "should-retry":
        raise GatewayError(409, "api_error", "A conflict occurred with another request (injected by the sandbox).",
                           code="lock_timeout", headers={"Stripe-Should-Retry": "true"})
    if fault == "timeout":
        # The client's read timeout fires; the work then happens, so a retry with the same key replays.
        time.sleep(float(settings().sandbox_gateway_fault_sleep_s))
        return
    if fault == "timeout-500":  # sleep, then fail without doing the work
        time.sleep(float(settings().sandbox_gateway_fault_sleep_s))
        raise GatewayError(500, "api_error", "An unknown error occurred (injected by the sandbox).",
                           headers={"Stripe-Should-Retry": "true"})


def deliver_after_commit() -> None:
    ids = g.pop("sandbox_new_events", None)
    if not ids or not settings().sandbox_gateway_deliver_inline:
        return
    try:
        webhooks.deliver_pending(event_ids=ids)
    except Exception:  # noqa: BLE001 - a delivery problem never fails the API call; it is retried later
        db.session.rollback()
        log.exception("sandbox webhook delivery failed")


def _fingerprint(api_key: str) -> str:
    items = sorted(_raw_items())
    return hashlib.sha256(json.dumps([request.method, request.path, items]).encode()).hexdigest()


Handler = Callable[..., tuple[dict, int]]


def gateway_view(func: Handler) -> Callable:
    """Authentication, fault injection, idempotency, one commit, Stripe errors, webhooks."""

    @wraps(func)
    def wrapper(**kwargs: Any) -> Response:
        g.sandbox_request_id = new_id("req", 14)
        g.sandbox_new_events = []
        try:
            api_key = _api_key()
            _fault()
        except GatewayError as exc:
            return error_response(exc)
        params = parse_params(_raw_items())
        if request.method != "POST":
            try:
                body, status = func(params=params, idempotency_key=None, **kwargs)
                return respond(body, status)
            except GatewayError as exc:
                db.session.rollback()
                return error_response(exc)
        key = request.headers.get("Idempotency-Key") or None
        key_hash = hashlib.sha256(api_key.encode()).hexdigest()
        fingerprint = _fingerprint(api_key)
        echo = {"Idempotency-Key": key} if key else {}
        if key:
            if len(key) > 255:
                return error_response(invalid("Idempotency-Key must be at most 255 characters long."))
            stored = db.session.scalars(select(SandboxIdempotencyKey).where(
                SandboxIdempotencyKey.api_key_hash == key_hash, SandboxIdempotencyKey.key == key)).one_or_none()
            if stored is not None:
                if stored.fingerprint != fingerprint:
                    return error_response(GatewayError(
                        400, "idempotency_error",
                        f"Keys for idempotent requests can only be used with the same parameters they were first "
                        f"used with. Try using a key other than '{key}' if you meant to execute a different request.",
                        headers=echo))
                return respond(json.loads(stored.body), stored.status_code, {**echo, "Idempotent-Replayed": "true"})
        try:
            body, status = func(params=params, idempotency_key=key, **kwargs)
            store = True
        except GatewayError as exc:
            body, status, store = exc.body(), exc.status, exc.store
            if not store:
                db.session.rollback()
                g.sandbox_new_events = []
                return respond(body, status, {**echo, **exc.headers})
        except Exception:  # noqa: BLE001 - Stripe's api_error; nothing is stored, so a retry may succeed
            db.session.rollback()
            log.exception("sandbox gateway failure")
            return respond({"error": {"type": "api_error", "message": "An unknown error occurred."}}, 500,
                         {**echo, "Stripe-Should-Retry": "true"})
        if key and store:
            db.session.add(SandboxIdempotencyKey(api_key_hash=key_hash, key=key, fingerprint=fingerprint,
                                                 status_code=status, body=json.dumps(body, ensure_ascii=False),
                                                 created=now_ts()))
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            return error_response(GatewayError(
                409, "idempotency_error",
                "There is currently another in-progress request using this Idempotent Key (that probably means you "
                f"submitted twice, and the other request is still going through): {key}. Please try again later.",
                code="idempotency_key_in_use", headers=echo))
        response = respond(body, status, echo)
        deliver_after_commit()
        return response

    return public(wrapper)


