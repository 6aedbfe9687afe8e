"""Issuing and finding e-receipts and service invoices: numbered per series without gaps, signed.

A payment gives up to two documents, as the law separates them:

- the state fee receipt (biên lai thu phí, lệ phí): the state fee only, issued by the unit that
  collected it: the centre for card and VietQR payments, the agent organisation that took the
  cash otherwise. Series ``<issuer>-<yy>`` (the series receipts had before the split, so its
  numbers run on without a gap); refunds ``<issuer>-<yy>-HT``. No state fee, no receipt.
- the service invoice (hóa đơn GTGT): the agent's service fee and the courier fee, seller the
  agent organisation of the payment, with the VAT each price includes (``SERVICE_INVOICE_VAT_RATE``
  or the legal rate on the day). Series ``<agent>-<yy>-HD``; its refunds (adjustment invoices)
  ``<agent>-<yy>-HD-HT``. No service or courier fee, no invoice.

A refund reverses each document in its own refund series, naming the document it reverses. The
number is taken in the transaction that marks the payment paid (or the refund succeeded), so a
rollback gives it back. ``payments.receipts`` holds the pure signing and rendering; this module
stores and finds.
"""

from __future__ import annotations

import json
import secrets
from datetime import date
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from core.extensions import db
from core.models import Organisation
from core.settings import public_url, settings
from core.timeutil import to_local, utcnow
from core.web import mask_name
from dossiers import service as dossiers
from payments import receipts, repository
from payments.models import Payment, Receipt, Refund


def signing_key():
    app = current_app._get_current_object()
    key = app.extensions.get("receipt_signing_key")
    if key is None:
        key = receipts.load_or_create_signing_key(app.config.get("RECEIPT_SIGNING_KEY_PATH") or None,
                                                  Path(app.instance_path))
        app.extensions["receipt_signing_key"] = key
    return key


def public_key_pem() -> str:
    return receipts.public_key_pem(signing_key())



def verify_url(token: str) -> str:
    return public_url(f"/r/{token}")


# The VAT rate on services in Vietnam is 10% (Law on VAT 48/2024/QH15); these periods reduced it to 8%
# for goods and services outside the excluded sectors (telecommunications, finance, banking, securities,
# insurance, real estate, metals, mining, excise goods), which agent and courier services are not:
# Decree 15/2022, Decree 44/2023, Decree 94/2023, Decree 72/2024, Decree 180/2024, then Resolution
# 204/2025/QH15 with Decree 174/2025/NĐ-CP from 1/7/2025 to 31/12/2026. The amounts are VAT included.
REDUCED_VAT_PERIODS = ((date(2022, 2, 1), date(2022, 12, 31)), (date(2023, 7, 1), date(2026, 12, 31)))
STANDARD_VAT_PERCENT, REDUCED_VAT_PERCENT = 10, 8


def legal_vat_rate(on: date) -> int:
    """The VAT percent of agent and courier services on a day, from the periods above."""
    reduced = any(start <= on <= end for start, end in REDUCED_VAT_PERIODS)
    return REDUCED_VAT_PERCENT if reduced else STANDARD_VAT_PERCENT


def vat_rate(on: date) -> int | str:
    """The rate invoices use: ``SERVICE_INVOICE_VAT_RATE`` when set (``8``, ``10``, ``KCT``), else the law's."""
    configured = settings().service_invoice_vat_rate.strip().upper().removesuffix("%")
    if not configured:
        return legal_vat_rate(on)
    return receipts.NOT_SUBJECT if configured == receipts.NOT_SUBJECT else int(configured)


def _issuer(code: str | None) -> tuple[str, str]:
    if code:
        org = db.session.scalars(select(Organisation).where(Organisation.code == code)).one_or_none()
        if org is not None:
            return org.code, org.name
    return settings().receipt_issuer_code, settings().receipt_issuer_name


def _issue(payment: Payment, *, document: str, kind: str, source_reference: str, components: dict[str, int],
           payment_reference: str, issuer_code: str | None, original: Receipt | None = None,
           rates: dict[str, str] | None = None) -> Receipt | None:
    """One document for the components it carries; None when they come to nothing."""
    components = {k: int(v) for k, v in components.items() if k in receipts.DOCUMENT_COMPONENTS[document]}
    if sum(components.values()) <= 0:
        return None
    existing = repository.receipt_for(document, kind, source_reference)
    if existing is not None:
        return existing
    components = {k: v for k, v in components.items() if v > 0}
    dossier = dossiers.by_id(payment.dossier_id)
    code, name = _issuer(issuer_code)
    issued_at = utcnow()
    series = f"{code}-{to_local(issued_at):%y}"
    if document == receipts.SERVICE_INVOICE:
        series += receipts.INVOICE_SERIES_SUFFIX
    if kind == "refund":
        series = receipts.refund_series(series)
    vat = {}
    if document == receipts.SERVICE_INVOICE:
        today = vat_rate(to_local(issued_at).date())
        vat = {k: receipts.split_vat(v, (rates or {}).get(k, today)) for k, v in components.items()}
    number = repository.next_receipt_number(series)
    token = secrets.token_urlsafe(18)
    data = receipts.ReceiptData(
        issuer_code=code, issuer_name=name, series=series, number=number, issued_at=issued_at.replace(microsecond=0),
        dossier_number=dossier.number, procedure_name=dossier.procedure.name,
        payer_name_masked=mask_name(dossier.citizen_name), method=payment.method.value,
        components=components, total_vnd=sum(components.values()),
        payment_reference=payment_reference, verify_url=verify_url(token), kind=kind,
        original_receipt=f"{original.series}/{original.number:07d}" if original is not None else None,
        document=document, vat=vat)
    signed = receipts.sign(data, signing_key())
    receipt = Receipt(series=series, number=number, kind=kind, document=document, source_reference=source_reference,
                      payment_id=payment.id, dossier_id=payment.dossier_id, issued_at=data.issued_at,
                      canonical=receipts.canonical_bytes(data).decode("utf-8"), signature=signed.signature_b64,
                      key_id=signed.key_id, verify_token=token)
    db.session.add(receipt)
    db.session.flush()
    return receipt


def _agent_code(payment: Payment) -> str:
    return db.session.get(Organisation, payment.organisation_id).code


def issue_for_payment(payment: Payment, *, issuer_code: str | None = None) -> list[Receipt]:
    """The state fee receipt (by ``issuer_code``, else the centre) and the service invoice (by the
    payment's agent organisation): whichever of the two has something to carry."""
    reference = payment.gateway_intent_id or payment.bank_reference or f"cash-{payment.id}"
    common = {"kind": "payment", "source_reference": f"payment-{payment.id}", "components": payment.components(),
              "payment_reference": reference}
    issued = [_issue(payment, document=receipts.FEE_RECEIPT, issuer_code=issuer_code, **common),
              _issue(payment, document=receipts.SERVICE_INVOICE, issuer_code=_agent_code(payment), **common)]
    return [r for r in issued if r is not None]


def _reversed(payment: Payment, document: str) -> Receipt | None:
    """The payment's document a refund reverses: its own kind, or the combined receipt of before the split."""
    of_payment = [r for r in repository.receipts_of_payment(payment.id) if r.kind == "payment"]
    return next((r for r in of_payment if r.document == document),
                next((r for r in of_payment if r.document == receipts.COMBINED), None))


def _rates_of(receipt: Receipt | None) -> dict[str, str]:
    if receipt is None or receipt.document != receipts.SERVICE_INVOICE:
        return {}
    return {k: line["rate"] for k, line in json.loads(receipt.canonical).get("vat", {}).items()}


def issue_for_refund(payment: Payment, refund: Refund, *, issuer_code: str | None = None) -> list[Receipt]:
    """Each document the refund touches reversed in its own refund series (the invoice at its own rates)."""
    common = {"kind": "refund", "source_reference": f"refund-{refund.id}", "components": dict(refund.components),
              "payment_reference": refund.gateway_refund_id or f"refund-{refund.id}"}
    invoice = _reversed(payment, receipts.SERVICE_INVOICE)
    issued = [_issue(payment, document=receipts.FEE_RECEIPT, issuer_code=issuer_code,
                     original=_reversed(payment, receipts.FEE_RECEIPT), **common),
              _issue(payment, document=receipts.SERVICE_INVOICE, issuer_code=_agent_code(payment), original=invoice,
                     rates=_rates_of(invoice), **common)]
    return [r for r in issued if r is not None]


def signed_receipt(receipt: Receipt) -> receipts.SignedReceipt:
    return receipts.from_document({"receipt": json.loads(receipt.canonical),
                                   "signature": receipt.signature, "key_id": receipt.key_id, "alg": "Ed25519"})


def by_token(token: str) -> Receipt | None:
    if not 16 <= len(token) <= 40:
        return None
    return repository.receipt_by_token(token)


def of_dossier(dossier_id: int) -> list[Receipt]:
    return repository.receipts_of_dossier(dossier_id)


def is_genuine(receipt: Receipt) -> bool:
    return receipts.verify(receipt.canonical.encode("utf-8"), receipt.signature,
                           signing_key().public_key())
