"""Typed gateway errors, mapped from Stripe's error object, and card declines in words."""

from __future__ import annotations

from core.errors import DomainError
from core.messages import Text


class GatewayError(Exception):
    """Any failure talking to the payment gateway."""

    def __init__(self, message: str, *, http_status: int | None = None, code: str | None = None,
                 param: str | None = None, body: dict | None = None, request_id: str | None = None):
        super().__init__(message)
        self.message, self.http_status, self.code, self.param = message, http_status, code, param
        self.body, self.request_id = body or {}, request_id


class APIConnectionError(GatewayError):
    """The gateway could not be reached, or did not answer in time."""


class APIError(GatewayError):
    """The gateway failed (5xx)."""


class AuthenticationError(GatewayError):
    """401: the key is wrong or revoked."""


class PermissionDeniedError(GatewayError):
    """403: the key may not do this."""


class RateLimitError(GatewayError):
    """429: too many requests."""


class InvalidRequestError(GatewayError):
    """400/404: the request itself is wrong."""


class IdempotencyError(GatewayError):
    """The Idempotency-Key was reused with different parameters."""


class CardError(GatewayError):
    """402: the card was declined; ``decline_code`` says why."""

    def __init__(self, message: str, *, decline_code: str | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.decline_code = decline_code

    def explain(self) -> Text:
        """What the agent tells the citizen, in Vietnamese and English."""
        return DECLINES.get(self.decline_code or self.code or "", DECLINES["generic_decline"])


# Stripe's decline codes an agent meets at a counter, in words a citizen understands.
DECLINES = {
    "generic_decline": Text("Ngân hàng từ chối thẻ. Hãy dùng thẻ khác hoặc liên hệ ngân hàng.",
                            "The bank declined the card. Use another card or contact the bank."),
    "insufficient_funds": Text("Tài khoản không đủ số dư. Hãy dùng thẻ khác hoặc chuyển khoản VietQR.",
                               "Insufficient funds. Use another card or pay by VietQR transfer."),
    "lost_card": Text("Thẻ đã bị báo mất; không thể thanh toán bằng thẻ này.",
                      "The card is reported lost; it cannot be used."),
    "stolen_card": Text("Thẻ đã bị báo mất cắp; không thể thanh toán bằng thẻ này.",
                        "The card is reported stolen; it cannot be used."),
    "expired_card": Text("Thẻ đã hết hạn.", "The card has expired."),
    "incorrect_cvc": Text("Mã CVC không đúng. Hãy nhập lại.", "The CVC is wrong. Enter it again."),
    "incorrect_number": Text("Số thẻ không đúng. Hãy nhập lại.", "The card number is wrong. Enter it again."),
    "processing_error": Text("Lỗi xử lý tại ngân hàng. Hãy thử lại sau ít phút.",
                             "The bank had a processing error. Try again in a few minutes."),
    "card_not_supported": Text("Thẻ này không hỗ trợ loại giao dịch này.",
                               "This card does not support this kind of payment."),
    "do_not_honor": Text("Ngân hàng từ chối giao dịch. Công dân cần liên hệ ngân hàng.",
                         "The bank refused the payment. The citizen should contact the bank."),
    "authentication_required": Text("Ngân hàng yêu cầu xác thực (3-D Secure). Hãy thực hiện lại.",
                                    "The bank requires authentication (3-D Secure). Try again."),
}

_BY_TYPE = {
    "card_error": CardError,
    "idempotency_error": IdempotencyError,
    "invalid_request_error": InvalidRequestError,
    "api_error": APIError,
}
# 402 is Stripe's "request failed": a card problem, whatever ``type`` a gateway puts on it
# (localstripe labels every error invalid_request_error).
_BY_STATUS = {401: AuthenticationError, 402: CardError, 403: PermissionDeniedError, 429: RateLimitError}


def error_from_response(status: int, body: dict, request_id: str | None) -> GatewayError:
    """The typed error for a gateway's non-2xx answer (Stripe's ``{"error": {...}}`` object)."""
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    message = error.get("message") or f"HTTP {status}"
    common = {"http_status": status, "code": error.get("code"), "param": error.get("param"), "body": body,
              "request_id": request_id}
    kind = _BY_STATUS.get(status) or _BY_TYPE.get(error.get("type", "")) or (APIError if status >= 500 else
                                                                              InvalidRequestError)
    if kind is CardError:
        return CardError(message, decline_code=error.get("decline_code"), **common)
    return kind(message, **common)


# ---------------------------------------------------------------- domain errors (problem+json)

class PaymentDeclined(DomainError):
    status = 402
    code = "card_declined"
    title = Text("Thẻ bị từ chối", "Card declined")


class GatewayUnavailable(DomainError):
    status = 503
    code = "gateway_unavailable"
    title = Text("Cổng thanh toán không phản hồi", "Payment gateway unavailable")


class BadSignature(DomainError):
    status = 400
    code = "bad_signature"
    title = Text("Chữ ký webhook không hợp lệ", "Invalid webhook signature")
