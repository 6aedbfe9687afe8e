"""The dossier vocabulary: procedure levels, lifecycle statuses, delivery methods (plain enums)."""

from __future__ import annotations

import enum


class Level(enum.StrEnum):
    """The level a procedure is done at. Districts were abolished on 1/7/2025 (two-level local
    government): their procedures moved to the commune (migration 0023, tools/import_catalogue.py).
    Dossiers do not record a level of their own, so none needs the old value."""

    PROVINCE = "province"
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
