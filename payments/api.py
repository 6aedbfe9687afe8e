"""The payments API: quotes, payments by card, VietQR and cash, refunds, webhooks, finance."""

from __future__ import annotations

from flask import jsonify, request
from flask_smorest.fields import Upload
from marshmallow import Schema

from core.api import Blueprint, signed_webhook_doc
from core.auth import EVERYONE, allow, current_principal, public
from core.roles import Role
from payments import bank, provisional, refunds, service, webhooks
from payments.schemas import (
    BalanceSchema,
    CardConfirmSchema,
    FeeRuleInSchema,
    FeeRulesSchema,
    PaymentQuerySchema,
    PaymentSchema,
    PaymentStartSchema,
    ProvisionalInSchema,
    QuoteSchema,
    RefundCreateSchema,
    RefundIdempotencyHeaderSchema,
    RefundSchema,
    StatementImportSchema,
)

blp = Blueprint("payments", __name__, url_prefix="/api/v1",
                description="Fees and payments (lệ phí, thanh toán): card, VietQR, cash; refunds; finance")

FINANCE = (Role.FINANCE, Role.ADMIN)


class StatementFileSchema(Schema):
    file = Upload(required=True)


def _view(number: str, payment=None):
    dossier, current = service.get(current_principal(), number)
    return service.view(dossier, payment or current)


@blp.route("/dossiers/<number>/quote", methods=["GET"])
@allow(*EVERYONE)
@blp.response(200, QuoteSchema)
def get_quote(number):
    """What the citizen pays: state fee, the agent's service fee, the courier fee"""
    return service.quote(current_principal(), number)


@blp.route("/dossiers/<number>/payment", methods=["POST"])
@allow(Role.AGENT)
@blp.arguments(PaymentStartSchema())
@blp.response(200, PaymentSchema)
def start_payment(data, number):
    """Fix the price and choose the method (card, vietqr, cash); again with another method switches"""
    return _view(number, service.start(current_principal(), number, data["method"]))


@blp.route("/dossiers/<number>/payment", methods=["GET"])
@allow(*EVERYONE)
@blp.arguments(PaymentQuerySchema(), location="query")
@blp.response(200, PaymentSchema)
def get_payment(args, number):
    """The payment's status (``refresh=true`` asks the gateway, e.g. during 3-D Secure)"""
    if args["refresh"]:
        return _view(number, service.refresh(current_principal(), number))
    return _view(number)


@blp.route("/dossiers/<number>/payment/card", methods=["POST"])
@allow(Role.AGENT)
@blp.arguments(CardConfirmSchema())
@blp.response(200, PaymentSchema)
@blp.alt_response(402, description="Declined; the problem explains it in Vietnamese and English")
def pay_by_card(data, number):
    """Charge a card through the gateway (one attempt per ``attempt_key``; retries are safe)"""
    payment = service.confirm_card(current_principal(), number, data["payment_method"], data["attempt_key"],
                                   data["return_url"])
    return _view(number, payment)


@blp.route("/dossiers/<number>/payment/cash", methods=["POST"])
@allow(Role.AGENT)
@blp.response(200, PaymentSchema)
def pay_in_cash(number):
    """The agent took the fees in cash (the agent then owes them to the centre)"""
    return _view(number, service.record_cash(current_principal(), number))


@blp.route("/dossiers/<number>/payment/vietqr/provisional", methods=["POST"])
@allow(Role.AGENT)
@blp.arguments(ProvisionalInSchema())
@blp.response(200, PaymentSchema)
def mark_transfer_provisional(data, number):
    """The citizen shows the bank's confirmation: recorded as provisional (no money booked) until the
    bank statement's line matches"""
    return _view(number, provisional.mark(current_principal(), number, data["bank_reference"]))


@blp.route("/dossiers/<number>/refunds", methods=["POST"])
@allow(*FINANCE)
@blp.arguments(RefundIdempotencyHeaderSchema(), location="headers", as_kwargs=True)
@blp.arguments(RefundCreateSchema())
@blp.response(201, RefundSchema)
def create_refund(data, number, idempotency_key):
    """Refund in full or in part, with a reason; never more than was paid"""
    return refunds.create(current_principal(), number, data["amount_vnd"], data["reason"], idempotency_key)


@blp.route("/payments/webhook", methods=["POST"])
@public
@blp.doc(**signed_webhook_doc(
    "Gateway events (Stripe-Signature verified before the body is read)", "Stripe-Signature",
    "t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<raw body>\" keyed with PAYMENT_WEBHOOK_SECRET>",
    {"duplicate": {"type": "boolean", "description": "Seen before: acknowledged, recorded once"}}))
def webhook():
    event_id, new = webhooks.receive(request.get_data(cache=False), request.headers.get("Stripe-Signature"))
    return jsonify(received=True, duplicate=not new)


@blp.route("/finance/bank-statements", methods=["POST"])
@allow(*FINANCE)
@blp.arguments(StatementFileSchema(), location="files")
@blp.response(201, StatementImportSchema)
def import_statement(files):
    """A bank statement file (CSV): VietQR transfers matched to their dossiers by reference"""
    upload = files["file"]
    return bank.import_statement(current_principal(), upload.filename or "statement.csv", upload.read())


@blp.route("/finance/balances", methods=["GET"])
@allow(*FINANCE)
@blp.response(200, BalanceSchema(many=True))
def ledger_balances():
    """The ledger's balance per account and party (agent organisation)"""
    return service.balances()


@blp.route("/organisations/<code>/fee-rules", methods=["GET"])
@allow(*FINANCE)
@blp.response(200, FeeRulesSchema)
def list_fee_rules(code):
    """An agent organisation's service fee, version by version"""
    return service.fee_rules(code)


@blp.route("/organisations/<code>/fee-rules", methods=["POST"])
@allow(*FINANCE)
@blp.arguments(FeeRuleInSchema())
@blp.response(201, FeeRulesSchema)
def add_fee_rule(data, code):
    """A new version of the service fee, from its effective date"""
    return service.set_fee_rule(current_principal(), code, data)
