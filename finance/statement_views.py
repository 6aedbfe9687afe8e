"""The agent statements' pages: live figures for a period and scope with their drill-down; issue; issued ones.

The period is ?period=day|week|month|custom with ?on=YYYY-MM-DD, or ?from=…&to=… (local days, both
included); without it, the current month. The scope is ?organisation=<code> or ?agent_point=<code>;
without it, the whole centre. A period that ends before it starts is refused in the reader's language.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.auth import allow, current_principal
from core.errors import DomainError
from core.roles import Role
from core.web import private_page, refusal_text
from finance import statement_export, statements
from finance import statement_queries as q
from finance.statement_forms import IssueForm

bp = Blueprint("finance_statements", __name__, url_prefix="/finance/statements", template_folder="templates")
FINANCE = (Role.FINANCE, Role.ADMIN)
ARGS = ("period", "on", "from", "to", "organisation", "agent_point")
PERIOD_LABELS = {"day": _l("Day"), "week": _l("Week"), "month": _l("Month"), "custom": _l("Custom")}
FIGURE_LABELS = {
    "dossiers": _l("Dossiers registered"), "card": _l("Collected by card"), "vietqr": _l("Collected by VietQR"),
    "cash": _l("Collected in cash"), "collected": _l("Total collected"), "refunds": _l("Refunds"),
    "state_fee": _l("State fees owed to the treasury"), "service_fee": _l("Agent's service fee owed to the agent"),
    "courier_fee": _l("Courier fees"), "net": _l("Net"), "corrections": _l("Corrections carried forward"),
    "all": _l("All lines"),
}
NET_LABELS = {"agent_owes_centre": _l("The agent owes the centre"),
              "centre_owes_agent": _l("The centre owes the agent"), "settled": _l("Nothing owed either way")}


def _day(name: str) -> date | None:
    raw = (request.args.get(name) or "").strip()
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _asked() -> dict:
    return {k: request.args[k] for k in ARGS if request.args.get(k)}


def _scope_and_period():
    scope = statements.scope_of(request.args.get("organisation") or None, request.args.get("agent_point") or None)
    when = statements.period_of(request.args.get("period") or None, _day("on"), _day("from"), _day("to"))
    return scope, when


def _labels() -> dict:
    return {"periods": PERIOD_LABELS, "figures": FIGURE_LABELS, "net": NET_LABELS}


@bp.get("", endpoint="index")
@allow(*FINANCE)
def index(form: IssueForm | None = None, error: str | None = None, status: int = 200):
    """The live figures of the asked period and scope, and the statements issued."""
    principal = current_principal()
    try:
        scope, when = _scope_and_period()
    except DomainError as exc:
        scope, when = q.centre(), statements.period_of("month")
        error, status = refusal_text(exc), exc.status
    live = statements.preview(principal, scope, when)
    orgs, points = q.choices()
    page = render_template("finance/statements_index.html", live=live, when=when, scope=scope, error=error,
                           form=form or IssueForm(), asked=_asked(), orgs=orgs, points=points,
                           period_kind=request.args.get("period") or ("custom" if request.args.get("from") else
                                                                     "month"),
                           issued=statements.listing(principal, None, 1, 20), labels=_labels())
    return private_page(page, status)


@bp.get("/lines", endpoint="lines")
@allow(*FINANCE)
def preview_lines():
    """The dossiers and ledger entries behind one figure of the live statement."""
    principal = current_principal()
    figure = request.args.get("figure") or "all"
    try:
        scope, when = _scope_and_period()
        drill = statements.preview_lines(principal, scope, when, figure, request.args.get("page", type=int))
    except DomainError as exc:
        return index(error=refusal_text(exc), status=exc.status)
    page = render_template("finance/statements_lines.html", drill=drill, scope=scope, when=when, statement=None,
                           asked=_asked(), labels=_labels())
    return private_page(page)


@bp.post("/issue", endpoint="issue")
@allow(*FINANCE)
def issue():
    form = IssueForm()
    if not form.validate_on_submit():
        return index(form, _("The form expired: reload the page and try again."), 400)
    try:
        scope, when = _scope_and_period()
        done = statements.issue(current_principal(), scope, when)
    except DomainError as exc:
        return index(form, refusal_text(exc), exc.status)
    flash(_("Statement %(number)s issued.", number=done["number"]))
    return redirect(url_for(".statement", statement_id=done["id"]))


@bp.get("/<int:statement_id>", endpoint="statement")
@allow(*FINANCE)
def statement(statement_id: int):
    principal = current_principal()
    issued = statements.get(principal, statement_id)
    page = render_template("finance/statement_issued.html", s=issued, labels=_labels())
    return private_page(page)


@bp.get("/<int:statement_id>/lines", endpoint="statement_lines")
@allow(*FINANCE)
def statement_lines(statement_id: int):
    principal = current_principal()
    issued = statements.get(principal, statement_id)
    figure = request.args.get("figure") or "all"
    try:
        drill = statements.statement_lines(principal, statement_id, figure, request.args.get("page", type=int))
    except DomainError as exc:
        flash(refusal_text(exc))
        return redirect(url_for(".statement", statement_id=statement_id))
    page = render_template("finance/statements_lines.html", drill=drill, scope=None, when=None, statement=issued,
                           asked={}, labels=_labels())
    return private_page(page)


def _download(statement_id: int, kind: str):
    row = statements.statement_row(current_principal(), statement_id)
    if kind == "pdf":
        body, mime = statement_export.to_pdf(row), "application/pdf"
    else:
        body, mime = statement_export.to_xlsx(row), statement_export.XLSX
    response = make_response(body)
    response.headers["Content-Type"] = mime
    response.headers["Content-Disposition"] = f'attachment; filename="{statements.number_text(row)}.{kind}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/<int:statement_id>.pdf", endpoint="pdf")
@allow(*FINANCE)
def statement_pdf(statement_id: int):
    return _download(statement_id, "pdf")


@bp.get("/<int:statement_id>.xlsx", endpoint="xlsx")
@allow(*FINANCE)
def statement_xlsx(statement_id: int):
    return _download(statement_id, "xlsx")
