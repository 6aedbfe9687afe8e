"""Marshmallow schemas of the cash handover API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.schemas import MAX_VND, UtcDateTime
from finance.models import HandoverMethod

_money = {"description": "Whole đồng (VND has no minor unit)"}


class HoldingSchema(Schema):
    organisation_code = fields.String()
    organisation_name = fields.String()
    agent_point_code = fields.String(allow_none=True, metadata={
        "description": "Null: cash of dossiers the organisation's own API key registered (no point)"})
    agent_point_name = fields.String(allow_none=True)
    collected_vnd = fields.Integer(metadata={"description": "Cash collected, less refunds paid back in cash"})
    handed_over_vnd = fields.Integer(metadata=_money)
    held_vnd = fields.Integer(metadata={"description": "What the point still holds (collected − handed over)"})
    since = fields.Date(allow_none=True, metadata={
        "description": "Hanoi day of the oldest cash not handed over (handovers cover the oldest first)"})
    oldest_collected_at = UtcDateTime(allow_none=True)
    age_working_days = fields.Integer(metadata={"description": "Working days since `since`"})
    due_by = fields.Date(allow_none=True, metadata={
        "description": "The last working day to hand that cash over (FINANCE_CASH_HANDOVER_DAYS after it)"})
    overdue = fields.Boolean()
    overdue_vnd = fields.Integer(metadata={"description": "Cash collected on days already past their due date"})


class HoldingQuerySchema(Schema):
    organisation = fields.String(load_default=None, validate=validate.Length(max=40),
                                 metadata={"description": "An agent organisation's code"})


class HandoverInSchema(Schema):
    organisation = fields.String(required=True, validate=validate.Length(min=1, max=40))
    agent_point = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40), metadata={
        "description": "The agent point's code; omit for the organisation's own (API key) dossiers"})
    amount_vnd = fields.Integer(required=True, strict=True, validate=validate.Range(min=-MAX_VND, max=MAX_VND),
                                metadata=_money)
    handed_over_on = fields.Date(required=True, metadata={"description": "The day of the deposit or the counter"})
    method = fields.Enum(HandoverMethod, by_value=True, required=True)
    reference = fields.String(required=True, validate=validate.Length(min=1, max=100), metadata={
        "description": "bank_deposit: the bank's reference of the deposit; counter: the counter receipt number"})
    received_by = fields.String(required=True, validate=validate.Length(min=1, max=300),
                                metadata={"description": "Who at the centre received the cash"})
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class ReversalInSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=2000))


class HandoverSchema(Schema):
    id = fields.Integer()
    organisation_code = fields.String()
    agent_point_code = fields.String(allow_none=True)
    agent_point_name = fields.String(allow_none=True)
    amount_vnd = fields.Integer(metadata=_money)
    handed_over_on = fields.Date()
    method = fields.String()
    reference = fields.String()
    received_by = fields.String()
    note = fields.String(allow_none=True)
    recorded_by = fields.String()
    recorded_at = UtcDateTime()
    confirmed_by_bank = fields.Boolean(metadata={"description": "A bank deposit whose statement line was matched"})
    bank_reference = fields.String(allow_none=True)
    reverses_id = fields.Integer(allow_none=True,
                                 metadata={"description": "Set on a reversal: the handover it cancels"})
    reversed_by_id = fields.Integer(allow_none=True)
    ledger_transaction_id = fields.Integer(allow_none=True)


class HistoryQuerySchema(Schema):
    organisation = fields.String(load_default=None, validate=validate.Length(max=40))
    agent_point = fields.String(load_default=None, validate=validate.Length(max=40))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10**9))
