"""Marshmallow schemas of the exception queue's and the treasury report's API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.schemas import MAX_VND, UtcDateTime
from finance.models import ExceptionKind, ExceptionStatus
from finance.queue import BUCKET_KEYS
from payments.ledger import Account

_money = {"description": "Whole đồng (VND has no minor unit)"}
_reason = {"description": "Why (required, shown in the audit trail); an empty reason is refused"}


class QueueQuerySchema(Schema):
    kind = fields.Enum(ExceptionKind, by_value=True, load_default=None)
    status = fields.String(load_default="open", validate=validate.OneOf([s.value for s in ExceptionStatus] + ["all"]),
                           metadata={"description": "open (default), resolved or all"})
    assignee = fields.String(load_default=None, validate=validate.Regexp(r"^(me|none|\d{1,12})$"),
                             metadata={"description": "A user id, me, or none (unassigned)"})
    organisation = fields.String(load_default=None, validate=validate.Length(max=40),
                                 metadata={"description": "An agent organisation's code"})
    age = fields.String(load_default=None, validate=validate.OneOf(BUCKET_KEYS),
                        metadata={"description": "Age bucket in working days"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class UserRefSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()


class ItemSummarySchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    status = fields.String()
    amount_vnd = fields.Integer(metadata=_money)
    occurred_at = UtcDateTime()
    detected_at = UtcDateTime()
    resolved_at = UtcDateTime(allow_none=True)
    age_working_days = fields.Integer()
    age_calendar_days = fields.Integer()
    age_bucket = fields.String()
    dedupe_key = fields.String()
    organisation = fields.String(allow_none=True)
    dossier_number = fields.String(allow_none=True)
    assignee = fields.Nested(UserRefSchema, allow_none=True)


class QueuePageSchema(Schema):
    items = fields.List(fields.Nested(ItemSummarySchema))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "Items per kind under the other filters"})


class ActionSchema(Schema):
    id = fields.Integer()
    action = fields.String()
    reason = fields.String(allow_none=True)
    details = fields.Dict()
    actor = fields.String()
    at = UtcDateTime()


class ItemSchema(ItemSummarySchema):
    ours = fields.Dict()
    theirs = fields.Dict()
    agent_point_id = fields.Integer(allow_none=True)
    linked_dossiers = fields.List(fields.String())
    actions = fields.List(fields.Nested(ActionSchema))


class ReasonSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=2000), metadata=_reason)


class AssignSchema(ReasonSchema):
    user_id = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=2**31 - 1),
                             metadata={"description": "A finance user's id; omitted: the caller"})


class EntrySchema(Schema):
    account = fields.String(required=True, validate=validate.OneOf([a.value for a in Account]))
    party = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))
    amount_vnd = fields.Integer(required=True, strict=True, validate=validate.Range(min=-MAX_VND, max=MAX_VND),
                                metadata={"description": "Debit positive, credit negative"})


class AdjustSchema(ReasonSchema):
    entries = fields.List(fields.Nested(EntrySchema), required=True, validate=validate.Length(max=20),
                          metadata={"description": "Balanced: the amounts sum to zero"})


class LinkSchema(ReasonSchema):
    dossier_number = fields.String(required=True, validate=validate.Length(max=40))


class PeriodQuerySchema(Schema):
    from_ = fields.Date(data_key="from", required=True, metadata={"description": "First local day"})
    to = fields.Date(required=True, metadata={"description": "Last local day (included)"})


class TreasuryFiguresSchema(Schema):
    collected_vnd = fields.Integer(metadata=_money)
    refunded_vnd = fields.Integer(metadata=_money)
    adjusted_vnd = fields.Integer(metadata=_money)
    net_vnd = fields.Integer(metadata=_money)
    dossiers = fields.Integer()


class TreasuryLevelSchema(TreasuryFiguresSchema):
    level = fields.String(allow_none=True)


class TreasuryGroupSchema(TreasuryLevelSchema):
    sector = fields.String(allow_none=True)


class TreasuryTotalsSchema(TreasuryFiguresSchema):
    transferred_vnd = fields.Integer(metadata=_money)
    outstanding_vnd = fields.Integer(metadata={"description": "Net minus transferred, whole đồng"})


class TransferSchema(Schema):
    id = fields.Integer()
    amount_vnd = fields.Integer(metadata=_money)
    transferred_on = fields.Date()
    reference = fields.String()
    note = fields.String(allow_none=True)
    ledger_transaction_id = fields.Integer()
    recorded_by = fields.String()
    recorded_at = UtcDateTime()


class TreasuryReportSchema(Schema):
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    groups = fields.List(fields.Nested(TreasuryGroupSchema))
    levels = fields.List(fields.Nested(TreasuryLevelSchema))
    totals = fields.Nested(TreasuryTotalsSchema)
    transfers = fields.List(fields.Nested(TransferSchema))
    payable_now_vnd = fields.Integer(metadata={"description": "Owed to the treasury now, all periods"})


class TransferInSchema(Schema):
    amount_vnd = fields.Integer(required=True, strict=True, validate=validate.Range(min=-MAX_VND, max=MAX_VND),
                                metadata=_money)
    transferred_on = fields.Date(required=True)
    reference = fields.String(required=True, validate=validate.Length(max=100),
                              metadata={"description": "The State Treasury's receipt number or the bank reference"})
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
