"""Domain errors of the SMS service."""

from __future__ import annotations

from core.errors import DomainError
from core.messages import Text


class BadReceiptSignature(DomainError):
    status = 400
    code = "bad_signature"
    title = Text("Chữ ký báo cáo SMS không hợp lệ", "Invalid SMS receipt signature")


class BadReceipt(DomainError):
    status = 400
    code = "bad_receipt"
    title = Text("Báo cáo gửi SMS không hợp lệ", "Invalid SMS delivery receipt")
