"""Domain errors of the courier use cases (the tracking page and the webhook show them)."""

from __future__ import annotations

from core.errors import Conflict, DomainError, Forbidden, InvalidInput
from core.messages import Text


class BadSignature(DomainError):
    status = 400
    code = "bad_signature"
    title = Text("Chữ ký webhook không hợp lệ", "Invalid webhook signature")


class PhoneDigitsMismatch(Forbidden):
    code = "phone_digits_mismatch"
    title = Text("Số điện thoại không khớp", "The phone number does not match")


class TooManyTries(DomainError):
    status = 429
    code = "too_many_tries"
    title = Text("Nhập sai quá nhiều lần", "Too many wrong tries")


class NothingToReschedule(Conflict):
    code = "nothing_to_reschedule"
    title = Text("Không có lần giao nào để hẹn lại", "No delivery to reschedule")


class SlotNotOffered(InvalidInput):
    code = "slot_not_offered"
    title = Text("Khung giờ không có trong danh sách", "Slot not offered")
