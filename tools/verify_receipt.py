#!/usr/bin/env python3
"""Verify an electronic receipt (biên lai điện tử) or service invoice (hóa đơn) offline.

    python verify_receipt.py receipt.json receipt-public-key.pem

``receipt.json`` is the signed document downloaded with the receipt:
``{"receipt": {...}, "signature": "<URL-safe base64>", "key_id": "<16 hex>", "alg": "Ed25519"}``;
the PEM is the issuer's published Ed25519 public key. The same tool checks both documents a
payment gives: the state fee receipt (``"document": "fee_receipt"``) and the service invoice
(``"service_invoice"``, with the VAT of each component), and receipts of before the split (v1).
What is signed is the ``receipt`` object as JSON with sorted keys, no spaces, UTF-8.
Prints ``HỢP LỆ / VALID`` and exits 0, or ``KHÔNG HỢP LỆ / INVALID`` with the reason and exits 1 (2: wrong arguments).

Needs only Python 3 and the ``cryptography`` package: it imports nothing from the project.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import re
import sys

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

VALID = "HỢP LỆ / VALID"
INVALID = "KHÔNG HỢP LỆ / INVALID"
B64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")


class Invalid(Exception):
    """Why the receipt does not verify."""


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise Invalid(f"the public key file is not a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise Invalid("the public key is not an Ed25519 key")
    return key


def key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def canonical(receipt: dict) -> bytes:
    return json.dumps(receipt, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def check(document: object, key: Ed25519PublicKey) -> dict:
    """The receipt of a document that verifies; ``Invalid`` otherwise."""
    if not isinstance(document, dict) or not isinstance(document.get("receipt"), dict):
        raise Invalid("not a receipt document (no 'receipt' object)")
    if document.get("alg") != "Ed25519":
        raise Invalid(f"unsupported algorithm {document.get('alg')!r}")
    if document.get("key_id") != key_id(key):
        raise Invalid(f"signed with another key (document: {document.get('key_id')!r}, this key: {key_id(key)})")
    signature = document.get("signature")
    if not isinstance(signature, str) or not B64URL.fullmatch(signature):
        raise Invalid("the signature is not URL-safe base64")
    body = signature.rstrip("=")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise Invalid("the signature is not URL-safe base64") from None
    if len(raw) != 64:
        raise Invalid("the signature is not 64 bytes long")
    try:
        key.verify(raw, canonical(document["receipt"]))
    except InvalidSignature:
        raise Invalid("the signature does not match the receipt: it was altered, or not signed by this key") from None
    except ValueError as exc:  # e.g. NaN in the receipt
        raise Invalid(str(exc)) from None
    return document["receipt"]


DOCUMENTS = {
    ("fee_receipt", "payment"): "Biên lai thu phí, lệ phí / State fee receipt",
    ("fee_receipt", "refund"): "Biên lai hoàn trả phí, lệ phí / State fee refund receipt",
    ("service_invoice", "payment"): "Hóa đơn giá trị gia tăng / VAT invoice (service and courier fees)",
    ("service_invoice", "refund"): "Hóa đơn điều chỉnh giảm / Adjustment invoice (refund)",
}


def _vnd(amount: object) -> object:
    if isinstance(amount, int) and not isinstance(amount, bool):
        return f"{amount:,}".replace(",", ".") + " ₫"
    return amount


def describe(receipt: dict) -> str:
    number = receipt.get("number")
    number = f"{number:07d}" if isinstance(number, int) and not isinstance(number, bool) else number
    total = _vnd(receipt.get("total_vnd"))
    what = DOCUMENTS.get((receipt.get("document"), receipt.get("kind")), "Biên lai / Receipt (v1)")
    lines = [what, f"{receipt.get('series')} / {number} · {receipt.get('issuer_name')} · {receipt.get('issued_at')}",
             f"{receipt.get('dossier_number')} · {receipt.get('procedure_name')} · {total}"]
    vat = receipt.get("vat")
    if isinstance(vat, dict) and vat:
        lines += [f"  {name}: {_vnd(line.get('before_vat_vnd'))} + VAT {line.get('rate')} {_vnd(line.get('vat_vnd'))}"
                  for name, line in sorted(vat.items()) if isinstance(line, dict)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # a console without UTF-8 must not crash the verdict
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    parser = argparse.ArgumentParser(description="Verify a signed receipt document against a public key.")
    parser.add_argument("document", help="the receipt document (JSON)")
    parser.add_argument("public_key", help="the issuer's public key (PEM)")
    args = parser.parse_args(argv)
    try:
        try:
            with open(args.public_key, "rb") as f:
                key = load_public_key(f.read())
            with open(args.document, encoding="utf-8") as f:
                document = json.load(f)
        except OSError as exc:
            raise Invalid(f"cannot read {exc.filename}: {exc.strerror}") from None
        except ValueError as exc:
            raise Invalid(f"the document is not JSON ({exc})") from None
        receipt = check(document, key)
    except Invalid as exc:
        print(INVALID)
        print(f"  {exc}", file=sys.stderr)
        return 1
    print(VALID)
    print(describe(receipt))
    return 0


if __name__ == "__main__":
    sys.exit(main())
