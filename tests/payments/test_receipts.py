"""E-receipts (biên lai điện tử) and service invoices: the canonical form, Ed25519 signing, keys, the PDF,
the offline verifier; receipts of before the split (v1) still verify."""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import multiprocessing
import os
import re
import stat
import subprocess
import sys
import unicodedata
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import ChoiceLoader, FileSystemLoader
from markupsafe import Markup
from pypdf import PdfReader

from payments import receipt_pdf, receipts
from payments.receipts import ReceiptData

ROOT = Path(__file__).resolve().parents[2]
VERIFIER = ROOT / "tools" / "verify_receipt.py"
TEMPLATES = ROOT / "payments" / "templates"
ISSUED = datetime(2026, 3, 5, 2, 7, 9, tzinfo=timezone.utc)  # 09:07 in Hanoi
TITLE = "BIÊN LAI THU PHÍ, LỆ PHÍ"


def receipt_data(**changes) -> ReceiptData:
    """A state fee receipt (the state fee only)."""
    fields = dict(
        issuer_code="VNPOST-HN", issuer_name="Bưu điện Thành phố Hà Nội", series="BL26-VNPOST-HN", number=123,
        issued_at=ISSUED, dossier_number="HN-2026-000042", procedure_name="Cấp Phiếu lý lịch tư pháp số 1",
        payer_name_masked="Nguyễn V. A.", method="vietqr",
        components={"state_fee": 150_000}, total_vnd=150_000,
        payment_reference="pi_3PQ8xYz123", verify_url="https://dichvucong.example.vn/r/tok3nTOKEN123456789")
    fields.update(changes)
    return ReceiptData(**fields)


def invoice_data(**changes) -> ReceiptData:
    """The service invoice of the same payment: service and courier fees, VAT 8% inside each."""
    components = changes.pop("components", {"service_fee": 20_000, "courier_fee": 22_000})
    vat = {k: receipts.split_vat(v, changes.pop("rate", 8)) for k, v in components.items()}
    return receipt_data(**{"series": "BL26-VNPOST-HN-HD", "number": 7, "document": "service_invoice",
                           "components": components, "total_vnd": sum(components.values()), "vat": vat, **changes})


def legacy_data(**changes) -> ReceiptData:
    """A receipt of before the split (format v1): every component on one receipt."""
    return receipt_data(**{"components": {"state_fee": 150_000, "service_fee": 20_000, "courier_fee": 22_000},
                           "total_vnd": 192_000, "version": 1, "document": "combined", **changes})


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def signed(key) -> receipts.SignedReceipt:
    return receipts.sign(receipt_data(), key)


# --- signing and verifying ------------------------------------------------------------------------

def test_sign_and_verify_round_trip(key, signed):
    public = key.public_key()
    assert receipts.verify(receipts.canonical_bytes(signed.data), signed.signature_b64, public)
    assert receipts.verify_signed(signed, public)
    assert len(base64.urlsafe_b64decode(signed.signature_b64)) == 64
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert signed.key_id == hashlib.sha256(raw).hexdigest()[:16] == receipts.key_id(public) == receipts.key_id(key)
    assert signed.canonical == receipts.canonical_bytes(signed.data)


@pytest.mark.parametrize("changes", [
    {"components": {"state_fee": 15_000}, "total_vnd": 15_000},
    {"issuer_name": "Bưu điện Hà Nội"},
    {"number": 124},
    {"series": "BL26-HNTECH"},
    {"dossier_number": "HN-2026-000043"},
    {"issued_at": ISSUED + timedelta(seconds=1)},
    {"payer_name_masked": "Nguyễn V. B."},
    {"method": "cash"},
    {"payment_reference": "pi_other"},
    {"verify_url": "https://evil.example/r/x"},
])
def test_any_tampered_field_fails(key, signed, changes):
    tampered = replace(signed.data, **changes)
    assert not receipts.verify(receipts.canonical_bytes(tampered), signed.signature_b64, key.public_key())
    assert not receipts.verify_signed(replace(signed, data=tampered), key.public_key())


@pytest.mark.parametrize("path, value", [
    (("total_vnd",), 1_192_000),
    (("components", "state_fee"), 1_150_000),
    (("number",), 124),
    (("dossier_number",), "HN-2026-000043"),
    (("v",), 1),
    (("document",), "service_invoice"),
    (("vat",), {"state_fee": {"rate": "KCT", "before_vat_vnd": 150_000, "vat_vnd": 0}}),
])
def test_a_tampered_document_fails(key, signed, path, value):
    doc = json.loads(json.dumps(receipts.to_document(signed)))
    target = doc["receipt"]
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    assert not receipts.verify_document(doc, key.public_key())


def test_another_key_fails(signed):
    other = Ed25519PrivateKey.generate().public_key()
    assert not receipts.verify(receipts.canonical_bytes(signed.data), signed.signature_b64, other)
    assert not receipts.verify_signed(signed, other)
    assert not receipts.verify_document(receipts.to_document(signed), other)


@pytest.mark.parametrize("signature", ["", "not base64!", "AAAA", "A" * 86, "A" * 87 + "=", None, 42, "=" * 88])
def test_a_malformed_signature_is_false_not_an_error(key, signed, signature):
    assert receipts.verify(receipts.canonical_bytes(signed.data), signature, key.public_key()) is False


def test_a_flipped_bit_or_junk_in_the_signature_fails(key, signed):
    raw = bytearray(base64.urlsafe_b64decode(signed.signature_b64))
    raw[10] ^= 1
    flipped = base64.urlsafe_b64encode(bytes(raw)).decode()
    canonical = receipts.canonical_bytes(signed.data)
    assert not receipts.verify(canonical, flipped, key.public_key())
    assert not receipts.verify(canonical, signed.signature_b64[:40] + "!" + signed.signature_b64[40:], key.public_key())
    assert receipts.verify(canonical, signed.signature_b64.rstrip("="), key.public_key())  # padding is optional


# --- the canonical form ---------------------------------------------------------------------------

def test_canonical_bytes_are_the_documented_format():
    canonical = receipts.canonical_bytes(receipt_data())
    assert canonical == (
        '{"components":{"state_fee":150000},"document":"fee_receipt",'
        '"dossier_number":"HN-2026-000042","issued_at":"2026-03-05T02:07:09Z","issuer_code":"VNPOST-HN",'
        '"issuer_name":"Bưu điện Thành phố Hà Nội","kind":"payment","method":"vietqr","number":123,'
        '"original_receipt":null,"payer_name_masked":"Nguyễn V. A.","payment_reference":"pi_3PQ8xYz123",'
        '"procedure_name":"Cấp Phiếu lý lịch tư pháp số 1","series":"BL26-VNPOST-HN","total_vnd":150000,"v":2,'
        '"vat":{},"verify_url":"https://dichvucong.example.vn/r/tok3nTOKEN123456789"}').encode()
    invoice = receipts.canonical_bytes(invoice_data())
    assert invoice.startswith(b'{"components":{"courier_fee":22000,"service_fee":20000},"document":"service_invoice"')
    assert (b'"vat":{"courier_fee":{"before_vat_vnd":20370,"rate":"8%","vat_vnd":1630},'
            b'"service_fee":{"before_vat_vnd":18519,"rate":"8%","vat_vnd":1481}}') in invoice


def test_a_receipt_of_before_the_split_keeps_its_v1_form_and_verifies(key, tmp_path):
    legacy = legacy_data()
    assert receipts.canonical_bytes(legacy) == (
        '{"components":{"courier_fee":22000,"service_fee":20000,"state_fee":150000},'
        '"dossier_number":"HN-2026-000042","issued_at":"2026-03-05T02:07:09Z","issuer_code":"VNPOST-HN",'
        '"issuer_name":"Bưu điện Thành phố Hà Nội","kind":"payment","method":"vietqr","number":123,'
        '"original_receipt":null,"payer_name_masked":"Nguyễn V. A.","payment_reference":"pi_3PQ8xYz123",'
        '"procedure_name":"Cấp Phiếu lý lịch tư pháp số 1","series":"BL26-VNPOST-HN","total_vnd":192000,"v":1,'
        '"verify_url":"https://dichvucong.example.vn/r/tok3nTOKEN123456789"}').encode()
    signed = receipts.sign(legacy, key)
    doc = json.loads(json.dumps(receipts.to_document(signed)))
    back = receipts.from_document(doc)
    assert back == signed and back.data.document == "combined" and back.data.version == 1
    assert receipts.verify_document(doc, key.public_key())
    _, text = _pdf_text(receipt_pdf.render_pdf(back, qr_url=legacy.verify_url))
    assert TITLE in text and "192.000 ₫" in text
    done = _run_verifier(tmp_path, doc, receipts.public_key_pem(key))
    assert done.returncode == 0 and "192.000 ₫" in done.stdout, done.stderr


def test_canonical_bytes_do_not_depend_on_key_order_or_time_zone():
    a = invoice_data()
    b = invoice_data(components={"courier_fee": 22_000, "service_fee": 20_000},
                     issued_at=ISSUED.astimezone(receipts.HANOI))
    assert list(a.components) != list(b.components)
    assert receipts.canonical_bytes(a) == receipts.canonical_bytes(b)
    assert b.issued_at.tzinfo == timezone.utc
    with_micro = receipt_data(issued_at=ISSUED.replace(microsecond=250))
    assert b'"issued_at":"2026-03-05T02:07:09.000250Z"' in receipts.canonical_bytes(with_micro)


def test_the_receipt_keeps_its_own_components():
    components = {"state_fee": 100}
    data = receipt_data(components=components, total_vnd=100)
    components["state_fee"] = 999
    assert data.components == {"state_fee": 100}
    assert hash(data) == hash(receipt_data(components={"state_fee": 100}, total_vnd=100))


@pytest.mark.parametrize("changes, message", [
    ({"total_vnd": 191_999}, "sum of the components"),
    ({"total_vnd": 192_000.0}, "sum of the components"),
    ({"components": {"state_fee": 150_000, "tip": 42_000}}, "unknown components"),
    ({"components": {"state_fee": -1}, "total_vnd": -1}, "non-negative"),
    ({"components": {"state_fee": 1.5}, "total_vnd": 1.5}, "whole"),
    ({"components": {}, "total_vnd": 0}, "non-empty"),
    ({"components": {"state_fee": 0}, "total_vnd": 0}, "positive"),
    ({"issued_at": datetime(2026, 3, 5, 9, 7)}, "timezone-aware"),
    ({"method": "bitcoin"}, "method"),
    ({"kind": "gift"}, "kind"),
    ({"number": 0}, "number"),
    ({"number": 10_000_000}, "number"),
    ({"number": True}, "number"),
    ({"series": "BL26 VNPOST"}, "series"),
    ({"dossier_number": "  "}, "dossier_number"),
    ({"kind": "refund"}, "-HT"),
    ({"series": "BL26-VNPOST-HN-HT"}, "-HT"),
    ({"original_receipt": "BL26-VNPOST-HN/0000001"}, "refund"),
    # The state fee and the commercial fees are never on one document (v2).
    ({"components": {"state_fee": 150_000, "service_fee": 20_000}, "total_vnd": 170_000}, "carries only"),
    ({"components": {"service_fee": 20_000}, "total_vnd": 20_000}, "carries only"),
    ({"document": "service_invoice", "series": "BL26-VNPOST-HN-HD", "components": {"state_fee": 150_000}},
     "carries only"),
    ({"series": "BL26-VNPOST-HN-HD"}, "-HD"),
    ({"vat": {"state_fee": {"rate": "KCT", "before_vat_vnd": 150_000, "vat_vnd": 0}}}, "outside VAT"),
    ({"document": "combined"}, "document"),
    ({"version": 1}, "v1"),
    ({"version": 3}, "version"),
])
def test_invalid_receipts_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        receipt_data(**changes)


@pytest.mark.parametrize("changes, message", [
    ({"series": "BL26-VNPOST-HN"}, "-HD"),
    ({"vat": {}}, "each of its components"),
    ({"vat": {"service_fee": {"rate": "8%", "before_vat_vnd": 18_519, "vat_vnd": 1_000},
              "courier_fee": {"rate": "8%", "before_vat_vnd": 20_370, "vat_vnd": 1_630}}}, "add up"),
    ({"vat": {"service_fee": {"rate": "7%", "before_vat_vnd": 18_519, "vat_vnd": 1_481},
              "courier_fee": {"rate": "8%", "before_vat_vnd": 20_370, "vat_vnd": 1_630}}}, "VAT rate"),
    ({"vat": {"service_fee": {"rate": "KCT", "before_vat_vnd": 18_519, "vat_vnd": 1_481},
              "courier_fee": {"rate": "8%", "before_vat_vnd": 20_370, "vat_vnd": 1_630}}}, "not subject"),
])
def test_invalid_invoices_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        invoice_data(**changes)


@pytest.mark.parametrize("gross, rate, before, vat", [
    (20_000, 8, 18_519, 1_481), (22_000, 8, 20_370, 1_630), (22_000, 10, 20_000, 2_000), (1, 8, 1, 0),
    (20_000, "KCT", 20_000, 0), (20_000, None, 20_000, 0), (0, 8, 0, 0),
])
def test_the_vat_inside_a_price(gross, rate, before, vat):
    line = receipts.split_vat(gross, rate)
    assert (line["before_vat_vnd"], line["vat_vnd"]) == (before, vat)
    assert line["before_vat_vnd"] + line["vat_vnd"] == gross
    with pytest.raises(ValueError, match="VAT rate"):
        receipts.split_vat(gross, 7)


def test_refunds_have_their_own_series(key):
    assert receipts.refund_series("BL26-VNPOST-HN") == "BL26-VNPOST-HN-HT"
    assert receipts.refund_series("BL26-VNPOST-HN-HT") == "BL26-VNPOST-HN-HT"
    payment = receipt_data()
    refund = receipt_data(kind="refund", series=receipts.refund_series(payment.series), number=1,
                          components={"state_fee": 20_000}, total_vnd=20_000, original_receipt=payment.receipt_id)
    assert refund.receipt_id == "BL26-VNPOST-HN-HT/0000001" and refund.original_receipt == "BL26-VNPOST-HN/0000123"
    assert receipts.verify_signed(receipts.sign(refund, key), key.public_key())
    assert receipt_data(kind="refund", series="BL26-VNPOST-HN-HT").original_receipt is None  # optional
    invoice = invoice_data()
    adjustment = invoice_data(kind="refund", series=receipts.refund_series(invoice.series), number=1,
                              components={"courier_fee": 22_000}, original_receipt=invoice.receipt_id)
    assert adjustment.receipt_id == "BL26-VNPOST-HN-HD-HT/0000001" and adjustment.title[0] == "HÓA ĐƠN ĐIỀU CHỈNH GIẢM"
    assert receipts.verify_signed(receipts.sign(adjustment, key), key.public_key())


amounts = st.integers(min_value=0, max_value=2_000_000_000)


@settings(max_examples=60, deadline=None)
@given(invoice=st.booleans(), picks=st.data(), rate=st.sampled_from([8, 10, "KCT"]),
       delta=st.integers(min_value=-10**9, max_value=10**9).filter(bool))
def test_property_any_amounts_round_trip_and_the_total_is_checked(key, invoice, picks, rate, delta):
    names = ("service_fee", "courier_fee") if invoice else ("state_fee",)
    components = picks.draw(st.dictionaries(st.sampled_from(names), amounts, min_size=1))
    total = sum(components.values())
    make = (lambda **c: invoice_data(rate=rate, **c)) if invoice else receipt_data
    if total == 0:
        with pytest.raises(ValueError):
            make(components=components, total_vnd=total)
        return
    data = make(components=components, total_vnd=total)
    assert sum(line["before_vat_vnd"] + line["vat_vnd"] for line in data.vat.values()) == (total if invoice else 0)
    signed = receipts.sign(data, key)
    doc = json.loads(json.dumps(receipts.to_document(signed), ensure_ascii=False))
    back = receipts.from_document(doc)
    assert back == signed and receipts.canonical_bytes(back.data) == receipts.canonical_bytes(data)
    assert receipts.verify_document(doc, key.public_key())
    with pytest.raises(ValueError, match="sum of the components"):
        make(components=components, total_vnd=total + delta)


# --- the document ---------------------------------------------------------------------------------

def test_the_document_is_self_contained_and_round_trips(key, signed):
    doc = receipts.to_document(signed)
    assert set(doc) == {"receipt", "signature", "key_id", "alg"} and doc["alg"] == "Ed25519"
    assert doc["receipt"]["v"] == 2 and doc["receipt"]["issued_at"] == "2026-03-05T02:07:09Z"
    assert doc["receipt"]["document"] == "fee_receipt" and doc["receipt"]["vat"] == {}
    as_text = json.dumps(doc["receipt"], sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert as_text == receipts.canonical_bytes(signed.data)  # what an offline verifier signs over
    assert receipts.from_document(doc) == signed
    assert receipts.from_document(receipts.document_bytes(signed)) == signed
    assert receipts.from_document(json.dumps(doc)) == signed


@pytest.mark.parametrize("mutate", [
    lambda d: d.update(alg="RS256"),
    lambda d: d["receipt"].update(v=3),
    lambda d: d["receipt"].update(v=1),  # a v2 receipt is not a v1 one: its fields differ
    lambda d: d["receipt"].pop("document"),
    lambda d: d["receipt"].update(document="service_invoice"),  # a fee receipt's series, no VAT
    lambda d: d["receipt"].update(extra="x"),
    lambda d: d["receipt"].pop("series"),
    lambda d: d["receipt"].update(issued_at="2026-03-05T09:07:09+07:00"),
    lambda d: d.update(receipt=[1, 2]),
    lambda d: d.pop("signature"),
])
def test_a_malformed_document_is_refused(signed, mutate):
    doc = json.loads(json.dumps(receipts.to_document(signed)))
    mutate(doc)
    with pytest.raises(ValueError):
        receipts.from_document(doc)
    with pytest.raises(ValueError):
        receipts.from_document("{not json")


# --- keys -----------------------------------------------------------------------------------------

def test_the_instance_key_is_created_once_with_mode_0600_and_reused(tmp_path):
    instance = tmp_path / "instance"
    first = receipts.load_or_create_signing_key(None, instance)
    path = instance / receipts.KEY_FILENAME
    assert path.exists()
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = receipts.load_or_create_signing_key("", instance)
    assert receipts.public_key_pem(again) == receipts.public_key_pem(first)
    assert sorted(p.name for p in instance.iterdir()) == [receipts.KEY_FILENAME]  # no temporary files left


def test_a_losing_creator_keeps_the_existing_key(tmp_path):
    first = receipts.load_or_create_signing_key(None, tmp_path)
    receipts._create_key_file(tmp_path / receipts.KEY_FILENAME)  # as a process that lost the race would
    assert receipts.key_id(receipts.load_or_create_signing_key(None, tmp_path)) == receipts.key_id(first)
    assert [p.name for p in tmp_path.iterdir()] == [receipts.KEY_FILENAME]


def _key_id_in(instance: str, barrier) -> str:
    barrier.wait()
    return receipts.key_id(receipts.load_or_create_signing_key(None, Path(instance)))


def test_processes_starting_together_end_with_one_key(tmp_path):
    context = multiprocessing.get_context("spawn")
    n = 4
    with context.Manager() as manager:
        barrier = manager.Barrier(n)
        with context.Pool(n) as pool:
            ids = pool.starmap(_key_id_in, [(str(tmp_path), barrier)] * n)
    assert len(set(ids)) == 1
    assert ids[0] == receipts.key_id(receipts.load_or_create_signing_key(None, tmp_path))


def test_a_configured_pem_is_loaded_and_nothing_is_created(tmp_path):
    key = Ed25519PrivateKey.generate()
    pem_path = tmp_path / "configured.pem"
    pem_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    instance = tmp_path / "instance"
    loaded = receipts.load_or_create_signing_key(str(pem_path), instance)
    assert receipts.key_id(loaded) == receipts.key_id(key)
    assert not instance.exists()


def test_a_configured_key_of_another_kind_is_refused(tmp_path):
    pem_path = tmp_path / "ec.pem"
    pem_path.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with pytest.raises(ValueError, match="not an Ed25519 private key"):
        receipts.load_or_create_signing_key(str(pem_path), tmp_path)
    (tmp_path / "junk.pem").write_text("not a key")
    with pytest.raises(ValueError, match="PKCS#8"):
        receipts.load_or_create_signing_key(str(tmp_path / "junk.pem"), tmp_path)


def test_the_public_key_pem_round_trips(key, signed):
    pem = receipts.public_key_pem(key)
    assert pem.startswith("-----BEGIN PUBLIC KEY-----") and pem == receipts.public_key_pem(key.public_key())
    public = receipts.public_key_from_pem(pem)
    assert receipts.verify_signed(signed, public)
    assert receipts.verify_signed(signed, receipts.public_key_from_pem(pem.encode()))
    with pytest.raises(ValueError, match="Ed25519"):
        receipts.public_key_from_pem(ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


# --- presentation ---------------------------------------------------------------------------------

def _pdf_text(pdf: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def test_the_pdf_is_an_a5_page_with_vietnamese_text(signed):
    pdf = receipt_pdf.render_pdf(signed, qr_url=signed.data.verify_url)
    assert pdf.startswith(b"%PDF")
    reader, text = _pdf_text(pdf)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (148, 210)
    assert TITLE in text and "State fee receipt" in text and "Collecting unit" in text
    assert "BL26-VNPOST-HN" in text and "0000123" in text
    assert "05/03/2026 09:07" in text  # Hanoi time
    assert "HN-2026-000042" in text and "Cấp Phiếu lý lịch tư pháp số 1" in text and "Nguyễn V. A." in text
    assert "150.000 ₫" in text and "Phí dịch vụ" not in text and "VAT" not in text
    assert "Chuyển khoản VietQR" in text
    assert signed.key_id in text
    assert receipt_pdf.currency_sign() == "₫"


def test_the_invoice_pdf_shows_the_seller_and_the_vat_of_each_component(key):
    signed = receipts.sign(invoice_data(), key)
    reader, text = _pdf_text(receipt_pdf.render_pdf(signed, qr_url=signed.data.verify_url))
    assert len(reader.pages) == 1
    assert "HÓA ĐƠN GIÁ TRỊ GIA TĂNG" in text and "Đơn vị bán hàng / Seller" in text
    assert "BL26-VNPOST-HN-HD" in text and "0000007" in text and TITLE not in text
    assert "Phí dịch vụ" in text and "Phí chuyển phát" in text and "Phí, lệ phí" not in text
    assert "18.519 ₫" in text and "1.481 ₫" in text and "8%" in text and "42.000 ₫" in text
    assert "3.111 ₫" in text  # of which VAT: 1,481 + 1,630
    not_subject = receipts.sign(invoice_data(rate="KCT", kind="refund", series="BL26-VNPOST-HN-HD-HT",
                                             original_receipt="BL26-VNPOST-HN-HD/0000007"), key)
    reader, text = _pdf_text(receipt_pdf.render_pdf(not_subject, qr_url=signed.data.verify_url))
    assert len(reader.pages) == 1 and "HÓA ĐƠN ĐIỀU CHỈNH GIẢM" in text and "không chịu thuế" in text
    assert "Điều chỉnh cho hóa đơn" in text and "BL26-VNPOST-HN-HD/0000007" in text


def test_the_pdf_carries_the_signed_document(key, signed):
    reader = PdfReader(io.BytesIO(receipt_pdf.render_pdf(signed, qr_url=signed.data.verify_url)))
    (name, [content]), = reader.attachments.items()
    assert name == "BL26-VNPOST-HN-0000123.json"
    assert receipts.verify_document(json.loads(content), key.public_key())


def test_a_refund_pdf_and_a_decomposed_name(key):
    refund = receipt_data(kind="refund", series="BL26-VNPOST-HN-HT", number=4, components={"state_fee": 150_000},
                          total_vnd=150_000, original_receipt="BL26-VNPOST-HN/0000123", method="cash",
                          payer_name_masked=unicodedata.normalize("NFD", "Trần T. Hường"))
    _, text = _pdf_text(receipt_pdf.render_pdf(receipts.sign(refund, key), qr_url="https://x.example/r/abc"))
    assert "BIÊN LAI HOÀN TRẢ PHÍ, LỆ PHÍ" in text and "0000004" in text and "BL26-VNPOST-HN/0000123" in text
    assert "Trần T. Hường" in text and "Tiền mặt" in text


def test_money_and_qr_helpers():
    assert receipt_pdf.format_vnd(150_000) == "150.000 ₫"
    assert receipt_pdf.format_vnd(1_234_567_000) == "1.234.567.000 ₫"
    svg = receipts.qr_svg("https://x.example/r/abc")
    assert svg.startswith("<svg") and "<?xml" not in svg and "viewBox" in svg


# --- the offline verifier -------------------------------------------------------------------------

def _run_verifier(tmp_path: Path, doc: dict, public_pem: str) -> subprocess.CompletedProcess:
    (tmp_path / "receipt.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "key.pem").write_text(public_pem)
    # -I: no PYTHONPATH, no script directory on sys.path: the script must stand alone.
    return subprocess.run([sys.executable, "-I", str(VERIFIER), "receipt.json", "key.pem"], cwd=tmp_path,
                          capture_output=True, text=True, encoding="utf-8", timeout=60, check=False)


def test_the_standalone_verifier_accepts_a_good_document(tmp_path, key, signed):
    done = _run_verifier(tmp_path, receipts.to_document(signed), receipts.public_key_pem(key))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "HỢP LỆ / VALID"
    assert "BL26-VNPOST-HN / 0000123" in done.stdout and "150.000 ₫" in done.stdout
    assert "State fee receipt" in done.stdout


def test_the_standalone_verifier_checks_an_invoice_and_its_vat(tmp_path, key):
    doc = receipts.to_document(receipts.sign(invoice_data(), key))
    done = _run_verifier(tmp_path, doc, receipts.public_key_pem(key))
    assert done.returncode == 0, done.stderr
    assert "VAT invoice" in done.stdout and "BL26-VNPOST-HN-HD / 0000007" in done.stdout and "42.000 ₫" in done.stdout
    assert "VAT 8% 1.481 ₫" in done.stdout
    doc["receipt"]["vat"]["service_fee"]["vat_vnd"] = 0  # a VAT line altered: the signature breaks
    assert _run_verifier(tmp_path, doc, receipts.public_key_pem(key)).returncode == 1


@pytest.mark.parametrize("tamper", [
    lambda d: d["receipt"].update(total_vnd=1_192_000),
    lambda d: d["receipt"]["components"].update(state_fee=1_150_000),
    lambda d: d["receipt"].update(number=124),
    lambda d: d["receipt"].update(dossier_number="HN-2026-000043"),
    lambda d: d.update(signature="A" * 86 + "=="),
    lambda d: d.update(signature="garbage"),
    lambda d: d.update(alg="none"),
    lambda d: d.pop("receipt"),
])
def test_the_standalone_verifier_refuses_a_tampered_document(tmp_path, key, signed, tamper):
    doc = json.loads(json.dumps(receipts.to_document(signed)))
    tamper(doc)
    done = _run_verifier(tmp_path, doc, receipts.public_key_pem(key))
    assert done.returncode == 1
    assert done.stdout.strip() == "KHÔNG HỢP LỆ / INVALID"


def test_the_standalone_verifier_refuses_another_key_and_junk(tmp_path, signed):
    other = receipts.public_key_pem(Ed25519PrivateKey.generate())
    done = _run_verifier(tmp_path, receipts.to_document(signed), other)
    assert done.returncode == 1 and "another key" in done.stderr
    (tmp_path / "receipt.json").write_text("{not json")
    done = subprocess.run([sys.executable, "-I", str(VERIFIER), "receipt.json", "key.pem"], cwd=tmp_path,
                          capture_output=True, text=True, encoding="utf-8", timeout=60, check=False)
    assert done.returncode == 1 and "not JSON" in done.stderr


# --- the pages ------------------------------------------------------------------------------------

@pytest.fixture
def render(app):
    env = app.jinja_env.overlay(loader=ChoiceLoader([FileSystemLoader(str(TEMPLATES)), app.jinja_env.loader]))

    def _render(name: str, lang: str = "vi", **context) -> str:
        with app.test_request_context(f"/?lang={lang}"):
            app.update_template_context(context)
            return env.get_template(name).render(context)

    return _render


def _page_context(signed, key, **changes) -> dict:
    context = {"receipt": signed, "valid": receipts.verify_signed(signed, key.public_key()),
               "verify_url": signed.data.verify_url, "qr_svg": Markup(receipts.qr_svg(signed.data.verify_url)),  # noqa: S704
               "pdf_url": "/r/tok.pdf", "document_url": "/r/tok.json", "print_url": "/r/tok/print",
               "public_key_url": "/receipts/public-key.pem", "key_id": receipts.key_id(key)}
    context.update(changes)
    return context


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_receipt_page(render, key, signed, lang):
    page = render("payments/receipt.html", lang, **_page_context(signed, key))
    assert "BL26-VNPOST-HN" in page and "0000123" in page and "HN-2026-000042" in page
    assert "Nguyễn V. A." in page and "<svg" in page and signed.signature_b64 in page
    assert ("150.000\xa0₫" if lang == "vi" else "₫150,000") in page
    assert "05/03/2026 09:07" in page
    assert 'class="seal ok"' in page and "/r/tok.pdf" in page and "/receipts/public-key.pem" in page
    # Labels: the page's language, then (Vietnamese page) the English, smaller; "Procedure" is in the catalogue.
    assert ('Thủ tục <span class="en" lang="en">Procedure</span>' in page) == (lang == "vi")
    tampered = render("payments/receipt.html", lang, **_page_context(signed, key, valid=False))
    assert 'class="seal bad"' in tampered
    assert ("Biên lai thu phí, lệ phí" in page) == (lang == "vi") and "State fee receipt" in page
    assert "VAT" not in page


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_invoice_page(render, key, lang):
    invoice = receipts.sign(invoice_data(), key)
    page = render("payments/receipt.html", lang, **_page_context(invoice, key))
    assert "BL26-VNPOST-HN-HD" in page and "0000007" in page
    assert ("Hóa đơn dịch vụ (GTGT)" in page) == (lang == "vi") and "Service invoice (VAT)" in page
    assert ("Đơn vị bán hàng" in page) == (lang == "vi") and "Seller" in page
    assert "8%" in page and ("1.481\xa0₫" if lang == "vi" else "₫1,481") in page
    assert ("42.000\xa0₫" if lang == "vi" else "₫42,000") in page
    verify = render("payments/receipt_verify.html", lang, **_page_context(invoice, key))
    assert 'class="verdict ok"' in verify and ("Hóa đơn dịch vụ (GTGT)" in verify) == (lang == "vi")
    assert ("3.111\xa0₫" if lang == "vi" else "₫3,111") in verify  # of which VAT


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_verification_page(render, key, signed, lang):
    page = render("payments/receipt_verify.html", lang, **_page_context(signed, key))
    assert 'class="verdict ok"' in page and "BL26-VNPOST-HN" in page and "0000123" in page
    assert ("150.000\xa0₫" if lang == "vi" else "₫150,000") in page and receipts.key_id(key) in page
    assert 'class="verdict bad"' in render("payments/receipt_verify.html", lang,
                                           **_page_context(signed, key, valid=False))
    missing = render("payments/receipt_verify.html", lang, receipt=None, valid=None, series="BL26-X", number="9",
                     public_key_url="/receipts/public-key.pem")
    assert 'class="verdict bad"' in missing and "BL26-X" in missing


def test_the_snippet_on_the_verification_page_works(render, tmp_path, key, signed):
    page = render("payments/receipt_verify.html", **_page_context(signed, key))
    snippet = html.unescape(re.search(r"<pre[^>]*><code>(.*?)</code></pre>", page, re.S).group(1))
    assert len(snippet.splitlines()) == 10
    (tmp_path / "check.py").write_text(snippet, encoding="utf-8")
    (tmp_path / "receipt-public-key.pem").write_text(receipts.public_key_pem(key))

    def run(doc: dict) -> subprocess.CompletedProcess:
        (tmp_path / "receipt.json").write_bytes(json.dumps(doc, ensure_ascii=False, indent=2).encode())
        return subprocess.run([sys.executable, "-I", "check.py"], cwd=tmp_path, capture_output=True, text=True,
                              encoding="utf-8", timeout=60, check=False)

    good = run(receipts.to_document(signed))
    assert good.returncode == 0 and good.stdout.strip() == "HỢP LỆ / VALID", good.stderr
    doc = receipts.to_document(signed)
    doc["receipt"]["total_vnd"] = 1
    bad = run(doc)
    assert bad.returncode != 0 and "InvalidSignature" in bad.stderr
