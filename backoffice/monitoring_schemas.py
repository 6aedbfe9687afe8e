"""Marshmallow schemas of the quality alerts' API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from backoffice.alerts import KINDS, NOTE_MAX
from core.schemas import UtcDateTime


class AlertQuerySchema(Schema):
    status = fields.String(load_default="open", validate=validate.OneOf(("open", "all")),
                           metadata={"description": "open (default) or all (acknowledged ones too)"})
    kind = fields.String(load_default=None, validate=validate.OneOf(KINDS))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class AlertSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "capacity | deadline | on_time | low_rating"})
    subject = fields.String(metadata={"description": "What it is about (a point and day or week, a dossier)"})
    service_point_code = fields.String(allow_none=True)
    dossier_number = fields.String(allow_none=True)
    details = fields.Dict(metadata={"description": "The figures behind the alert and the threshold crossed"})
    summary = fields.String(metadata={"description": "What the alert says, in the caller's language"})
    status = fields.String(metadata={"description": "open | acknowledged"})
    raised_at = UtcDateTime()
    acknowledged_at = UtcDateTime(allow_none=True)
    acknowledged_by = fields.String(allow_none=True)
    note = fields.String(allow_none=True)


class AlertListSchema(Schema):
    alerts = fields.List(fields.Nested(AlertSchema))


class AckInSchema(Schema):
    note = fields.String(required=True, validate=validate.Length(min=1, max=NOTE_MAX),
                         metadata={"description": "What was done about the alert (required, audited)"})
