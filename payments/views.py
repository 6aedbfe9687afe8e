"""Public e-receipt pages: what the receipt's QR code and the tracking link open.

The same pages serve both documents of a payment, the state fee receipt (biên lai) and the
service invoice (hóa đơn); the file names say which (``bien-lai-…``, ``hoa-don-…``).

``/r/<token>`` tells whether the receipt is genuine (its Ed25519 signature against this
server's key) and shows it; ``/r/<token>/print`` is the printable receipt, ``.pdf`` the
PDF, ``.json`` the signed document to keep and verify offline with the public key at
``/receipts/public-key.pem``. The token is unguessable; an unknown one is a plain 404.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, render_template, url_for
from markupsafe import Markup

from core.auth import public
from payments import receipting, receipts
from payments.receipt_pdf import render_pdf

bp = Blueprint("receipts_public", __name__, template_folder="templates")


def _file_prefix(receipt) -> str:
    return "hoa-don" if receipt.document == receipts.SERVICE_INVOICE else "bien-lai"


def _receipt_or_404(token: str):
    receipt = receipting.by_token(token)
    if receipt is None:
        abort(404)
    return receipt


def _context(token: str) -> dict:
    receipt = _receipt_or_404(token)
    valid = receipting.is_genuine(receipt)
    try:
        signed = receipting.signed_receipt(receipt)
    except ValueError:  # a stored receipt that no longer parses was altered: not genuine, nothing to show
        signed, valid = None, False
    verify_url = receipting.verify_url(token)
    return {"receipt": signed, "valid": valid, "verify_url": verify_url, "series": receipt.series,
            "number": receipt.number,
            "qr_svg": Markup(receipts.qr_svg(verify_url)),  # noqa: S704 - segno's SVG, built from our own URL
            "pdf_url": url_for(".receipt_pdf", token=token), "document_url": url_for(".receipt_json", token=token),
            "print_url": url_for(".receipt_print", token=token),
            "public_key_url": url_for(".public_key")}


def _private(response: Response) -> Response:
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/r/<token>")
@public
def receipt_page(token: str):
    return _private(Response(render_template("payments/receipt_verify.html", **_context(token))))


@bp.get("/r/<token>/print")
@public
def receipt_print(token: str):
    return _private(Response(render_template("payments/receipt.html", **_context(token))))


@bp.get("/r/<token>.pdf")
@public
def receipt_pdf(token: str):
    receipt = _receipt_or_404(token)
    pdf = render_pdf(receipting.signed_receipt(receipt), qr_url=receipting.verify_url(token))
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (f'inline; filename="{_file_prefix(receipt)}-{receipt.series}-'
                                               f'{receipt.number:07d}.pdf"')
    return _private(response)


@bp.get("/r/<token>.json")
@public
def receipt_json(token: str):
    receipt = _receipt_or_404(token)
    document = receipts.to_document(receipting.signed_receipt(receipt))
    response = Response(json.dumps(document, ensure_ascii=False, indent=2),
                        mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{_file_prefix(receipt)}-{token[:8]}.json"'
    return _private(response)


@bp.get("/receipts/public-key.pem")
@public
def public_key():
    return Response(receipting.public_key_pem(), mimetype="application/x-pem-file")
