"""Electronic receipts (biên lai điện tử) and service invoices for what citizens pay: signed, numbered,
verifiable offline.

Two documents, as the law separates them
    The state fee (phí, lệ phí) is State budget revenue: it is receipted on the fee/charge receipt
    (``document="fee_receipt"``, "biên lai thu phí, lệ phí": a document under Decree 123/2020/NĐ-CP on
    invoices and documents, the Ministry of Finance's form — Circular 32/2025/TT-BTC, before it Circular
    78/2021/TT-BTC and, for paper receipts, Circular 303/2016/TT-BTC) by the unit that collected it, and
    carries only ``state_fee``. Fees and charges are outside VAT.
    The agent's service fee and the courier fee are commercial services: they are invoiced
    (``document="service_invoice"``, "hóa đơn giá trị gia tăng", Decree 123/2020/NĐ-CP as amended by
    Decree 70/2025/NĐ-CP) by the agent organisation as seller, with ``service_fee`` and/or
    ``courier_fee`` only and, for each, the VAT it contains (``vat``: rate, amount before VAT, VAT).
    Each document has its own series and numbers (see ``payments.receipting``).

Pure Python, no database: another layer numbers, stores and serves receipts; this module builds,
signs and verifies them (the PDF is drawn by receipt_pdf.py).

What is signed
    ``canonical_bytes(data)``: the receipt's fields as JSON with sorted keys, no spaces, UTF-8
    (not ASCII-escaped), the time as ISO-8601 UTC with ``Z`` and a format version ``"v": 2``
    (``"document"`` and ``"vat"`` were added in v2). Receipts issued before the split are v1 (no
    ``document``, no ``vat``, the state and service fees together: ``document="combined"`` here);
    they stay valid, parse and verify exactly as signed.
    The signature is Ed25519 over exactly those bytes, written as URL-safe base64 (with padding).
    A key is named by its *key id*: the first 16 hex digits of SHA-256 of the raw 32-byte public key.

The document a citizen or auditor keeps
    ``to_document(signed)`` → ``{"receipt": {…the canonical fields…}, "signature": "…",
    "key_id": "…", "alg": "Ed25519"}``. Anyone holding the published public key (PEM) checks it with
    ``json.dumps(doc["receipt"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
    encoded as UTF-8 and Ed25519 — no project code needed (see ``tools/verify_receipt.py``).

Numbering and refunds
    A document is identified by its series and number (``TTPVHCC-HN-26`` / ``0000123``; numbers are
    shown zero-padded to 7 digits); a service invoice's series ends with ``-HD``. A refund
    (``kind="refund"``) is numbered in a separate series: the payment series plus ``-HT`` (hoàn trả),
    e.g. ``VNPOST-HN-26-HD-HT`` / ``0000004`` — so payment numbers stay gapless and a refund never
    reuses or shifts one. ``refund_series()`` gives the name; a refund names the document it reverses
    in ``original_receipt`` (``SERIES/NUMBER``, i.e. that document's ``receipt_id``); a payment one
    has none. Amounts on a refund are the positive amounts handed back.

Keys
    ``load_or_create_signing_key``: a configured PKCS#8 PEM (``RECEIPT_SIGNING_KEY_PATH``, read by
    the caller), or else ``<instance>/receipt_signing_key.pem`` made once (mode 0600) and reused; two
    processes starting together end up with one key (the file appears complete or not at all).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import segno
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
LEGACY_VERSION = 1  # before the state fee receipt and the service invoice were split
ALG = "Ed25519"
KEY_FILENAME = "receipt_signing_key.pem"
REFUND_SERIES_SUFFIX = "-HT"  # hoàn trả: refunds are numbered in their own series
NUMBER_DIGITS = 7
MAX_NUMBER = 10**NUMBER_DIGITS - 1

METHODS = ("card", "vietqr", "cash")
KINDS = ("payment", "refund")
COMPONENTS = ("state_fee", "service_fee", "courier_fee")  # also the order they are shown in
FEE_RECEIPT, SERVICE_INVOICE, COMBINED = "fee_receipt", "service_invoice", "combined"
DOCUMENTS = (FEE_RECEIPT, SERVICE_INVOICE)  # what is issued now; COMBINED: v1 receipts only
DOCUMENT_COMPONENTS = {FEE_RECEIPT: ("state_fee",), SERVICE_INVOICE: ("service_fee", "courier_fee"),
                       COMBINED: COMPONENTS}
INVOICE_SERIES_SUFFIX = "-HD"  # hóa đơn: a service invoice series ends with it (before -HT for refunds)
NOT_SUBJECT = "KCT"  # không chịu thuế: a component not subject to VAT

# (Vietnamese, English) labels for the PDF, which is bilingual whatever the reader's language.
METHOD_LABELS = {
    "card": ("Thẻ ngân hàng", "Bank card"),
    "vietqr": ("Chuyển khoản VietQR", "VietQR bank transfer"),
    "cash": ("Tiền mặt", "Cash"),
}
COMPONENT_LABELS = {
    "state_fee": ("Phí, lệ phí", "State fee"),
    "service_fee": ("Phí dịch vụ", "Service fee"),
    "courier_fee": ("Phí chuyển phát", "Courier fee"),
}
TITLES = {
    (FEE_RECEIPT, "payment"): ("BIÊN LAI THU PHÍ, LỆ PHÍ", "State fee receipt"),
    (FEE_RECEIPT, "refund"): ("BIÊN LAI HOÀN TRẢ PHÍ, LỆ PHÍ", "State fee refund receipt"),
    (SERVICE_INVOICE, "payment"): ("HÓA ĐƠN GIÁ TRỊ GIA TĂNG", "VAT invoice (agent and courier services)"),
    (SERVICE_INVOICE, "refund"): ("HÓA ĐƠN ĐIỀU CHỈNH GIẢM", "Adjustment invoice (decrease, refund)"),
    (COMBINED, "payment"): ("BIÊN LAI THU PHÍ, LỆ PHÍ", "Fee receipt"),
    (COMBINED, "refund"): ("BIÊN LAI HOÀN TRẢ PHÍ, LỆ PHÍ", "Fee refund receipt"),
}
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")  # issuer codes and series: safe in a URL and a file name
_B64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_FIELDS_V1 = ("kind", "issuer_code", "issuer_name", "series", "number", "issued_at", "dossier_number",
              "procedure_name", "payer_name_masked", "method", "components", "total_vnd", "payment_reference",
              "verify_url", "original_receipt")
_FIELDS = _FIELDS_V1 + ("document", "vat")
_RATE = re.compile(r"(0|5|8|10)%")


def vat_rate_text(rate: int | str | None) -> str:
    """``8`` → ``"8%"``; ``None`` or ``"KCT"`` → ``"KCT"`` (not subject to VAT)."""
    if rate is None or rate == NOT_SUBJECT:
        return NOT_SUBJECT
    text = f"{rate}%" if _is_int(rate) else str(rate)
    if not _RATE.fullmatch(text):
        raise ValueError(f"a VAT rate is 0%, 5%, 8%, 10% or {NOT_SUBJECT}, not {rate!r}")
    return text


def split_vat(gross_vnd: int, rate: int | str | None) -> dict[str, Any]:
    """The VAT inside a price that includes it: ``{"rate", "before_vat_vnd", "vat_vnd"}`` (whole đồng).

    ``before_vat_vnd`` is ``gross × 100 / (100 + rate)`` rounded half up, and the VAT the rest, so the
    two always add up to what was paid.
    """
    text = vat_rate_text(rate)
    percent = 0 if text == NOT_SUBJECT else int(text[:-1])
    before = (gross_vnd * 200 + 100 + percent) // (2 * (100 + percent))
    return {"rate": text, "before_vat_vnd": before, "vat_vnd": gross_vnd - before}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def refund_series(payment_series: str) -> str:
    """The series refund receipts of ``payment_series`` are numbered in: ``BL26-VNPOST-HN`` → ``…-HT``."""
    return payment_series if payment_series.endswith(REFUND_SERIES_SUFFIX) else payment_series + REFUND_SERIES_SUFFIX


@dataclass(frozen=True)
class ReceiptData:
    """What a receipt says. Validated on construction (``ValueError``); ``issued_at`` is kept in UTC."""

    issuer_code: str  # e.g. "VNPOST-HN"
    issuer_name: str
    series: str  # e.g. "BL26-VNPOST-HN"; refunds: "BL26-VNPOST-HN-HT"
    number: int  # 1 … 9 999 999 within the series
    issued_at: datetime  # timezone-aware
    dossier_number: str
    procedure_name: str
    payer_name_masked: str  # e.g. "Nguyễn V. A."
    method: str  # "card" | "vietqr" | "cash"
    components: dict[str, int] = field(hash=False)  # "state_fee", "service_fee", "courier_fee" → đồng
    total_vnd: int
    payment_reference: str  # gateway intent id, bank reference or cash record id
    verify_url: str
    kind: str = "payment"  # "payment" | "refund"
    original_receipt: str | None = None  # refunds: "SERIES/NUMBER" of the payment receipt reversed
    document: str = FEE_RECEIPT  # "fee_receipt" | "service_invoice"; "combined": v1 only
    vat: dict[str, dict[str, Any]] = field(default_factory=dict, hash=False)  # invoices: component → VAT
    version: int = FORMAT_VERSION  # 1: issued before the split (no document, no vat)

    def __post_init__(self):
        for name in ("issuer_code", "issuer_name", "series", "dossier_number", "procedure_name",
                     "payer_name_masked", "payment_reference", "verify_url"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{name} must be a non-empty string")
        for name in ("issuer_code", "series"):
            if not _CODE.fullmatch(getattr(self, name)):
                raise ValueError(f"{name} must be 1-40 letters, digits, dots, hyphens or underscores")
        if not _is_int(self.number) or not 1 <= self.number <= MAX_NUMBER:
            raise ValueError(f"number must be an integer from 1 to {MAX_NUMBER}")
        if not isinstance(self.issued_at, datetime) or self.issued_at.utcoffset() is None:
            raise ValueError("issued_at must be a timezone-aware datetime")
        object.__setattr__(self, "issued_at", self.issued_at.astimezone(timezone.utc))
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        if not isinstance(self.components, Mapping) or not self.components:
            raise ValueError("components must be a non-empty mapping")
        components = dict(self.components)  # the receipt's own copy
        unknown = set(components) - set(COMPONENTS)
        if unknown:
            raise ValueError(f"unknown components: {', '.join(sorted(map(str, unknown)))}")
        if not all(_is_int(v) and v >= 0 for v in components.values()):
            raise ValueError("component amounts must be whole, non-negative numbers of đồng")
        object.__setattr__(self, "components", components)
        if not _is_int(self.total_vnd) or self.total_vnd != sum(components.values()):
            raise ValueError(f"total_vnd ({self.total_vnd!r}) must equal the sum of the components "
                             f"({sum(components.values())})")
        if self.total_vnd <= 0:
            raise ValueError("a receipt is for a positive amount")
        is_refund_series = self.series.endswith(REFUND_SERIES_SUFFIX)
        if self.kind == "refund":
            if not is_refund_series:
                raise ValueError(f"a refund receipt's series ends with {REFUND_SERIES_SUFFIX}")
            if self.original_receipt is not None and (not isinstance(self.original_receipt, str)
                                                      or not self.original_receipt.strip()):
                raise ValueError("original_receipt is the payment receipt's \"SERIES/NUMBER\", or None")
        else:
            if is_refund_series:
                raise ValueError(f"a payment receipt's series does not end with {REFUND_SERIES_SUFFIX}")
            if self.original_receipt is not None:
                raise ValueError("only a refund receipt has an original_receipt")
        self._check_document()

    def _check_document(self) -> None:
        if self.version == LEGACY_VERSION:
            if self.document != COMBINED or self.vat:
                raise ValueError("a v1 receipt is a combined receipt with no VAT")
            return
        if self.version != FORMAT_VERSION:
            raise ValueError(f"unsupported receipt format version {self.version!r}")
        if self.document not in DOCUMENTS:
            raise ValueError(f"document must be one of {', '.join(DOCUMENTS)}")
        allowed = DOCUMENT_COMPONENTS[self.document]
        strays = [k for k in self.components if k not in allowed]
        if strays:
            raise ValueError(f"a {self.document} carries only {', '.join(allowed)}, not {', '.join(strays)}")
        base = self.series.removesuffix(REFUND_SERIES_SUFFIX)
        if (self.document == SERVICE_INVOICE) != base.endswith(INVOICE_SERIES_SUFFIX):
            raise ValueError(f"a service invoice's series (and only its) ends with {INVOICE_SERIES_SUFFIX}")
        if not isinstance(self.vat, Mapping):
            raise ValueError("vat must be a mapping")
        vat = {k: dict(v) if isinstance(v, Mapping) else v for k, v in self.vat.items()}
        object.__setattr__(self, "vat", vat)
        if self.document == FEE_RECEIPT:
            if vat:
                raise ValueError("fees and charges are outside VAT: a fee receipt has no vat")
            return
        if set(vat) != set(self.components):
            raise ValueError("an invoice gives the VAT of each of its components")
        for key, line in vat.items():
            if not isinstance(line, dict) or set(line) != {"rate", "before_vat_vnd", "vat_vnd"}:
                raise ValueError(f"vat of {key}: rate, before_vat_vnd and vat_vnd")
            vat_rate_text(line["rate"])
            if not (_is_int(line["before_vat_vnd"]) and _is_int(line["vat_vnd"]) and line["before_vat_vnd"] >= 0
                    and line["vat_vnd"] >= 0 and line["before_vat_vnd"] + line["vat_vnd"] == self.components[key]):
                raise ValueError(f"vat of {key}: the amount before VAT and the VAT add up to the component")
            if line["rate"] == NOT_SUBJECT and line["vat_vnd"]:
                raise ValueError(f"vat of {key}: no VAT on what is not subject to it")

    @property
    def title(self) -> tuple[str, str]:
        """(Vietnamese, English): what the document is, e.g. ``("HÓA ĐƠN GIÁ TRỊ GIA TĂNG", "VAT invoice…")``."""
        return TITLES[(self.document, self.kind)]

    @property
    def vat_total_vnd(self) -> int:
        return sum(line["vat_vnd"] for line in self.vat.values())

    @property
    def number_text(self) -> str:
        """The number as printed: ``123`` → ``"0000123"``."""
        return f"{self.number:0{NUMBER_DIGITS}d}"

    @property
    def receipt_id(self) -> str:
        """``"BL26-VNPOST-HN/0000123"``: how one receipt is named (e.g. in ``original_receipt``)."""
        return f"{self.series}/{self.number_text}"

    @property
    def issued_at_local(self) -> datetime:
        return self.issued_at.astimezone(HANOI)


@dataclass(frozen=True)
class SignedReceipt:
    data: ReceiptData
    signature_b64: str  # URL-safe base64 of the 64-byte Ed25519 signature over canonical_bytes(data)
    key_id: str  # first 16 hex digits of SHA-256 of the raw public key

    @property
    def canonical(self) -> bytes:
        return canonical_bytes(self.data)


# --- canonical form -------------------------------------------------------------------------------

def _iso_utc(value: datetime) -> str:
    return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat() + "Z"


def canonical_fields(data: ReceiptData) -> dict[str, Any]:
    """The signed fields as JSON values (the ``"receipt"`` object of a document)."""
    names = _FIELDS_V1 if data.version == LEGACY_VERSION else _FIELDS
    fields: dict[str, Any] = {name: getattr(data, name) for name in names}
    fields["issued_at"] = _iso_utc(data.issued_at)
    fields["components"] = dict(data.components)
    if "vat" in fields:
        fields["vat"] = {k: dict(v) for k, v in data.vat.items()}
    fields["v"] = data.version
    return fields


def _dumps(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def canonical_bytes(data: ReceiptData) -> bytes:
    """Exactly what is signed: sorted keys, no spaces, UTF-8, ISO-8601 UTC ``Z`` times, ``"v": 2``."""
    return _dumps(canonical_fields(data))


def _data_from_fields(fields: Mapping[str, Any]) -> ReceiptData:
    if not isinstance(fields, Mapping):
        raise ValueError("the receipt must be a JSON object")
    version = fields.get("v")
    if not _is_int(version) or version not in (LEGACY_VERSION, FORMAT_VERSION):
        raise ValueError(f"unsupported receipt format version {version!r}")
    names = _FIELDS_V1 if version == LEGACY_VERSION else _FIELDS
    expected = set(names) | {"v"}
    if set(fields) != expected:
        missing, extra = expected - set(fields), set(fields) - expected
        raise ValueError(f"receipt fields differ: missing {sorted(missing)}, unexpected {sorted(extra)}")
    issued_at = fields["issued_at"]
    if not isinstance(issued_at, str) or not issued_at.endswith("Z"):
        raise ValueError("issued_at must be an ISO-8601 UTC time ending in Z")
    values = {name: fields[name] for name in names}
    values["issued_at"] = datetime.fromisoformat(issued_at[:-1]).replace(tzinfo=timezone.utc)
    if not isinstance(values["components"], Mapping):
        raise ValueError("components must be a JSON object")
    if version == LEGACY_VERSION:
        values["document"] = COMBINED
    return ReceiptData(**values, version=version)


# --- keys -----------------------------------------------------------------------------------------

def _raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """First 16 hex digits of SHA-256 of the raw 32-byte public key."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return hashlib.sha256(_raw_public(public)).hexdigest()[:16]


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The public key to publish, as a SubjectPublicKeyInfo PEM (``-----BEGIN PUBLIC KEY-----``)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def public_key_from_pem(pem: str | bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode("ascii") if isinstance(pem, str) else pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def _private_from_pem(pem: bytes, source: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{source}: not an unencrypted PKCS#8 PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{source}: not an Ed25519 private key")
    return key


def _warn_if_readable_by_others(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if os.name == "posix" and mode & 0o077:
        log.warning("the receipt signing key %s is readable by others (mode %o); chmod 600 it", path, mode & 0o777)


def _create_key_file(path: Path) -> None:
    """Write a new key to ``path`` unless one is there; the file appears complete, or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption())
    fd, tmp = tempfile.mkstemp(prefix=f".{KEY_FILENAME}.", suffix=".tmp", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(tmp, path)  # atomic, and fails if another process got there first
        except FileExistsError:
            return
        except OSError:  # no hard links on this file system: exclusive create, then write
            try:
                fd2 = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return
            with os.fdopen(fd2, "wb") as out:
                out.write(pem)
                out.flush()
                os.fsync(out.fileno())
        log.info("created the receipt signing key %s (key id %s)", path, key_id(_private_from_pem(pem, str(path))))
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


def load_or_create_signing_key(pem_path_or_none: str | os.PathLike[str] | None,
                               instance_dir: str | os.PathLike[str]) -> Ed25519PrivateKey:
    """The receipt signing key: the configured PEM, or ``instance_dir/receipt_signing_key.pem``.

    With a path (``RECEIPT_SIGNING_KEY_PATH``, read by the caller) the key is loaded from it (PKCS#8,
    unencrypted, Ed25519) and nothing is created. Without, the instance file is created once with
    mode 0600 and reused afterwards; when several processes start at once, all end with the same key.
    """
    if pem_path_or_none:
        configured = Path(pem_path_or_none)
        _warn_if_readable_by_others(configured)
        return _private_from_pem(configured.read_bytes(), str(configured))
    path = Path(instance_dir) / KEY_FILENAME
    problem: ValueError | None = None
    for _ in range(50):  # a file being written by the no-hard-link fallback may be briefly incomplete
        try:
            pem = path.read_bytes()
        except FileNotFoundError:
            _create_key_file(path)
            continue
        try:
            key = _private_from_pem(pem, str(path))
        except ValueError as exc:
            problem = exc
            time.sleep(0.05)
            continue
        _warn_if_readable_by_others(path)
        return key
    raise problem or ValueError(f"{path}: could not be created")


# --- signing and verifying ------------------------------------------------------------------------

def _b64decode_signature(signature_b64: str) -> bytes | None:
    if not isinstance(signature_b64, str) or not _B64URL.fullmatch(signature_b64):
        return None
    body = signature_b64.rstrip("=")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 64 else None


def sign(data: ReceiptData, private_key: Ed25519PrivateKey) -> SignedReceipt:
    signature = private_key.sign(canonical_bytes(data))
    return SignedReceipt(data=data, signature_b64=base64.urlsafe_b64encode(signature).decode("ascii"),
                         key_id=key_id(private_key))


def verify(canonical: bytes, signature_b64: str, public_key: Ed25519PublicKey) -> bool:
    """True when ``signature_b64`` is the key's signature over ``canonical``; never raises on a bad one."""
    raw = _b64decode_signature(signature_b64)
    if raw is None or not isinstance(canonical, bytes | bytearray):
        return False
    try:
        public_key.verify(raw, bytes(canonical))
    except InvalidSignature:
        return False
    return True


def verify_signed(signed: SignedReceipt, public_key: Ed25519PublicKey) -> bool:
    """A stored receipt against the current public key (the key id must match too)."""
    return signed.key_id == key_id(public_key) and verify(canonical_bytes(signed.data), signed.signature_b64,
                                                         public_key)


# --- the document kept by the citizen -------------------------------------------------------------

def to_document(signed: SignedReceipt) -> dict[str, Any]:
    """``{"receipt": {…}, "signature": …, "key_id": …, "alg": "Ed25519"}``: verifiable offline."""
    return {"receipt": canonical_fields(signed.data), "signature": signed.signature_b64,
            "key_id": signed.key_id, "alg": ALG}


def document_bytes(signed: SignedReceipt) -> bytes:
    """The document as a UTF-8 JSON file to download (indented for people; its receipt is re-canonicalised)."""
    return json.dumps(to_document(signed), ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8") + b"\n"


def from_document(doc: Mapping[str, Any] | str | bytes) -> SignedReceipt:
    """A document (a dict, or its JSON text) back to a ``SignedReceipt``; ``ValueError`` when malformed.

    Does not check the signature: use ``verify_document`` or ``verify_signed``.
    """
    if isinstance(doc, str | bytes | bytearray):
        try:
            doc = json.loads(doc)
        except ValueError as exc:
            raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(doc, Mapping):
        raise ValueError("a receipt document is a JSON object")
    if doc.get("alg") != ALG:
        raise ValueError(f"unsupported signature algorithm {doc.get('alg')!r}")
    signature, kid = doc.get("signature"), doc.get("key_id")
    if not isinstance(signature, str) or not isinstance(kid, str):
        raise ValueError("the document has no signature or key id")
    try:
        data = _data_from_fields(doc.get("receipt"))  # type: ignore[arg-type]
    except TypeError as exc:
        raise ValueError(str(exc)) from None
    return SignedReceipt(data=data, signature_b64=signature, key_id=kid)


def verify_document(doc: Mapping[str, Any], public_key: Ed25519PublicKey) -> bool:
    """Exactly what an offline verifier does: the key id, then the signature over the canonical receipt."""
    try:
        receipt = doc["receipt"]
        if doc.get("alg") != ALG or doc.get("key_id") != key_id(public_key) or not isinstance(receipt, Mapping):
            return False
        canonical = _dumps(receipt)
    except (KeyError, TypeError, ValueError):
        return False
    return verify(canonical, doc.get("signature"), public_key)  # type: ignore[arg-type]


# --- presentation ---------------------------------------------------------------------------------

def qr_svg(url: str, *, title: str | None = None) -> str:
    """An inline ``<svg>`` QR code of ``url`` for an HTML page (no XML declaration, no fixed size)."""
    return segno.make(url, error="m").svg_inline(scale=4, border=2, omitsize=True, title=title)
