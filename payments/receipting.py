"""Issuing and finding e-receipts: numbered per series without gaps, signed with Ed25519.

The series is per issuer and year (``<issuer>-<yy>``; refunds ``<issuer>-<yy>-HT``). The
centre issues receipts for card and VietQR payments; for cash the agent organisation that
took the money issues them. The number is taken in the transaction that marks the payment
paid, so a rollback gives it back. ``payments.receipts`` holds the pure signing and
rendering; this module stores and finds.
"""

from __future__ import annotations

import json
import secrets
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


def _issuer(code: str | None) -> tuple[str, str]:
    if code:
        org = db.session.scalars(select(Organisation).where(Organisation.code == code)).one_or_none()
        if org is not None:
            return org.code, org.name
    return settings().receipt_issuer_code, settings().receipt_issuer_name


def _issue(payment: Payment, *, kind: str, source_reference: str, components: dict[str, int],
           payment_reference: str, issuer_code: str | None) -> Receipt:
    existing = repository.receipt_for(kind, source_reference)
    if existing is not None:
        return existing
    dossier = dossiers.by_id(payment.dossier_id)
    code, name = _issuer(issuer_code)
    issued_at = utcnow()
    series = f"{code}-{to_local(issued_at):%y}" + ("-HT" if kind == "refund" else "")
    number = repository.next_receipt_number(series)
    token = secrets.token_urlsafe(18)
    data = receipts.ReceiptData(
        issuer_code=code, issuer_name=name, series=series, number=number, issued_at=issued_at.replace(microsecond=0),
        dossier_number=dossier.number, procedure_name=dossier.procedure.name,
        payer_name_masked=mask_name(dossier.citizen_name), method=payment.method.value,
        components={k: int(v) for k, v in components.items()}, total_vnd=sum(int(v) for v in components.values()),
        payment_reference=payment_reference, verify_url=verify_url(token), kind=kind)
    signed = receipts.sign(data, signing_key())
    receipt = Receipt(series=series, number=number, kind=kind, source_reference=source_reference,
                      payment_id=payment.id, dossier_id=payment.dossier_id, issued_at=data.issued_at,
                      canonical=receipts.canonical_bytes(data).decode("utf-8"), signature=signed.signature_b64,
                      key_id=signed.key_id, verify_token=token)
    db.session.add(receipt)
    db.session.flush()
    return receipt


def issue_for_payment(payment: Payment, *, issuer_code: str | None = None) -> Receipt:
    reference = payment.gateway_intent_id or payment.bank_reference or f"cash-{payment.id}"
    return _issue(payment, kind="payment", source_reference=f"payment-{payment.id}",
                  components=payment.components(), payment_reference=reference, issuer_code=issuer_code)


def issue_for_refund(payment: Payment, refund: Refund, *, issuer_code: str | None = None) -> Receipt:
    return _issue(payment, kind="refund", source_reference=f"refund-{refund.id}", components=dict(refund.components),
                  payment_reference=refund.gateway_refund_id or f"refund-{refund.id}", issuer_code=issuer_code)


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
