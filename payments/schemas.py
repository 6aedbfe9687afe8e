"""Marshmallow schemas of the payments API: input (load) and output (dump)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.schemas import MAX_VND, UtcDateTime
from dossiers.schemas import IdempotencyHeaderSchema
from payments.models import Method, PaymentStatus

_money = {"description": "Whole đồng (VND has no minor unit)"}


class QuoteSchema(Schema):
    dossier_number = fields.String()
    state_fee = fields.Integer(metadata=_money)
    service_fee = fields.Integer(metadata=_money)
    courier_fee = fields.Integer(metadata=_money)
    total_vnd = fields.Integer(metadata=_money)
    currency = fields.String()
    fixed = fields.Boolean(metadata={"description": "True once a payment holds this price"})
    delivery_km = fields.Float(allow_none=True)


class PaymentStartSchema(Schema):
    method = fields.Enum(Method, by_value=True, required=True)


class CardConfirmSchema(Schema):
    payment_method = fields.String(required=True, validate=validate.Length(min=3, max=100), metadata={
        "description": "The gateway's PaymentMethod id from its card form (sandbox: pm_card_visa, …)"})
    attempt_key = fields.String(required=True, validate=validate.Length(min=8, max=64), metadata={
        "description": "Created once per card attempt by the client and reused on every retry of it"})
    return_url = fields.Url(load_default=None, allow_none=True, require_tld=False)


class PaymentQuerySchema(Schema):
    refresh = fields.Boolean(load_default=False, metadata={"description": "Ask the gateway for the latest state"})


class ReceiptLinkSchema(Schema):
    series = fields.String()
    number = fields.Integer()
    kind = fields.String(metadata={"description": "payment | refund"})
    document = fields.String(metadata={"description": "fee_receipt (biên lai thu phí, lệ phí: the state fee) | "
                                                      "service_invoice (hóa đơn: the service and courier fees, "
                                                      "with VAT) | combined (a receipt of before the split)"})
    issued_at = UtcDateTime()
    url = fields.String()
    pdf_url = fields.String()


class RefundSchema(Schema):
    id = fields.Integer()
    amount_vnd = fields.Integer(metadata=_money)
    components = fields.Dict(keys=fields.String(), values=fields.Integer())
    reason = fields.String()
    status = fields.String()
    requested_by = fields.String()
    created_at = UtcDateTime()


class VietQRSchema(Schema):
    payload = fields.String(metadata={"description": "EMVCo payload; the transfer reference is in field 62/08"})
    svg = fields.String()
    reference = fields.String()
    bank_bin = fields.String()
    account_number = fields.String()
    account_name = fields.String()


class ProvisionalSchema(Schema):
    state = fields.String(metadata={"enum": ["provisional", "confirmed"], "description":
                                    "provisional: the citizen showed the bank's confirmation, not yet on the "
                                    "statement (no money booked); confirmed: the statement line matched"})
    bank_reference = fields.String(metadata={"description": "As shown in the citizen's banking app"})
    marked_by = fields.String()
    marked_at = UtcDateTime()
    confirmed_bank_reference = fields.String(allow_none=True, metadata={"description": "The statement line's"})
    overdue = fields.Boolean(metadata={"description": "Still provisional after PROVISIONAL_TRANSFER_DAYS"})


class ProvisionalInSchema(Schema):
    bank_reference = fields.String(required=True, validate=validate.Length(min=4, max=100), metadata={
        "description": "The transaction reference on the bank's confirmation the citizen shows"})


class PaymentSchema(Schema):
    dossier_number = fields.String()
    method = fields.Enum(Method, by_value=True)
    status = fields.Enum(PaymentStatus, by_value=True)
    state_fee = fields.Integer(metadata=_money)
    service_fee = fields.Integer(metadata=_money)
    courier_fee = fields.Integer(metadata=_money)
    amount_vnd = fields.Integer(metadata=_money)
    refunded_vnd = fields.Integer(metadata=_money)
    currency = fields.String()
    next_action_url = fields.String(allow_none=True, metadata={"description": "3-D Secure page for the citizen"})
    last_error_code = fields.String(allow_none=True)
    paid_at = UtcDateTime(allow_none=True)
    vietqr = fields.Nested(VietQRSchema, allow_none=True)
    provisional = fields.Nested(ProvisionalSchema, allow_none=True, metadata={
        "description": "A VietQR transfer recorded at the counter and its confirmation by the statement"})
    receipts = fields.List(fields.Nested(ReceiptLinkSchema))
    refunds = fields.List(fields.Nested(RefundSchema))


class RefundCreateSchema(Schema):
    amount_vnd = fields.Integer(load_default=None, allow_none=True, strict=True,
                                validate=validate.Range(min=1, max=MAX_VND),
                                metadata={"description": "Omit for everything that is left"})
    reason = fields.String(required=True, validate=validate.Length(min=3, max=500))


class StatementImportSchema(Schema):
    id = fields.Integer()
    filename = fields.String()
    imported_by = fields.String()
    imported_at = UtcDateTime()
    summary = fields.Dict()


class BalanceSchema(Schema):
    account = fields.String()
    party = fields.String(allow_none=True)
    balance_vnd = fields.Integer(metadata={"description": "Debit positive, credit negative"})


class FeeRuleInSchema(Schema):
    effective_from = fields.Date(required=True)
    flat_vnd = fields.Integer(load_default=0, strict=True, validate=validate.Range(min=0, max=MAX_VND))
    percent = fields.Decimal(load_default=0, places=3, validate=validate.Range(min=0, max=100))
    minimum_vnd = fields.Integer(load_default=0, strict=True, validate=validate.Range(min=0, max=MAX_VND))
    maximum_vnd = fields.Integer(load_default=None, allow_none=True, strict=True,
                                 validate=validate.Range(min=0, max=MAX_VND))


class FeeRuleSchema(FeeRuleInSchema):
    percent = fields.Decimal(places=3, as_string=True)
    created_by = fields.String()
    created_at = UtcDateTime()


class OnTopSchema(Schema):
    state_fee_vnd = fields.Integer()
    service_fee_vnd = fields.Integer(metadata={"description": "what the citizen pays the agent on top"})
    total_vnd = fields.Integer()


class FeeRulesSchema(Schema):
    organisation = fields.String()
    rules = fields.List(fields.Nested(FeeRuleSchema))
    cap_vnd = fields.Integer(allow_none=True, metadata={
        "description": "the most a service fee may add on top of the state fee (SERVICE_FEE_CAP_VND); null: no cap"})
    on_top_today = fields.List(fields.Nested(OnTopSchema), metadata={
        "description": "for example state fees, what the rule in effect today adds on top"})


class RefundIdempotencyHeaderSchema(IdempotencyHeaderSchema):
    """The refund's key is stored with the caller's key id in front, in 100 characters."""

    idempotency_key = fields.String(
        data_key="Idempotency-Key", required=True,
        error_messages={"required": "The Idempotency-Key header is required."},
        validate=validate.Length(min=1, max=80),
        metadata={"description": "Unique per refund; reuse it on every retry (at most 80 characters)"},
    )
