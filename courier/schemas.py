"""Marshmallow schemas of the courier API (output only: staff see a dossier's shipment)."""

from __future__ import annotations

from marshmallow import Schema, fields

from core.schemas import UtcDateTime


class DeliveryAttemptSchema(Schema):
    number = fields.Integer()
    status = fields.String()
    pickup_start = UtcDateTime()
    pickup_end = UtcDateTime()
    scheduled_by = fields.String(metadata={"description": "system, or citizen (chosen on the tracking page)"})
    booked = fields.Boolean(metadata={"description": "The carrier confirmed the pickup"})
    outcome_at = UtcDateTime(allow_none=True)
    reason = fields.String(allow_none=True)


class DeliveryProofSchema(Schema):
    recipient_name = fields.String(allow_none=True)
    delivered_at = UtcDateTime()
    signature_ref = fields.String(allow_none=True)
    photo_ref = fields.String(allow_none=True)


class ShipmentEventSchema(Schema):
    status = fields.String()
    occurred_at = UtcDateTime()
    attempt = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True)
    source = fields.String(metadata={"description": "webhook or poll"})


class ShipmentSchema(Schema):
    dossier_number = fields.String()
    status = fields.String(metadata={"description": "pending, picked_up, in_transit, out_for_delivery, "
                                                    "delivery_failed, returned_to_branch, delivered"})
    status_label = fields.String()
    carrier = fields.String()
    external_id = fields.String(allow_none=True)
    tracking_number = fields.String(allow_none=True)
    pickup_at = UtcDateTime(allow_none=True)
    estimated_delivery = UtcDateTime(allow_none=True)
    attempts = fields.List(fields.Nested(DeliveryAttemptSchema))
    max_attempts = fields.Integer()
    proof = fields.Nested(DeliveryProofSchema, allow_none=True)
    events = fields.List(fields.Nested(ShipmentEventSchema))
