"""The reconciliation API: its runs, and a run started for a period. Finance and admin only."""

from __future__ import annotations

from core.api import Blueprint
from core.auth import allow, current_principal
from core.roles import Role
from finance import recon
from finance.recon_schemas import RunCreateSchema, RunSchema

blp = Blueprint("finance_reconciliation", __name__, url_prefix="/api/v1/finance/reconciliation",
                description="Gateway reconciliation (đối soát cổng thanh toán): runs per period")

FINANCE = (Role.FINANCE, Role.ADMIN)


@blp.route("/runs", methods=["GET"])
@allow(*FINANCE)
@blp.response(200, RunSchema(many=True))
def list_runs():
    """The latest reconciliation runs, newest first, with their counts per class"""
    return recon.runs()


@blp.route("/runs", methods=["POST"])
@allow(*FINANCE)
@blp.arguments(RunCreateSchema())
@blp.response(201, RunSchema)
def start_run(data):
    """Reconcile a period now: fetch the gateway's side, match it with the ledger and the bank, queue mismatches"""
    return recon.reconcile(data["period_from"], data["period_to"], principal=current_principal())


@blp.route("/runs/<int:run_id>", methods=["GET"])
@allow(*FINANCE)
@blp.response(200, RunSchema)
def get_run(run_id):
    """One reconciliation run"""
    return recon.get_run(run_id)
