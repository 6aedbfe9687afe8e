"""The quality alerts' API: list them, acknowledge one with a note (administrators and the centre's leadership)."""

from __future__ import annotations

from backoffice import alerts
from backoffice.monitoring_schemas import AckInSchema, AlertListSchema, AlertQuerySchema, AlertSchema
from core.api import Blueprint
from core.auth import allow, current_principal
from core.roles import Role

blp = Blueprint("alerts_api", __name__, url_prefix="/api/v1/alerts",
                description="Monitoring: quality alerts (capacity, deadlines, on-time rate, low ratings)")
MONITORING = (Role.ADMIN, Role.LEADERSHIP)


@blp.route("", methods=["GET"])
@allow(*MONITORING)
@blp.arguments(AlertQuerySchema(), location="query")
@blp.response(200, AlertListSchema)
def list_alerts(args):
    """Quality alerts, newest first: the open ones (default) or all"""
    return {"alerts": alerts.list_alerts(open_only=args["status"] == "open", kind=args["kind"], limit=args["limit"])}


@blp.route("/<int:alert_id>/ack", methods=["POST"])
@allow(*MONITORING)
@blp.arguments(AckInSchema())
@blp.response(200, AlertSchema)
@blp.alt_response(404, description="No such alert")
@blp.alt_response(409, description="The alert is acknowledged already")
def acknowledge(data, alert_id: int):
    """Acknowledge an open alert with a note of what was done (audited)"""
    return alerts.acknowledge(current_principal(), alert_id, data["note"])
