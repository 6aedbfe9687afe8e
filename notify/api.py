"""The SMS gateway's delivery receipts: ``POST /api/v1/notify/receipts``.

Public to the app's access rules, like any provider callback: it answers to its own
signature instead (``X-SMS-Signature``: HMAC-SHA256 of the raw body with
``SMS_WEBHOOK_SECRET``, compared in constant time), checked before the body is parsed.
"""

from __future__ import annotations

from flask import jsonify, request

from core.api import Blueprint, signed_webhook_doc
from core.auth import public
from notify import service

blp = Blueprint("notify", __name__, url_prefix="/api/v1", description="SMS delivery receipts (báo cáo gửi SMS)")


@blp.route("/notify/receipts", methods=["POST"])
@public
@blp.doc(**signed_webhook_doc(
    "Delivery receipts from the SMS gateway (X-SMS-Signature verified before the body is read)", "X-SMS-Signature",
    "sha256=<hex HMAC-SHA256 of the raw body keyed with SMS_WEBHOOK_SECRET>",
    {"outcome": {"type": "string", "description": "applied, duplicate, ignored (final status kept) or unknown"}}))
def receipt():
    outcome = service.receive_receipt(request.get_data(cache=False), request.headers.get(service.SIGNATURE_HEADER))
    return jsonify(received=True, outcome=outcome)
