"""VietQR: the NAPAS 247 EMVCo merchant-presented QR a citizen scans to pay a fee by bank transfer.

The payload is EMVCo TLV (two-digit tag, two-digit length, value), ASCII only::

    00 02 01                       payload format indicator
    01 02 12                       point of initiation: 12 = dynamic (one transaction, fixed amount)
    38 .. 00 10 A000000727         NAPAS GUID
          01 .. 00 06 <bank BIN>   beneficiary bank
                01 .. <account>    beneficiary account number
          02 08 QRIBFTTA           service: NAPAS 247 transfer to an account
    53 03 704                      currency: VND
    54 .. <amount>                 whole đồng, no decimals
    58 02 VN
    59 .. <name>                   optional, upper-case without diacritics
    62 .. 08 .. <reference>        purpose of transaction: what the bank writes into the statement description
    63 04 <CRC>                    CRC-16/CCITT-FALSE over everything before it, "6304" included

Building and the CRC come from ``napas-qr-python`` (import name ``qr_pay``, pinned in requirements.txt).
Of the VietQR packages on PyPI it is the one that is both correct and complete: it encodes field 38
with the GUID, BIN, account and QRIBFTTA, puts the purpose into 62/08, orders the fields with 63 last,
computes the CRC over the payload including "6304", and its decoder verifies that CRC; its only
dependencies (segno, requests) are already the project's. The others were set aside:
``vietqr-generator`` truncates CRCs below 0x1000 to three hex digits (and prints), ``vietqr-emvco``
forces merchant category 0000 and a made-up merchant name and decodes amounts as floats,
``vnqr`` pulls in crcmod, qrcode, Pillow and pypng and has no decoder, ``vietnam-qr-pay`` has no
validation and marks errors with a flag instead of raising.

What is ours: the validation of every input (the library checks only lengths), and the strictness
of ``parse_payload``: the library's decoder quietly leaves a malformed 38 or 62 unexpanded and lets
a repeated tag overwrite the first, so we check that every template is consumed exactly, that 00
comes first and 63 last, and we verify the CRC ourselves to give a precise error.

The transfer reference is ``HS`` + the dossier number with its dashes removed, e.g.
``HN-CN02-261124-0001`` → ``HSHNCN022611240001``: letters and digits only, because banks drop
or replace dashes, dots and spaces in statement descriptions. ``find_reference`` finds it again in
a description where the bank or the citizen inserted spaces, dots or dashes.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import qr_pay
import segno
from qr_pay.decode import QRDecodeError

__all__ = [
    "REFERENCE_PREFIX",
    "VietQRError",
    "build_payload",
    "crc16",
    "find_reference",
    "parse_payload",
    "qr_svg",
    "reference_for",
]

NAPAS_GUID = "A000000727"
SERVICE_TO_ACCOUNT = "QRIBFTTA"
REFERENCE_PREFIX = "HS"  # hồ sơ
MAX_REFERENCE = 25  # EMVCo 62/08 (and what every bank keeps of a description)
MAX_AMOUNT_DIGITS = 13  # EMVCo 54

_BIN = re.compile(r"\d{6}")
_ACCOUNT = re.compile(r"[0-9A-Z]{1,19}")
_REFERENCE = re.compile(rf"[A-Z0-9-]{{1,{MAX_REFERENCE}}}")
_MERCHANT_NAME = re.compile(r"[A-Z0-9 .,&-]{1,25}")
# A dossier number: the receiving agency's code (000.02.98.H26, dossiers.codes) or, before it, the
# service point's (letters, digits, dashes), YYMMDD, the day's sequence.
_DOSSIER_NUMBER = re.compile(r"(?P<point>[A-Z0-9][A-Z0-9.-]*?)-(?P<day>\d{6})-(?P<seq>\d{4,5})")

# Inside a bank statement description: what may separate the characters of a reference.
_SEPARATORS = frozenset(" \t\r\n.-_/:,")
_MAX_GAP = 3
_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


class VietQRError(ValueError):
    """A payload that is not well-formed EMVCo TLV, or whose CRC does not match."""


def crc16(data: str) -> str:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor) as 4 upper-case hex digits."""
    if not data.isascii():
        raise ValueError("A VietQR payload must be ASCII.")
    return qr_pay.calculate_checksum(data)


def build_payload(*, bank_bin: str, account_number: str, amount_vnd: int, reference: str,
                  merchant_name: str | None = None) -> str:
    """The payload of a dynamic VietQR for one transfer of ``amount_vnd`` đồng to the account.

    ``reference`` goes into 62/08; use ``reference_for(dossier_number)``. ``merchant_name`` (59),
    if given, is written upper-case without diacritics and must then fit 25 characters.
    """
    if not isinstance(bank_bin, str) or not _BIN.fullmatch(bank_bin):
        raise ValueError("The bank BIN must be 6 digits (e.g. 970436 for Vietcombank).")
    if not isinstance(account_number, str) or not _ACCOUNT.fullmatch(account_number):
        raise ValueError("The account number must be 1 to 19 digits or upper-case letters.")
    if isinstance(amount_vnd, bool) or not isinstance(amount_vnd, int):
        raise ValueError("The amount must be an integer number of đồng.")
    if amount_vnd <= 0 or len(str(amount_vnd)) > MAX_AMOUNT_DIGITS:
        raise ValueError(f"The amount must be more than 0 and at most {MAX_AMOUNT_DIGITS} digits.")
    if not isinstance(reference, str) or not _REFERENCE.fullmatch(reference):
        raise ValueError(f"The reference must be 1 to {MAX_REFERENCE} characters, "
                         "only upper-case A-Z, digits 0-9 and '-'.")
    name = None
    if merchant_name is not None:
        name = _ascii_upper(merchant_name)
        if not _MERCHANT_NAME.fullmatch(name):
            raise ValueError("The merchant name must be 1 to 25 characters without diacritics: "
                             "letters, digits, spaces and . , & -")
    code = qr_pay.QRPay(
        bin_id=bank_bin, consumer_id=account_number, service_code="ACCOUNT",
        point_of_initiation_method="DYNAMIC", transaction_amount=amount_vnd,
        purpose_of_transaction=reference, merchant_name=name,
    ).code
    return code


def parse_payload(payload: str) -> dict:
    """The TLV of ``payload`` as a dict, after checking its structure and CRC.

    Top-level tags map to their string values, except 38 and 62, which map to dicts of their
    subfields; 38's subfield 01 (beneficiary) is itself a dict, e.g.::

        {"00": "01", "01": "12",
         "38": {"00": "A000000727", "01": {"00": "970436", "01": "0011001234567"}, "02": "QRIBFTTA"},
         "53": "704", "54": "242000", "58": "VN", "62": {"08": "HSHNCN022611240001"}, "63": "B784"}

    Raises ``VietQRError`` if the payload is empty, not ASCII, not well-formed TLV (a truncated or
    repeated tag, a template whose subfields do not add up, 00 not first, 63 not last with 4 hex
    digits), or if the CRC does not match.
    """
    if not isinstance(payload, str) or not payload:
        raise VietQRError("The payload must be a non-empty string.")
    if not payload.isascii() or not payload.isprintable():
        raise VietQRError("The payload must be printable ASCII.")
    try:
        root = qr_pay.parse(payload, verify_crc=False)
    except QRDecodeError as exc:
        raise VietQRError(f"The payload is not well-formed TLV: {exc}.") from exc
    _check_complete("the payload", payload, root)
    tags = list(root)
    if tags[0] != "00":
        raise VietQRError("The payload must start with tag 00 (payload format indicator).")
    crc = root[tags[-1]]
    if tags[-1] != "63" or not re.fullmatch(r"[0-9A-Fa-f]{4}", crc.value):
        raise VietQRError("The payload must end with tag 63 and a 4-digit hexadecimal CRC.")
    expected = crc16(payload[:-4])
    if crc.value.upper() != expected:
        raise VietQRError(f"Bad CRC: the payload says {crc.value}, its content gives {expected}.")

    result: dict = {}
    for tag, obj in root.items():
        if tag in ("38", "62"):
            _check_complete(f"tag {tag}", obj.value, obj.children)
            sub: dict = {}
            for subtag, child in obj.children.items():
                if tag == "38" and subtag == "01":
                    _check_complete("tag 38/01", child.value, child.children)
                    sub[subtag] = {k: v.value for k, v in child.children.items()}
                else:
                    sub[subtag] = child.value
            result[tag] = sub
        else:
            result[tag] = obj.value
    return result


def reference_for(dossier_number: str) -> str:
    """The transfer reference of a dossier: ``HS`` + its number without dots and dashes, upper-case.

    ``000.02.98.H26-261124-0001`` → ``HS0000298H262611240001`` (and a former number
    ``HN-CN02-261124-0001`` → ``HSHNCN022611240001``). Raises ValueError if the number is not
    ``<agency or point code>-<YYMMDD>-<sequence>`` or if the reference would be longer than 25 characters.
    """
    number = dossier_number.strip().upper() if isinstance(dossier_number, str) else ""
    match = _DOSSIER_NUMBER.fullmatch(number)
    if not match or not _is_day(match["day"]):
        raise ValueError("A dossier number looks like 000.02.98.H26-261124-0001 "
                         "(agency code, YYMMDD, sequence).")
    reference = REFERENCE_PREFIX + number.replace("-", "").replace(".", "")
    if len(reference) > MAX_REFERENCE:
        raise ValueError(f"The reference {reference} would be longer than {MAX_REFERENCE} characters.")
    if not _plausible(reference):
        raise ValueError("The service point code in a dossier number must have at least two letters or digits.")
    return reference


def find_reference(description: str) -> str | None:
    """The first dossier reference (``HS…``) in a bank statement description, normalised, or None.

    Case-insensitive. Up to three spaces, dots, dashes, underscores, slashes, colons or commas may
    stand between its characters (banks wrap or re-punctuate descriptions; citizens type
    ``HS HN-CN02-261124-0001``). It must end where the text ends, at such a separator, at another
    character, or where a letter follows its final digits; its last ten digits must be a valid
    YYMMDD and a 4-digit sequence (or 11 digits with a 5-digit sequence). Where a bank glued other
    digits to it without a separator it cannot be told apart, and None is returned.
    """
    if not description:
        return None
    text = description.upper()
    for match in re.finditer(REFERENCE_PREFIX, text):
        found = _reference_at(text, match.end())
        if found:
            return found
    return None


def qr_svg(payload: str, *, scale: int = 8, border: int = 4) -> str:
    """The QR code of ``payload`` as an inline SVG element (no XML declaration) for a tablet screen."""
    qr = segno.make(payload, error="m", micro=False)
    return qr.svg_inline(scale=scale, border=border, dark="#000", light="#fff", title="VietQR")


def _check_complete(what: str, value: str, children: dict) -> None:
    """Every character of a template belongs to exactly one parsed subfield (no gap, no repeated tag)."""
    consumed = sum(4 + len(child.value) for child in children.values())
    if not value or consumed != len(value):
        raise VietQRError(f"The payload is not well-formed TLV: {what} has a malformed or repeated tag.")


def _ascii_upper(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(text.upper().split())


def _is_day(yymmdd: str) -> bool:
    try:
        date(2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:]))
    except ValueError:
        return False
    return True


def _plausible(reference: str) -> bool:
    """HS, a service point code of at least two characters, YYMMDD, a 4- or 5-digit sequence."""
    for seq in (4, 5):
        day = reference[-6 - seq:-seq]
        if (len(reference) - 6 - seq >= len(REFERENCE_PREFIX) + 2 and day.isdigit() and _is_day(day)
                and reference[-seq:].isdigit()):
            return True
    return False


def _reference_at(text: str, i: int) -> str | None:
    """The shortest plausible reference whose characters start at ``text[i]`` (after the prefix)."""
    reference = REFERENCE_PREFIX
    while True:
        j = i
        while j < len(text) and text[j] in _SEPARATORS:
            j += 1
        following = text[j] if j < len(text) else ""
        continues = following in _ALNUM and j - i <= _MAX_GAP
        at_end = j > i or following not in _ALNUM or (reference[-1].isdigit() and following.isalpha())
        if at_end and _plausible(reference):
            return reference
        if not continues or len(reference) == MAX_REFERENCE:
            return None
        reference += following
        i = j + 1
