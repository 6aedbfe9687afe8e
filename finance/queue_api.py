"""The exception queue's API: list and count items, read one, act on it with a reason (finance and admin)."""

from __future__ import annotations

from core.api import Blueprint
from core.auth import allow, current_principal
from core.roles import Role
from finance import queue
from finance.models import ExceptionStatus
from finance.queue_schemas import (
    AdjustSchema,
    AssignSchema,
    ItemSchema,
    LinkSchema,
    QueuePageSchema,
    QueueQuerySchema,
    ReasonSchema,
)

blp = Blueprint("finance_exceptions", __name__, url_prefix="/api/v1/finance/exceptions",
                description="Finance: the exception queue (hàng đợi sai lệch) — every mismatch, its records and "
                            "what was done about it")
FINANCE = (Role.FINANCE, Role.ADMIN)


def _filters(args: dict) -> queue.Filters:
    status = None if args["status"] == "all" else ExceptionStatus(args["status"])
    return queue.Filters(kind=args["kind"], status=status, assignee=args["assignee"],
                         organisation=args["organisation"], age=args["age"])


@blp.route("", methods=["GET"])
@allow(*FINANCE)
@blp.arguments(QueueQuerySchema(), location="query")
@blp.response(200, QueuePageSchema)
def list_items(args):
    """Items oldest first, filtered by kind, status, assignee, organisation and age bucket; counts per kind"""
    principal = current_principal()
    filters = _filters(args)
    page = queue.list_items(principal, filters, args["page"], args["page_size"])
    return {**page, "counts": queue.counts_by_kind(principal, filters)}


@blp.route("/<int:item_id>", methods=["GET"])
@allow(*FINANCE)
@blp.response(200, ItemSchema)
def get_item(item_id):
    """One item: its class, amount, age, the records on both sides and its action history"""
    return queue.get_item(current_principal(), item_id)


@blp.route("/<int:item_id>/assign", methods=["POST"])
@allow(*FINANCE)
@blp.arguments(AssignSchema())
@blp.response(200, ItemSchema)
@blp.alt_response(409, description="The item is already resolved")
def assign(data, item_id):
    """Assign an open item to a finance user (or to the caller), with a reason"""
    return queue.assign(current_principal(), item_id, data["reason"], data["user_id"])


@blp.route("/<int:item_id>/adjustments", methods=["POST"])
@allow(*FINANCE)
@blp.arguments(AdjustSchema())
@blp.response(200, ItemSchema)
@blp.alt_response(409, description="The item is already resolved")
def adjust(data, item_id):
    """Book a balanced adjustment through the ledger and resolve the item (the transaction id is in the action)"""
    return queue.adjust(current_principal(), item_id, data["reason"], data["entries"])


@blp.route("/<int:item_id>/link", methods=["POST"])
@allow(*FINANCE)
@blp.arguments(LinkSchema())
@blp.response(200, ItemSchema)
@blp.alt_response(409, description="The item is already resolved")
def link(data, item_id):
    """Link the item to the dossier it belongs to and resolve it"""
    return queue.link(current_principal(), item_id, data["reason"], data["dossier_number"])


@blp.route("/<int:item_id>/explain", methods=["POST"])
@allow(*FINANCE)
@blp.arguments(ReasonSchema())
@blp.response(200, ItemSchema)
@blp.alt_response(409, description="The item is already resolved")
def explain(data, item_id):
    """Mark the item as explained (no money moves) and resolve it"""
    return queue.explain(current_principal(), item_id, data["reason"])


@blp.route("/<int:item_id>/reopen", methods=["POST"])
@allow(*FINANCE)
@blp.arguments(ReasonSchema())
@blp.response(200, ItemSchema)
@blp.alt_response(409, description="The item is already open")
def reopen(data, item_id):
    """Open a resolved item again"""
    return queue.reopen(current_principal(), item_id, data["reason"])
