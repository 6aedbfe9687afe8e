"""The agent statements' API (finance and admin): live figures and their drill-down, issue, list, get, PDF, XLSX."""

from __future__ import annotations

from flask import make_response

from core.api import Blueprint
from core.auth import allow, current_principal
from core.roles import Role
from finance import statement_export, statements
from finance.statement_schemas import (
    StatementDrillArgs,
    StatementDrillSchema,
    StatementIssueSchema,
    StatementListArgs,
    StatementPageSchema,
    StatementPeriodArgs,
    StatementPreviewDrillArgs,
    StatementPreviewSchema,
    StatementSchema,
)

blp = Blueprint("finance_statements_api", __name__, url_prefix="/api/v1/finance/statements",
                description="Finance: statements per agent organisation and agent point — live figures for any "
                            "period, issued (frozen, numbered, signed) statements, PDF and XLSX")
FINANCE = (Role.FINANCE, Role.ADMIN)


def _scope_and_period(args: dict, location: str = "query"):
    scope = statements.scope_of(args.get("organisation"), args.get("agent_point"), location)
    when = statements.period_of(args.get("period"), args.get("on"), args.get("from_"), args.get("to"), location)
    return scope, when


@blp.route("", methods=["GET"])
@allow(*FINANCE)
@blp.arguments(StatementListArgs(), location="query")
@blp.response(200, StatementPageSchema)
def list_statements(args):
    """Issued statements, newest first (of one organisation or agent point when asked)"""
    scope = statements.scope_of(args["organisation"], args["agent_point"]) \
        if args["organisation"] or args["agent_point"] else None
    return statements.listing(current_principal(), scope, args["page"], args["page_size"])


@blp.route("/preview", methods=["GET"])
@allow(*FINANCE)
@blp.arguments(StatementPeriodArgs(), location="query")
@blp.response(200, StatementPreviewSchema)
def preview(args):
    """The live figures of a period and scope: dossiers, collected by method, refunds, fees, net"""
    scope, when = _scope_and_period(args)
    return statements.preview(current_principal(), scope, when)


@blp.route("/preview/lines", methods=["GET"])
@allow(*FINANCE)
@blp.arguments(StatementPreviewDrillArgs(), location="query")
@blp.response(200, StatementDrillSchema)
def preview_lines(args):
    """The dossiers and ledger entries behind one figure of the live statement"""
    scope, when = _scope_and_period(args)
    return statements.preview_lines(current_principal(), scope, when, args["figure"], args["page"],
                                    args["page_size"])


@blp.route("", methods=["POST"])
@allow(*FINANCE)
@blp.arguments(StatementIssueSchema())
@blp.response(201, StatementSchema)
@blp.alt_response(409, description="A statement is already issued for a period overlapping this one, for the scope")
def issue(data):
    """Issue (freeze) the statement of a period that is over: gap-free number, signed; never changes"""
    scope, when = _scope_and_period(data, "json")
    return statements.issue(current_principal(), scope, when)


@blp.route("/<int:statement_id>", methods=["GET"])
@allow(*FINANCE)
@blp.response(200, StatementSchema)
def get_statement(statement_id):
    """An issued statement with its figures as issued, its signed bytes and signature"""
    return statements.get(current_principal(), statement_id)


@blp.route("/<int:statement_id>/lines", methods=["GET"])
@allow(*FINANCE)
@blp.arguments(StatementDrillArgs(), location="query")
@blp.response(200, StatementDrillSchema)
def statement_lines(args, statement_id):
    """The ledger lines (and their entries) behind one figure of an issued statement"""
    return statements.statement_lines(current_principal(), statement_id, args["figure"], args["page"],
                                      args["page_size"])


def _file(body: bytes, mime: str, name: str):
    response = make_response(body)
    response.headers["Content-Type"] = mime
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blp.route("/<int:statement_id>/pdf", methods=["GET"])
@allow(*FINANCE)
@blp.doc(responses={"200": {"description": "The statement as a PDF (A4, bilingual)",
                            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}})
def statement_pdf(statement_id):
    """The issued statement as a PDF: bilingual, its signature and the signed JSON attached"""
    row = statements.statement_row(current_principal(), statement_id)
    return _file(statement_export.to_pdf(row), "application/pdf", f"{statements.number_text(row)}.pdf")


@blp.route("/<int:statement_id>/xlsx", methods=["GET"])
@allow(*FINANCE)
@blp.doc(responses={"200": {"description": "The statement as an XLSX workbook (figures and lines)",
                            "content": {statement_export.XLSX: {"schema": {"type": "string", "format": "binary"}}}}})
def statement_xlsx(statement_id):
    """The issued statement as XLSX: the figures sheet and one row per ledger line"""
    row = statements.statement_row(current_principal(), statement_id)
    return _file(statement_export.to_xlsx(row), statement_export.XLSX, f"{statements.number_text(row)}.xlsx")
