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


# What a signed document is, by (document, kind): the state fee receipt apart from the service invoice.
DOCUMENT_LABELS = {
    ("fee_receipt", "payment"): _l("State fee receipt"),
    ("fee_receipt", "refund"): _l("State fee refund receipt"),
    ("service_invoice", "payment"): _l("Service invoice (VAT)"),
    ("service_invoice", "refund"): _l("Adjustment invoice (refund)"),
    ("combined", "payment"): _l("Fee receipt"),
    ("combined", "refund"): _l("Fee refund receipt"),
}


def document_label(document: str, kind: str = "payment") -> str:
    """``("service_invoice", "payment")`` → "Hóa đơn dịch vụ (GTGT)" (in the page's language)."""
    return str(DOCUMENT_LABELS[(document, kind)])
