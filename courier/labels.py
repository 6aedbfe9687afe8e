"""People's names for delivery statuses and failure reasons (Vietnamese via the translation catalogue).

In a request they follow the page's language; elsewhere (a job, a shell) they are Vietnamese.
"""

from __future__ import annotations

from flask import has_request_context
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from courier.adapters.base import REASON_NO_RECIPIENT, REASON_UNREACHABLE, REASON_WRONG_ADDRESS, ShipmentStatus

S = ShipmentStatus
STATUS_LABELS = {
    S.PENDING: _l("Waiting for the courier"),
    S.PICKED_UP: _l("Picked up by the courier"),
    S.IN_TRANSIT: _l("In transit"),
    S.OUT_FOR_DELIVERY: _l("Out for delivery"),
    S.DELIVERY_FAILED: _l("Delivery attempt failed"),
    S.RETURNED_TO_BRANCH: _l("Returned to the service point"),
    S.DELIVERED: _l("Delivered"),
}
REASON_LABELS = {
    REASON_NO_RECIPIENT: _l("Nobody was there to receive it"),
    REASON_WRONG_ADDRESS: _l("Wrong address"),
    REASON_UNREACHABLE: _l("The recipient could not be reached"),
}


def _text(lazy) -> str:
    if has_request_context():
        return str(lazy)
    with force_locale("vi"):
        return str(lazy)


def shipment_label(status: ShipmentStatus | str) -> str:
    return _text(STATUS_LABELS[ShipmentStatus(status)])


def reason_label(code: str | None, words: str | None) -> str | None:
    """Our words for a known reason, else the carrier's own."""
    return _text(REASON_LABELS[code]) if code in REASON_LABELS else words
