"""The sandbox gateway's HTTP API: a Stripe-compatible subset under ``/sandbox-gateway/v1``.

Mounted only while the sandbox gateway is (``PAYMENT_GATEWAY_URL`` empty, sandboxes/gateway/__init__.py).
Requests are form-encoded with Stripe's bracket syntax; responses are Stripe's JSON objects and error
objects (http.py). Every POST honours ``Idempotency-Key``. Webhooks for the events a request created
are sent after its commit. The 3-D Secure pages are the customer's browser's.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, g, redirect, render_template_string, request
from sqlalchemy import select

from core.auth import public
from core.extensions import db
from sandboxes.gateway import intents, money, objects
from sandboxes.gateway.base import CURRENCY, GatewayError, invalid, missing, now_ts
from sandboxes.gateway.http import deliver_after_commit, gateway_view
from sandboxes.gateway.models import SandboxBalanceTransaction, SandboxEvent, SandboxPayout
from sandboxes.gateway.webhooks import deliver_pending

bp = Blueprint("sandbox_gateway", __name__, url_prefix="/sandbox-gateway/v1")


# ---------------------------------------------------------------- payment intents

@bp.post("/payment_intents")
@gateway_view
def create_payment_intent(params: dict, idempotency_key: str | None) -> tuple[dict, int]:
    pi, status = intents.create_payment_intent(params, idempotency_key)
    return objects.payment_intent_object(pi), status


@bp.get("/payment_intents/<pi_id>")
@gateway_view
def get_payment_intent(pi_id: str, params: dict, idempotency_key: str | None) -> tuple[dict, int]:
    return objects.payment_intent_object(intents.get_intent(pi_id)), 200


@bp.post("/payment_intents/<pi_id>/confirm")
@gateway_view
def confirm_payment_intent(pi_id: str, params: dict, idempotency_key: str | None) -> tuple[dict, int]:
    pi, status = intents.confirm_payment_intent(pi_id, params, idempotency_key)
    return objects.payment_intent_object(pi), status


@bp.post("/payment_intents/<pi_id>/cancel")
@gateway_view
def cancel_payment_intent(pi_id: str, params: dict, idempotency_key: str | None) -> tuple[dict, int]:
    return objects.payment_intent_object(intents.cancel_payment_intent(pi_id, params, idempotency_key)), 200


# ---------------------------------------------------------------- refunds

@bp.post("/refunds")
@gateway_view
def create_refund(params: dict, idempotency_key: str | None) -> tuple[dict, int]:
    return objects.refund_object(money.create_refund(params, idempotency_key)), 200


@bp.get("/refunds/<refund_id>")
@gateway_view
def get_refund(refund_id: str, params: dict, idempotency_key: str | None) -> tuple[dict, int]:
    return objects.refund_object(money.get_refund(refund_id)), 200


# ---------------------------------------------------------------- balance and payouts

@bp.get("/balance")
@gateway_view
def get_balance(params: dict, idempotency_key: str | None) -> tuple[dict, int]:
    now = now_ts()
    available = money.available_balance(now)
    pending = money.available_balance(2**62) - available
    return {"object": "balance", "livemode": False,
            "available": [{"amount": available, "currency": CURRENCY, "source_types": {"card": available}}],
            "pending": [{"amount": pending, "currency": CURRENCY, "source_types": {"card": pending}}]}, 200


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
    filters.extend(money.created_filters(SandboxBalanceTransaction, params.get("created")))
    expand_source = "data.source" in (params.get("expand") or [])
    now = now_ts()
    return money.paginate(SandboxBalanceTransaction, params, request.path,
                          lambda t: objects.balance_transaction_object(t, now, expand_source=expand_source),
                          *filters), 200


@bp.get("/balance_transactions/<txn_id>")
@gateway_view
def get_balance_transaction(txn_id: str, params: dict, idempotency_key: str | None) -> tuple[dict, int]:
    txn = db.session.scalars(select(SandboxBalanceTransaction)
                             .where(SandboxBalanceTransaction.id == txn_id)).one_or_none()
    if txn is None:
        raise missing("balance_transaction", txn_id)
    return objects.balance_transaction_object(txn), 200


@bp.get("/payouts")
@gateway_view
def list_payouts(params: dict, idempotency_key: str | None) -> tuple[dict, int]:
    return money.paginate(SandboxPayout, params, request.path, objects.payout_object,
                          *money.created_filters(SandboxPayout, params.get("created"))), 200


@bp.get("/payouts/<payout_id>")
@gateway_view
def get_payout(payout_id: str, params: dict, idempotency_key: str | None) -> tuple[dict, int]:
    payout = db.session.scalars(select(SandboxPayout).where(SandboxPayout.id == payout_id)).one_or_none()
    if payout is None:
        raise missing("payout", payout_id)
    return objects.payout_object(payout), 200


@bp.post("/_sandbox/payouts/run")
@gateway_view
def run_payout(params: dict, idempotency_key: str | None) -> tuple[dict, int]:
    """Test/admin hook: the day's automatic payout (``date=YYYY-MM-DD``, default today in Hanoi)."""
    raw = params.get("date")
    try:
        day = date.fromisoformat(raw) if raw else money.today()
    except (TypeError, ValueError):
        raise invalid(f"Invalid date: {raw} (YYYY-MM-DD)", param="date") from None
    payout = money.run_daily_payout(day)
    return {"object": "sandbox.payout_run", "date": day.isoformat(),
            "payout": objects.payout_object(payout) if payout else None}, 200


@bp.post("/_sandbox/webhooks/deliver")
@gateway_view
def deliver_webhooks(params: dict, idempotency_key: str | None) -> tuple[dict, int]:
    """Test/admin hook: send the webhook deliveries that are due now."""
    return {"object": "sandbox.webhook_run", "delivered": deliver_pending()}, 200


# ---------------------------------------------------------------- events

@bp.get("/events")
@gateway_view
def list_events(params: dict, idempotency_key: str | None) -> tuple[dict, int]:
    filters = [SandboxEvent.type == params["type"]] if params.get("type") else []
    return money.paginate(SandboxEvent, params, request.path, objects.event_object, *filters), 200


@bp.get("/events/<event_id>")
@gateway_view
def get_event(event_id: str, params: dict, idempotency_key: str | None) -> tuple[dict, int]:
    event = db.session.scalars(select(SandboxEvent).where(SandboxEvent.id == event_id)).one_or_none()
    if event is None:
        raise missing("event", event_id)
    return objects.event_object(event), 200


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
        pi = intents.get_intent(pi_id)
    except GatewayError as exc:
        return render_template_string(_THREE_DS_PAGE, pi=None, message=exc.error["message"]), 404
    if request.method == "GET":
        return render_template_string(_THREE_DS_PAGE, pi=pi, message=None)
    try:
        pi = intents.complete_three_ds(pi_id, request.form.get("action") == "approve")
        db.session.commit()
    except GatewayError as exc:
        db.session.rollback()
        return render_template_string(_THREE_DS_PAGE, pi=None, message=exc.error["message"]), 400
    deliver_after_commit()
    if pi.return_url:
        query = urlencode({"payment_intent": pi.id, "payment_intent_client_secret": pi.client_secret,
                           "redirect_status": "succeeded" if pi.status == "succeeded" else "failed"})
        return redirect(pi.return_url + ("&" if "?" in pi.return_url else "?") + query)
    return render_template_string(_THREE_DS_PAGE, pi=pi, message=None)
