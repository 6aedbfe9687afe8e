"""Marshmallow schemas of the agent statements' API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.schemas import UtcDateTime
from finance.statement_queries import FIGURES
from finance.statements import PERIOD_KINDS

_money = {"description": "Whole đồng (VND has no minor unit)"}


class StatementScopeArgs(Schema):
    organisation = fields.String(load_default=None, validate=validate.Length(max=40),
                                 metadata={"description": "An agent organisation's code (none: the whole centre)"})
    agent_point = fields.String(load_default=None, validate=validate.Length(max=40),
                                metadata={"description": "An agent point's code (a post office, a tablet)"})


class StatementPeriodArgs(StatementScopeArgs):
    period = fields.String(load_default=None, validate=validate.OneOf(PERIOD_KINDS),
                           metadata={"description": "day, week (ISO, Monday to Sunday), month, or custom "
                                                    "(from/to); default: month, or custom when from/to are given"})
    on = fields.Date(load_default=None, metadata={"description": "A day of the day, week or month (default today)"})
    from_ = fields.Date(data_key="from", load_default=None, metadata={"description": "First local day (custom)"})
    to = fields.Date(load_default=None, metadata={"description": "Last local day, included (custom)"})


class StatementDrillArgs(Schema):
    figure = fields.String(load_default="all", validate=validate.OneOf((*FIGURES, "dossiers")),
                           metadata={"description": "The figure whose lines (or dossiers registered) to list"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class StatementPreviewDrillArgs(StatementPeriodArgs, StatementDrillArgs):
    pass


class StatementListArgs(StatementScopeArgs):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class StatementIssueSchema(StatementScopeArgs):
    period = fields.String(load_default=None, validate=validate.OneOf(PERIOD_KINDS))
    on = fields.Date(load_default=None)
    from_ = fields.Date(data_key="from", load_default=None)
    to = fields.Date(load_default=None)


class StatementByMethodSchema(Schema):
    card = fields.Integer(metadata=_money)
    vietqr = fields.Integer(metadata=_money)
    cash = fields.Integer(metadata=_money)
    total = fields.Integer(metadata=_money)


class StatementPartSchema(Schema):
    dossiers_registered = fields.Integer()
    collected = fields.Nested(StatementByMethodSchema, metadata={"description": "Payments received, by method"})
    refunded = fields.Nested(StatementByMethodSchema, metadata={"description": "Refunds paid back, by method"})
    state_fee_vnd = fields.Integer(metadata={"description": "State fees owed to the treasury (net of refunds)"})
    service_fee_vnd = fields.Integer(metadata={"description": "The agent's service fee owed to the agent"})
    courier_fee_vnd = fields.Integer(metadata={"description": "Courier fees"})
    cash_net_vnd = fields.Integer(metadata={"description": "Cash collected less cash refunded"})
    net_vnd = fields.Integer(metadata={"description": "Cash net less the agent's fee: > 0 the agent owes the centre, "
                                                      "< 0 the centre owes the agent"})
    net_direction = fields.String(metadata={"description": "agent_owes_centre, centre_owes_agent or settled"})
    lines = fields.Integer(metadata={"description": "Ledger transactions behind the figures"})


class StatementFiguresSchema(Schema):
    period = fields.Nested(StatementPartSchema, metadata={"description": "What was booked in the period"})
    corrections = fields.Nested(StatementPartSchema, metadata={"description": "Late corrections carried forward"})
    total = fields.Nested(StatementPartSchema)


class StatementScopeSchema(Schema):
    kind = fields.String(metadata={"description": "centre, organisation or point"})
    key = fields.String()
    id = fields.Integer(allow_none=True)
    code = fields.String(allow_none=True)
    name = fields.String(allow_none=True)


class StatementSummarySchema(Schema):
    id = fields.Integer()
    number = fields.String(metadata={"description": "Series and gap-free number, e.g. BK-000012"})
    from_ = fields.Date(data_key="from", attribute="from")
    to = fields.Date()
    scope_key = fields.String()
    scope = fields.Nested(StatementScopeSchema)
    issued_at = UtcDateTime()
    issued_by = fields.String()
    net_vnd = fields.Integer(allow_none=True, metadata=_money)


class StatementPreviewSchema(Schema):
    scope = fields.Nested(StatementScopeSchema)
    from_ = fields.Date(data_key="from", attribute="from")
    to = fields.Date()
    figures = fields.Nested(StatementFiguresSchema)
    issued = fields.List(fields.Nested(StatementSummarySchema), metadata={"description": "Issued, overlapping"})
    issuable = fields.Boolean(metadata={"description": "Whether it may be issued now (over, and not issued)"})


class StatementSchema(StatementSummarySchema):
    series = fields.String()
    sequence = fields.Integer()
    figures = fields.Nested(StatementFiguresSchema)
    canonical = fields.String(metadata={"description": "Exactly the signed bytes (UTF-8 JSON)"})
    signature = fields.String(metadata={"description": "Ed25519 over canonical, URL-safe base64"})
    key_id = fields.String(metadata={"description": "The e-receipts' key id (/receipts/public-key)"})
    alg = fields.String()
    genuine = fields.Boolean()


class StatementPageSchema(Schema):
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()
    items = fields.List(fields.Nested(StatementSummarySchema))


class StatementEntrySchema(Schema):
    id = fields.Integer()
    account = fields.String()
    party = fields.String(allow_none=True)
    amount_vnd = fields.Integer(metadata={"description": "Debit > 0, credit < 0"})


class StatementLineSchema(Schema):
    ledger_transaction_id = fields.Integer()
    kind = fields.String()
    reference = fields.String()
    booked_at = UtcDateTime()
    dossier_id = fields.Integer(allow_none=True)
    dossier_number = fields.String(allow_none=True)
    method = fields.String(allow_none=True)
    amount_vnd = fields.Integer(metadata={"description": "Money in (> 0) or back out (< 0)"})
    state_fee_vnd = fields.Integer()
    service_fee_vnd = fields.Integer()
    courier_fee_vnd = fields.Integer()
    correction = fields.Boolean(metadata={"description": "Carried forward from an issued period"})
    entries = fields.List(fields.Nested(StatementEntrySchema))


class StatementDossierSchema(Schema):
    dossier_id = fields.Integer()
    dossier_number = fields.String()
    received_at = UtcDateTime()
    fee_vnd = fields.Integer()


class StatementDrillSchema(Schema):
    figure = fields.String()
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()
    lines = fields.List(fields.Nested(StatementLineSchema))
    dossiers = fields.List(fields.Nested(StatementDossierSchema))
