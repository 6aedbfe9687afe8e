"""The dossier vocabulary: procedure levels, lifecycle statuses, delivery methods (plain enums)."""

from __future__ import annotations

import enum


class Level(enum.StrEnum):
    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"


class Status(enum.StrEnum):
    RECEIVED = "received"
    ROUTED = "routed"
    ACCEPTED = "accepted"
    PROCESSING = "processing"
    SUPPLEMENT_REQUESTED = "supplement_requested"
    RESULT_READY = "result_ready"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    COLLECTED = "collected"
    CLOSED = "closed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class DeliveryMethod(enum.StrEnum):
    COLLECT = "collect"  # the citizen collects the result at the service point
    COURIER = "courier"  # the result is returned by post to an address
