"""Citizen identity and contact rules: CCCD numbers and Vietnamese mobile phones."""

from __future__ import annotations

import phonenumbers
from marshmallow import ValidationError
from phonenumbers import NumberParseException, PhoneNumberType

# Province codes of the 12-digit CCCD (Circular 07/2016/TT-BCA, Annex I).
CCCD_PROVINCE_CODES = frozenset(
    "001 002 004 006 008 010 011 012 014 015 017 019 020 022 024 025 026 027 030 031 033 "
    "034 035 036 037 038 040 042 044 045 046 048 049 051 052 054 056 058 060 062 064 066 "
    "067 068 070 072 074 075 077 079 080 082 083 084 086 087 089 091 092 093 094 095 096".split()
)
_MOBILE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def validate_cccd(value: str) -> None:
    if len(value) != 12 or not value.isascii() or not value.isdigit():
        raise ValidationError("Must be exactly 12 digits.")
    if value[:3] not in CCCD_PROVINCE_CODES:
        raise ValidationError("The first three digits are not a Vietnamese province code.")


def normalise_mobile(value: str) -> str:
    """E.164 form of a mobile number; national Vietnamese form (0xx…) is accepted."""
    try:
        number = phonenumbers.parse(value, "VN")
    except NumberParseException as exc:
        raise ValidationError("Not a valid phone number.") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError("Not a valid phone number.")
    if phonenumbers.number_type(number) not in _MOBILE:
        raise ValidationError("Must be a mobile number that can receive SMS.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_mobile(value: str) -> None:
    normalise_mobile(value)
