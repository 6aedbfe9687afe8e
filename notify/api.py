"""The SMS gateway's delivery receipts: ``POST /api/v1/notify/receipts``.

Public to the app's access rules, like any provider callback: it answers to its own
signature instead (``X-SMS-Signature``: HMAC-SHA256 of the raw body with
``SMS_WEBHOOK_SECRET``, compared in constant time), checked before the body is parsed.
"""

from __future__ import annotations

from flask import jsonify, request

from core.api import Blueprint
from core.auth import public
from notify import service

blp = Blueprint("notify", __name__, url_prefix="/api/v1", description="SMS delivery receipts (báo cáo gửi SMS)")


@blp.route("/notify/receipts", methods=["POST"])
@public
@blp.doc(summary="Delivery receipts from the SMS gateway (X-SMS-Signature verified before the body is read)",
         responses={"200": {"description": "Recorded: applied, duplicate, ignored (final status kept) or unknown"},
                    "400": {"description": "Bad signature or body; nothing recorded"}})
def receipt():
    outcome = service.receive_receipt(request.get_data(cache=False), request.headers.get(service.SIGNATURE_HEADER))
    return jsonify(received=True, outcome=outcome)
