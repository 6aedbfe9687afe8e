"""Marshmallow schemas of the reconciliation API."""

from __future__ import annotations

from marshmallow import Schema, fields

from core.schemas import UtcDateTime


class RunCreateSchema(Schema):
    period_from = fields.Date(required=True, data_key="from", metadata={"description": "First day (Hanoi), included"})
    period_to = fields.Date(required=True, data_key="to", metadata={"description": "Last day (Hanoi), included"})


class RunSchema(Schema):
    id = fields.Integer()
    period_from = fields.Date(data_key="from")
    period_to = fields.Date(data_key="to")
    status = fields.String(metadata={"description": "running | succeeded | failed"})
    started_at = UtcDateTime()
    finished_at = UtcDateTime(allow_none=True)
    actor = fields.String()
    counts = fields.Dict(metadata={"description": "fetched: what came from the gateway; found and new: per class of "
                                                  "mismatch; cleared: open items found matched now; bank: statement "
                                                  "lines linked to payouts"})
    error = fields.String(allow_none=True)
