"""Cash held by agents (HTML): each point's cash and its age, the handover form, the history, reversals.

Finance staff and administrators only. Every change is a POST with the form's CSRF token answered by
a redirect; a refusal (``DomainError``) is shown on the page in the reader's language, and since each
use case commits all or nothing, a refused one changed nothing.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from core.auth import allow, current_principal
from core.errors import DomainError
from core.roles import Role
from core.web import money, private_page, refusal_text
from finance import cash
from finance.cash_forms import HandoverForm, ReversalForm

bp = Blueprint("finance_cash", __name__, url_prefix="/finance/cash", template_folder="templates")
FINANCE = (Role.FINANCE, Role.ADMIN)


def _choices() -> list[SelectChoice]:
    """Every organisation's points (and its own, pointless, dossiers), grouped by organisation."""
    choices = [SelectChoice("", _("Choose…"))]
    for org in cash.organisations_and_points():
        group = f"{org['code']} — {org['name']}"
        choices += [SelectChoice(f"{org['code']}/{p['code']}", f"{p['code']} — {p['name']}", optgroup=group)
                    for p in org["points"]]
        choices.append(SelectChoice(f"{org['code']}/", _("%(code)s: the organisation's own dossiers (API)",
                                                        code=org["code"]), optgroup=group))
    return choices


def _page(form: HandoverForm | None = None, *, error: str | None = None, status: int = 200):
    organisation = (request.args.get("organisation") or "").strip().upper() or None
    if form is None:
        form = HandoverForm(formdata=None, handed_over_on=cash.today())
        chosen = request.args.get("unit")
        if chosen:
            form.unit.data = chosen
    form.unit.choices = _choices()
    try:
        points = cash.point_holdings(organisation)
    except DomainError as exc:
        points, error, status = cash.point_holdings(), refusal_text(exc), exc.status
        organisation = None
    page = render_template(
        "finance/cash_index.html", points=points, organisations=cash.organisation_holdings(),
        history=cash.handover_history(organisation_code=organisation, limit=50), form=form,
        reversal_form=ReversalForm(formdata=None), error=error, organisation=organisation,
        handover_days=cash.handover_days(), today=cash.today())
    return private_page(page, status)


@bp.get("")
@allow(*FINANCE)
def index():
    """Each point's cash (held, since when, overdue), per organisation, the handover form and the history."""
    return _page()


@bp.post("/handovers")
@allow(*FINANCE)
def record():
    form = HandoverForm()
    form.unit.choices = _choices()
    if not form.validate_on_submit():
        return _page(form, status=422)
    org_code, _sep, point_code = form.unit.data.partition("/")
    data = {"organisation": org_code, "agent_point": point_code or None, "amount_vnd": form.amount.data,
            "handed_over_on": form.handed_over_on.data, "method": form.method.data,
            "reference": form.reference.data, "received_by": form.received_by.data, "note": form.note.data}
    try:
        handover = cash.record_handover(current_principal(), data)
    except DomainError as exc:
        problem = next((e for e in exc.errors if e.get("field")), {})
        target = {"amount_vnd": form.amount, "handed_over_on": form.handed_over_on, "reference": form.reference,
                  "received_by": form.received_by, "agent_point": form.unit}.get(problem.get("field"))
        if target is not None:  # the refusal next to the field it is about
            lang = "vi" if str(get_locale()).startswith("vi") else "en"
            target.errors = [*target.errors, problem.get(f"message_{lang}") or refusal_text(exc)]
            return _page(form, status=exc.status)
        return _page(form, error=refusal_text(exc), status=exc.status)
    flash(_("Handover of %(amount)s recorded (%(reference)s).", amount=money(handover.amount_vnd),
            reference=handover.reference))
    return redirect(url_for(".index"))


@bp.post("/handovers/<int:handover_id>/reversal")
@allow(*FINANCE)
def reverse(handover_id: int):
    form = ReversalForm()
    if not form.validate_on_submit():
        message = "; ".join(form.reason.errors) or _("Give the reason for the reversal.")
        return _page(error=message, status=422)
    try:
        reversal = cash.reverse_handover(current_principal(), handover_id, form.reason.data)
    except DomainError as exc:
        return _page(error=refusal_text(exc), status=exc.status)
    flash(_("Handover %(reference)s of %(amount)s reversed.", reference=reversal.reference,
            amount=money(reversal.amount_vnd)))
    return redirect(url_for(".index"))
