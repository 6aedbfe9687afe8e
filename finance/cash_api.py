"""The cash handover API: what each point holds, handovers and reversals (finance and admin only)."""

from __future__ import annotations

from core.api import Blueprint
from core.auth import allow, current_principal
from core.roles import Role
from finance import cash
from finance.cash_schemas import (
    HandoverInSchema,
    HandoverSchema,
    HistoryQuerySchema,
    HoldingQuerySchema,
    HoldingSchema,
    ReversalInSchema,
)

blp = Blueprint("finance_cash_api", __name__, url_prefix="/api/v1/finance/cash",
                description="Cash held by agents (tiền mặt đại lý): holdings, handovers, reversals")
FINANCE = (Role.FINANCE, Role.ADMIN)


def _one(handover_id: int):
    return cash.handover_history(limit=1, only_id=handover_id)[0]


@blp.route("/holdings", methods=["GET"])
@allow(*FINANCE)
@blp.arguments(HoldingQuerySchema(), location="query")
@blp.response(200, HoldingSchema(many=True))
def holdings(args):
    """What each agent point holds, since when (FIFO) and whether it is overdue, the longest held first"""
    return cash.point_holdings(args["organisation"])


@blp.route("/organisations", methods=["GET"])
@allow(*FINANCE)
@blp.response(200, HoldingSchema(many=True))
def organisations():
    """The same per agent organisation (all its points together)"""
    return cash.organisation_holdings()


@blp.route("/handovers", methods=["GET"])
@allow(*FINANCE)
@blp.arguments(HistoryQuerySchema(), location="query")
@blp.response(200, HandoverSchema(many=True))
def list_handovers(args):
    """Handovers and reversals, the latest first"""
    return cash.handover_history(organisation_code=args["organisation"], agent_point_code=args["agent_point"],
                                 limit=args["limit"], offset=args["offset"])


@blp.route("/handovers", methods=["POST"])
@allow(*FINANCE)
@blp.arguments(HandoverInSchema())
@blp.response(201, HandoverSchema)
def record_handover(data):
    """Record cash an agent point handed over (bank deposit or counter); never more than it holds"""
    handover = cash.record_handover(current_principal(), data)
    return _one(handover.id)


@blp.route("/handovers/<int:handover_id>/reversal", methods=["POST"])
@allow(*FINANCE)
@blp.arguments(ReversalInSchema())
@blp.response(201, HandoverSchema)
def reverse_handover(data, handover_id):
    """Cancel a wrong handover by a reversing record, with the reason (the original is kept)"""
    reversal = cash.reverse_handover(current_principal(), handover_id, data["reason"])
    return _one(reversal.id)
