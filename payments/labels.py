"""People's names for payment statuses and methods (Vietnamese via the translation catalogue)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from payments.models import Method, PaymentStatus

STATUS_LABELS = {
    PaymentStatus.AWAITING: _l("Awaiting payment"),
    PaymentStatus.REQUIRES_ACTION: _l("Waiting for card authentication"),
    PaymentStatus.PROCESSING: _l("Payment processing"),
    PaymentStatus.PAID: _l("Paid"),
    PaymentStatus.PARTIALLY_REFUNDED: _l("Partially refunded"),
    PaymentStatus.REFUNDED: _l("Refunded"),
    PaymentStatus.CANCELED: _l("Payment cancelled"),
}
METHOD_LABELS = {Method.CARD: _l("Bank card"), Method.VIETQR: _l("VietQR bank transfer"), Method.CASH: _l("Cash")}


def payment_label(status: PaymentStatus | str) -> str:
    return str(STATUS_LABELS[PaymentStatus(status)])


def method_label(method: Method | str) -> str:
    return str(METHOD_LABELS[Method(method)])
