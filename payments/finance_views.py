"""The finance workspace (HTML): ledger balances, bank statements, a dossier's payment and refunds.

Server-rendered pages for finance staff and administrators over the same use cases as the
finance API (``payments.bank``, ``payments.refunds``, ``payments.service``). Every change is
a POST with the form's CSRF token, answered by a redirect (post/redirect/get); a use case's
refusal (``DomainError``) is shown on the page in the reader's language, and since every
use case commits all or nothing, a refused one has changed nothing.

A refund form carries an idempotency key made when the form is rendered: the same form
posted twice (a double click, a resend after a timeout) refunds once.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core import accounts
from core.auth import allow, current_principal
from core.errors import DomainError, InvalidInput, NotFound
from core.roles import Role
from core.web import money, private_page, refusal_text
from payments import bank, provisional, refunds, service
from payments.forms import DossierSearchForm, FeeRuleForm, RefundForm, StatementForm, new_idempotency_key

bp = Blueprint("finance_payments", __name__, url_prefix="/finance", template_folder="templates")
FINANCE = (Role.FINANCE, Role.ADMIN)

ACCOUNT_LABELS = {
    "gateway_clearing": _l("Money awaiting transfer from the payment gateway"),
    "bank": _l("Bank account"),
    "cash_at_agents": _l("Cash held by agents"),
    "cash_at_centre": _l("Cash at the centre's counter"),
    "treasury_payable": _l("Payable to the state budget"),
    "agent_payable": _l("Payable to agents"),
    "courier_payable": _l("Payable to the postal service"),
    "gateway_fees": _l("Payment gateway fees"),
}
OUTCOME_LABELS = {
    "matched": _l("Matched"),
    "unmatched": _l("No dossier reference"),
    "wrong_amount": _l("Wrong amount"),
    "already_paid": _l("Already paid"),
    "payout": _l("Gateway payout"),
    "cash_deposit": _l("Agent's cash deposit"),
    "cash_mismatch": _l("Agent's cash deposit, amount differs"),
}
COMPONENT_LABELS = {"state_fee": _l("State fee"), "service_fee": _l("Service fee"), "courier_fee": _l("Courier fee")}
REFUND_STATUS_LABELS = {"pending": _l("Pending"), "succeeded": _l("Refunded"), "failed": _l("Failed")}


def _label(labels: dict, key: str) -> str:
    return str(labels[key]) if key in labels else key


@bp.app_template_global()
def finance_account_label(account: str) -> str:
    return _label(ACCOUNT_LABELS, account)


@bp.app_template_global()
def statement_outcome_label(outcome: str) -> str:
    return _label(OUTCOME_LABELS, outcome)


@bp.app_template_global()
def fee_component_label(component: str) -> str:
    return _label(COMPONENT_LABELS, component)


@bp.app_template_global()
def refund_status_label(status: str) -> str:
    return _label(REFUND_STATUS_LABELS, status)


@bp.app_template_global()
def credit_count(summary: dict) -> int:
    """How many credits a statement import read (older imports called them lines)."""
    return int(summary.get("credits", summary.get("lines", 0)))


@bp.app_template_global()
def attention_count(summary: dict) -> int:
    return sum(int(summary.get(k, 0)) for k in ("unmatched", "wrong_amount", "already_paid"))


# ---------------------------------------------------------------- overview and statements

def _overview(statement_form: StatementForm | None = None, *, error: str | None = None, status: int = 200,
              search_form: DossierSearchForm | None = None, search_error: str | None = None):
    lines = bank.lines_needing_attention()
    page = render_template(
        "payments/finance_overview.html", balances=service.balances(), imports=bank.recent_imports(),
        lines=lines, line_dossiers=bank.dossiers_of_lines(lines), statement_form=statement_form or StatementForm(),
        search_form=search_form or DossierSearchForm(formdata=None), error=error, search_error=search_error,
        organisations=accounts.list_organisations(), provisional_overdue=provisional.overdue(),
        provisional_days=current_app.config["PROVISIONAL_TRANSFER_DAYS"])
    return private_page(page, status)


@bp.get("")
@allow(*FINANCE)
def overview():
    """Balances, the statement upload, recent imports and the lines that need a look; ?dossier= opens one."""
    if "dossier" in request.args:
        search = DossierSearchForm(request.args)
        if search.validate():
            return redirect(url_for(".dossier", number=search.dossier.data.strip().upper()))
        return _overview(search_form=search, search_error=_("Enter a dossier number."), status=422)
    return _overview()


@bp.post("/statements")
@allow(*FINANCE)
def upload_statement():
    form = StatementForm()
    if not form.validate_on_submit():
        return _overview(form, status=422)
    upload = form.file.data
    try:
        record = bank.import_statement(current_principal(), upload.filename or "statement.csv", upload.read())
    except DomainError as exc:  # all or nothing: the import's unit of work rolled a refused file back
        return _overview(form, error=refusal_text(exc), status=exc.status)
    summary = record.summary or {}
    flash(_import_message(record.filename, summary))
    return redirect(url_for(".overview"))


def _import_message(filename: str, summary: dict) -> str:
    """What an import read, each count with its noun in the plural form the language asks for."""
    return _("Statement %(file)s imported: %(credits)s; %(matched)s (%(amount)s); %(attention)s; %(again)s.",
             file=filename,
             credits=ngettext("%(num)s credit", "%(num)s credits", credit_count(summary)),
             matched=ngettext("%(num)s transfer matched", "%(num)s transfers matched", summary.get("matched", 0)),
             amount=money(summary.get("matched_vnd", 0)),
             attention=ngettext("%(num)s needs attention", "%(num)s need attention", attention_count(summary)),
             again=ngettext("%(num)s already imported", "%(num)s already imported",
                            summary.get("already_imported", 0)))


# ---------------------------------------------------------------- one dossier's payment and refunds

def _dossier_page(number: str, form: RefundForm | None = None, *, error: str | None = None, status: int = 200):
    try:
        dossier, payment = service.get(current_principal(), number)
    except NotFound as exc:
        page = render_template("payments/finance_dossier.html", number=number, p=None, dossier=None,
                               form=None, error=refusal_text(exc), left=0)
        return private_page(page, 404)
    if form is None:
        form = RefundForm(formdata=None)
    form.idempotency_key.data = new_idempotency_key()  # a fresh key for every rendering of the form
    left = refunds.refundable(payment)
    page = render_template("payments/finance_dossier.html", number=dossier.number, dossier=dossier,
                           p=service.view(dossier, payment), left=left, left_total=sum(left.values()),
                           can_refund=payment.status in service.SETTLED and sum(left.values()) > 0,
                           form=form, error=error)
    return private_page(page, status)


@bp.get("/dossiers/<number>")
@allow(*FINANCE)
def dossier(number: str):
    return _dossier_page(number)


@bp.post("/dossiers/<number>/refunds")
@allow(*FINANCE)
def refund(number: str):
    form = RefundForm()
    if not form.validate_on_submit():
        return _dossier_page(number, form, status=422)
    principal = current_principal()
    # The key is the form's (made when it was rendered), for this user and this dossier only.
    key = f"web-{principal.user_id}-{number}-{form.idempotency_key.data}"
    try:
        done = refunds.create(principal, number, form.amount.data, form.reason.data.strip(), key)
    except InvalidInput as exc:
        if any(e.get("field") == "amount_vnd" for e in exc.errors):
            form.amount.errors = [*form.amount.errors, _left_message(principal, number)]
            return _dossier_page(number, form, status=exc.status)
        return _dossier_page(number, form, error=refusal_text(exc), status=exc.status)
    except DomainError as exc:
        return _dossier_page(number, form, error=refusal_text(exc), status=exc.status)
    if done.status == "failed":
        flash(_("The refund of %(amount)s failed; nothing was refunded.", amount=money(done.amount_vnd)))
    elif done.status == "pending":
        flash(_("The refund of %(amount)s is waiting for the payment gateway; it is retried automatically.",
                amount=money(done.amount_vnd)))
    else:
        flash(_("Refunded %(amount)s for dossier %(number)s.", amount=money(done.amount_vnd), number=number))
    return redirect(url_for(".dossier", number=number))


def _left_message(principal, number: str) -> str:
    _dossier, payment = service.get(principal, number)
    left = sum(refunds.refundable(payment).values())
    return _("A refund may be at most what is left: %(amount)s.", amount=money(left))


# ---------------------------------------------------------------- service fee rules

def _fee_rules_page(code: str, form: FeeRuleForm | None = None, *, error: str | None = None, status: int = 200):
    rules = service.fee_rules(code)  # NotFound → the error page
    organisation = accounts.get_organisation(code)
    page = render_template("payments/finance_fee_rules.html", organisation=organisation, rules=rules["rules"],
                           cap=rules["cap_vnd"], on_top=rules["on_top_today"],
                           form=form or FeeRuleForm(formdata=None), error=error)
    return private_page(page, status)


@bp.get("/organisations/<code>/fee-rules")
@allow(*FINANCE)
def fee_rules(code: str):
    return _fee_rules_page(code)


@bp.post("/organisations/<code>/fee-rules")
@allow(*FINANCE)
def add_fee_rule(code: str):
    form = FeeRuleForm()
    if not form.validate_on_submit():
        return _fee_rules_page(code, form, status=422)
    data = {"effective_from": form.effective_from.data, "flat_vnd": form.flat_vnd.data or 0,
            "percent": form.percent.data or 0, "minimum_vnd": form.minimum_vnd.data or 0,
            "maximum_vnd": form.maximum_vnd.data}
    try:
        service.set_fee_rule(current_principal(), code, data)
    except DomainError as exc:
        return _fee_rules_page(code, form, error=refusal_text(exc), status=exc.status)
    flash(_("The new service fee for %(code)s takes effect on %(day)s.", code=code,
            day=format_date(form.effective_from.data, "medium")))
    return redirect(url_for(".fee_rules", code=code))
