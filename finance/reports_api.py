"""The finance reports' API: the treasury report and the transfers to the State Treasury (finance and admin)."""

from __future__ import annotations

from core.api import Blueprint
from core.auth import allow, current_principal
from core.roles import Role
from finance import treasury
from finance.queue_schemas import PeriodQuerySchema, TransferInSchema, TransferSchema, TreasuryReportSchema

blp = Blueprint("finance_reports_api", __name__, url_prefix="/api/v1/finance/reports",
                description="Finance: reports — state fees owed and paid to the State Treasury (Kho bạc Nhà nước)")
FINANCE = (Role.FINANCE, Role.ADMIN)


@blp.route("/treasury", methods=["GET"])
@allow(*FINANCE)
@blp.arguments(PeriodQuerySchema(), location="query")
@blp.response(200, TreasuryReportSchema)
def treasury_report(args):
    """State fees collected, refunded and net per procedure level and sector; transferred; outstanding"""
    return treasury.report(current_principal(), treasury.period(args["from_"], args["to"]))


@blp.route("/treasury/transfers", methods=["POST"])
@allow(*FINANCE)
@blp.arguments(TransferInSchema())
@blp.response(201, TransferSchema)
@blp.alt_response(409, description="A transfer with this reference is already recorded")
def record_transfer(data):
    """Record state fees paid to the treasury (booked: treasury_payable debit, bank credit); never more than owed"""
    return treasury.record_transfer(current_principal(), data["amount_vnd"], data["transferred_on"],
                                    data["reference"], data["note"])
