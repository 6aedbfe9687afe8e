"""The courier API: the carrier's webhook (public, signed) and a dossier's shipment for staff."""

from __future__ import annotations

from flask import jsonify, request

from core.api import Blueprint, signed_webhook_doc
from core.auth import allow, current_principal, public
from core.roles import Role
from courier import service
from courier.schemas import ShipmentSchema

blp = Blueprint("courier", __name__, url_prefix="/api/v1",
                description="Courier return of results (chuyển phát kết quả): shipments, the carrier's webhook")


@blp.route("/courier/webhook", methods=["POST"])
@public
@blp.doc(**signed_webhook_doc(
    "The carrier's tracking events (X-Courier-Signature verified before the body is read)", "X-Courier-Signature",
    "t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<raw body>\" keyed with the courier's webhook secret>",
    {"events": {"type": "integer", "description": "Events in the delivery"},
     "recorded": {"type": "integer", "description": "Events not seen before (repeats are recorded once)"}}))
def webhook():
    result = service.handle_webhook(request.headers, request.get_data(cache=False))
    return jsonify(received=True, **result)


@blp.route("/dossiers/<number>/shipment", methods=["GET"])
@allow(Role.AGENT, Role.BRANCH_OFFICER, Role.ADMIN)
@blp.response(200, ShipmentSchema)
def get_shipment(number):
    """The dossier's shipment: attempts, the carrier's events, proof of delivery"""
    return service.shipment_for(current_principal(), number)
