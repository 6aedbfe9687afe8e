"""The sandbox gateway's HTTP API: a Stripe-compatible subset under ``/sandbox-gateway/v1``.

Every view is ``@public`` for the platform's access rules: the gateway authenticates
callers itself with its secret key (``Authorization: Bearer sk_test_…``, or HTTP Basic with
the key as user name, as Stripe accepts). Requests are form-encoded with Stripe's bracket
syntax; responses are Stripe's JSON objects and error objects. Every POST honours
``Idempotency-Key``. Webhooks for the events a request created are sent after its commit.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, g, redirect, render_template_string, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.auth import public
from core.extensions import db
from payments.sandbox import logic
from payments.sandbox.logic import GatewayError
from payments.sandbox.models import (
    SandboxBalanceTransaction,
    SandboxEvent,
    SandboxIdempotencyKey,
    SandboxPayout,
)

log = logging.getLogger(__name__)

bp = Blueprint("sandbox_gateway", __name__, url_prefix="/sandbox-gateway/v1")

DEFAULT_SECRET_KEY = "sk_test_sandbox"  # noqa: S105 - the sandbox's published test key
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

def _json(body: Any, status: int = 200, headers: dict | None = None) -> Response:
    response = Response(json.dumps(body, ensure_ascii=False), status=status,
                        mimetype="application/json")
    response.headers["Request-Id"] = g.get("sandbox_request_id") or logic.new_id("req", 14)
    response.headers["Stripe-Version"] = logic.API_VERSION
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _error(exc: GatewayError) -> Response:
    return _json(exc.body(), exc.status, exc.headers)


def _api_key() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() == "basic" and token:
        import base64
        import binascii

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
    expected = str(current_app.config.get("SANDBOX_GATEWAY_SECRET_KEY") or DEFAULT_SECRET_KEY)
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
    queue = current_app.config.get("SANDBOX_GATEWAY_FAULTS")
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
        time.sleep(float(current_app.config.get("SANDBOX_GATEWAY_FAULT_SLEEP_S", 5.0)))
        return
    if fault == "timeout-500":  # sleep, then fail without doing the work
        time.sleep(float(current_app.config.get("SANDBOX_GATEWAY_FAULT_SLEEP_S", 5.0)))
        raise GatewayError(500, "api_error", "An unknown error occurred (injected by the sandbox).",
                           headers={"Stripe-Should-Retry": "true"})


def _deliver_after_commit() -> None:
    ids = g.pop("sandbox_new_events", None)
    if not ids or not current_app.config.get("SANDBOX_GATEWAY_DELIVER_INLINE", True):
        return
    try:
        logic.deliver_pending(event_ids=ids)
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
        g.sandbox_request_id = logic.new_id("req", 14)
        g.sandbox_new_events = []
        try:
            api_key = _api_key()
            _fault()
        except GatewayError as exc:
            return _error(exc)
        params = parse_params(_raw_items())
        if request.method != "POST":
            try:
                body, status = func(params=params, idempotency_key=None, **kwargs)
                return _json(body, status)
            except GatewayError as exc:
                db.session.rollback()
                return _error(exc)
        key = request.headers.get("Idempotency-Key") or None
        key_hash = hashlib.sha256(api_key.encode()).hexdigest()
        fingerprint = _fingerprint(api_key)
        echo = {"Idempotency-Key": key} if key else {}
        if key:
            if len(key) > 255:
                return _error(logic.invalid("Idempotency-Key must be at most 255 characters long."))
            stored = db.session.scalars(select(SandboxIdempotencyKey).where(
                SandboxIdempotencyKey.api_key_hash == key_hash, SandboxIdempotencyKey.key == key)).one_or_none()
            if stored is not None:
                if stored.fingerprint != fingerprint:
                    return _error(GatewayError(
                        400, "idempotency_error",
                        f"Keys for idempotent requests can only be used with the same parameters they were first "
                        f"used with. Try using a key other than '{key}' if you meant to execute a different request.",
                        headers=echo))
                return _json(json.loads(stored.body), stored.status_code, {**echo, "Idempotent-Replayed": "true"})
        try:
            body, status = func(params=params, idempotency_key=key, **kwargs)
            store = True
        except GatewayError as exc:
            body, status, store = exc.body(), exc.status, exc.store
            if not store:
                db.session.rollback()
                g.sandbox_new_events = []
                return _json(body, status, {**echo, **exc.headers})
        except Exception:  # noqa: BLE001 - Stripe's api_error; nothing is stored, so a retry may succeed
            db.session.rollback()
            log.exception("sandbox gateway failure")
            return _json({"error": {"type": "api_error", "message": "An unknown error occurred."}}, 500,
                         {**echo, "Stripe-Should-Retry": "true"})
        if key and store:
            db.session.add(SandboxIdempotencyKey(api_key_hash=key_hash, key=key, fingerprint=fingerprint,
                                                 status_code=status, body=json.dumps(body, ensure_ascii=False),
                                                 created=logic.now_ts()))
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            return _error(GatewayError(
                409, "idempotency_error",
                "There is currently another in-progress request using this Idempotent Key (that probably means you "
                f"submitted twice, and the other request is still going through): {key}. Please try again later.",
                code="idempotency_key_in_use", headers=echo))
        response = _json(body, status, echo)
        _deliver_after_commit()
        return response

    return public(wrapper)


# ---------------------------------------------------------------- payment intents

@bp.post("/payment_intents")
@gateway_view
def create_payment_intent(params: dict, idempotency_key: str | None) -> tuple[dict, int]:
    pi, status = logic.create_payment_intent(params, idempotency_key)
    return logic.payment_intent_object(pi), status


@bp.get("/payment_intents/<pi_id>")
@gateway_view
def get_payment_intent(pi_id: str, params: dict, idempotency_key: str | None) -> tuple[dict, int]:
    return logic.payment_intent_object(logic.get_intent(pi_id)), 200


@bp.post("/payment_intents/<pi_id>/confirm")
@gateway_view
def confirm_payment_intent(pi_id: str, params: dict, idempotency_key: str | None) -> tuple[dict, int]:
    pi, status = logic.confirm_payment_intent(pi_id, params, idempotency_key)
    return logic.payment_intent_object(pi), status


@bp.post("/payment_intents/<pi_id>/cancel")
@gateway_view
def cancel_payment_intent(pi_id: str, params: dict, idempotency_key: str | None) -> tuple[dict, int]:
    return logic.payment_intent_object(logic.cancel_payment_intent(pi_id, params, idempotency_key)), 200


# ---------------------------------------------------------------- refunds

@bp.post("/refunds")
@gateway_view
def create_refund(params: dict, idempotency_key: str | None) -> tuple[dict, int]:
    return logic.refund_object(logic.create_refund(params, idempotency_key)), 200


@bp.get("/refunds/<refund_id>")
@gateway_view
def get_refund(refund_id: str, params: dict, idempotency_key: str | None) -> tuple[dict, int]:
    return logic.refund_object(logic.get_refund(refund_id)), 200


# ---------------------------------------------------------------- balance and payouts

@bp.get("/balance")
@gateway_view
def get_balance(params: dict, idempotency_key: str | None) -> tuple[dict, int]:
    now = logic.now_ts()
    available = logic.available_balance(now)
    pending = logic.available_balance(2**62) - available
    return {"object": "balance", "livemode": False,
            "available": [{"amount": available, "currency": logic.CURRENCY, "source_types": {"card": available}}],
            "pending": [{"amount": pending, "currency": logic.CURRENCY, "source_types": {"card": pending}}]}, 200


@bp.get("/balance_transactions")
@gateway_view
def list_balance_transactions(params: dict, idempotency_key: str | None) -> tuple[dict, int]:
    filters = []
    if params.get("type"):
        filters.append(SandboxBalanceTransaction.type == params["type"])
    if params.get("payout"):
        filters.append(SandboxBalanceTransaction.payout == params["payout"])
    if params.get("source"):
        filters.append(SandboxBalanceTransaction.source == params["source"])
    now = logic.now_ts()
    return logic.paginate(SandboxBalanceTransaction, params, request.path,
                          lambda t: logic.balance_transaction_object(t, now), *filters), 200


@bp.get("/balance_transactions/<txn_id>")
@gateway_view
def get_balance_transaction(txn_id: str, params: dict, idempotency_key: str | None) -> tuple[dict, int]:
    txn = db.session.scalars(select(SandboxBalanceTransaction)
                             .where(SandboxBalanceTransaction.id == txn_id)).one_or_none()
    if txn is None:
        raise logic.missing("balance_transaction", txn_id)
    return logic.balance_transaction_object(txn), 200


@bp.get("/payouts")
@gateway_view
def list_payouts(params: dict, idempotency_key: str | None) -> tuple[dict, int]:
    return logic.paginate(SandboxPayout, params, request.path, logic.payout_object), 200


@bp.get("/payouts/<payout_id>")
@gateway_view
def get_payout(payout_id: str, params: dict, idempotency_key: str | None) -> tuple[dict, int]:
    payout = db.session.scalars(select(SandboxPayout).where(SandboxPayout.id == payout_id)).one_or_none()
    if payout is None:
        raise logic.missing("payout", payout_id)
    return logic.payout_object(payout), 200


@bp.post("/_sandbox/payouts/run")
@gateway_view
def run_payout(params: dict, idempotency_key: str | None) -> tuple[dict, int]:
    """Test/admin hook: the day's automatic payout (``date=YYYY-MM-DD``, default today in Hanoi)."""
    raw = params.get("date")
    try:
        day = date.fromisoformat(raw) if raw else logic.today()
    except (TypeError, ValueError):
        raise logic.invalid(f"Invalid date: {raw} (YYYY-MM-DD)", param="date") from None
    payout = logic.run_daily_payout(day)
    return {"object": "sandbox.payout_run", "date": day.isoformat(),
            "payout": logic.payout_object(payout) if payout else None}, 200


@bp.post("/_sandbox/webhooks/deliver")
@gateway_view
def deliver_webhooks(params: dict, idempotency_key: str | None) -> tuple[dict, int]:
    """Test/admin hook: send the webhook deliveries that are due now."""
    return {"object": "sandbox.webhook_run", "delivered": logic.deliver_pending()}, 200


# ---------------------------------------------------------------- events

@bp.get("/events")
@gateway_view
def list_events(params: dict, idempotency_key: str | None) -> tuple[dict, int]:
    filters = [SandboxEvent.type == params["type"]] if params.get("type") else []
    return logic.paginate(SandboxEvent, params, request.path, logic.event_object, *filters), 200


@bp.get("/events/<event_id>")
@gateway_view
def get_event(event_id: str, params: dict, idempotency_key: str | None) -> tuple[dict, int]:
    event = db.session.scalars(select(SandboxEvent).where(SandboxEvent.id == event_id)).one_or_none()
    if event is None:
        raise logic.missing("event", event_id)
    return logic.event_object(event), 200


# ---------------------------------------------------------------- 3-D Secure pages (the customer's browser)

_THREE_DS_PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>3-D Secure (sandbox)</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem}
button{font-size:1.1rem;padding:.7rem 1.2rem;margin:.3rem}</style></head>
<body><h1>3-D Secure — sandbox</h1>
{% if pi %}
<p>PaymentIntent <code>{{ pi.id }}</code>: {{ "{:,}".format(pi.amount) }} ₫ — <strong>{{ pi.status }}</strong></p>
{% if pi.status == "requires_action" %}
<form method="post"><button name="action" value="approve">Xác thực / Complete authentication</button>
<button name="action" value="fail">Từ chối / Fail authentication</button></form>
{% endif %}
{% else %}<p>{{ message }}</p>{% endif %}
</body></html>"""


@bp.route("/3ds/<pi_id>", methods=["GET", "POST"])
@public
def three_ds(pi_id: str) -> Any:
    g.sandbox_new_events = []
    try:
        pi = logic.get_intent(pi_id)
    except GatewayError as exc:
        return render_template_string(_THREE_DS_PAGE, pi=None, message=exc.error["message"]), 404
    if request.method == "GET":
        return render_template_string(_THREE_DS_PAGE, pi=pi, message=None)
    try:
        pi = logic.complete_three_ds(pi_id, request.form.get("action") == "approve")
        db.session.commit()
    except GatewayError as exc:
        db.session.rollback()
        return render_template_string(_THREE_DS_PAGE, pi=None, message=exc.error["message"]), 400
    _deliver_after_commit()
    if pi.return_url:
        query = urlencode({"payment_intent": pi.id, "payment_intent_client_secret": pi.client_secret,
                           "redirect_status": "succeeded" if pi.status == "succeeded" else "failed"})
        return redirect(pi.return_url + ("&" if "?" in pi.return_url else "?") + query)
    return render_template_string(_THREE_DS_PAGE, pi=pi, message=None)
