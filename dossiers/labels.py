"""People's names for dossier statuses (Vietnamese via the translation catalogue)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from dossiers.models import Status

STATUS_LABELS = {
    Status.RECEIVED: _l("Received"),
    Status.ROUTED: _l("Routed"),
    Status.ACCEPTED: _l("Accepted"),
    Status.PROCESSING: _l("Processing"),
    Status.SUPPLEMENT_REQUESTED: _l("Supplement requested"),
    Status.RESULT_READY: _l("Result ready"),
    Status.OUT_FOR_DELIVERY: _l("Out for delivery"),
    Status.DELIVERED: _l("Delivered"),
    Status.COLLECTED: _l("Collected"),
    Status.CLOSED: _l("Closed"),
    Status.REJECTED: _l("Rejected"),
    Status.CANCELLED: _l("Cancelled"),
}


def status_label(status: Status | str) -> str:
    return str(STATUS_LABELS[Status(status)])
