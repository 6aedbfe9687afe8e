"""One way to mask a phone number, everywhere: pages, API dumps, SMS and the dev outbox.

Pure Python (no Flask). The local form Vietnamese people know, the network prefix and the
last three digits shown: +84912345678 and 0912345678 both give ``091****678``.
"""

from __future__ import annotations


def mask_phone(value: str | None) -> str:
    digits = "".join(ch for ch in value or "" if ch.isdigit())
    if not digits:
        return "—"
    if digits.startswith("84") and (value or "").lstrip().startswith("+"):
        digits = "0" + digits[2:]
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 6) + digits[-3:]
