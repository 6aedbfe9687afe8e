"""The exception queue's pages: the list with its filters and counts, one item, and the actions on it.

Every action is a POST with the form's CSRF token and a reason, answered by a redirect to the item
(post/redirect/get); a refusal (no reason, an item resolved meanwhile, an unknown dossier, an
unbalanced adjustment) is shown on the item's page in the reader's language, and nothing changed.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from core.auth import allow, current_principal
from core.errors import DomainError, InvalidInput
from core.roles import Role
from core.web import private_page, refusal_text
from finance import queue, queue_labels
from finance.models import ExceptionKind, ExceptionStatus
from finance.queue_forms import AdjustForm, AssignForm, LinkForm, ReasonForm
from payments.finance_views import ACCOUNT_LABELS

bp = Blueprint("finance_queue", __name__, url_prefix="/finance/exceptions", template_folder="templates")
bp.record_once(lambda state: queue_labels.register(state.app))
FINANCE = (Role.FINANCE, Role.ADMIN)
PAGE_SIZE = 50


def _field_errors(exc: DomainError) -> dict[str, str]:
    lang = "message_vi" if str(get_locale()) == "vi" else "message_en"
    return {e["field"]: e[lang] for e in exc.errors if "field" in e} if isinstance(exc, InvalidInput) else {}


def _filters() -> tuple[queue.Filters, dict]:
    args = request.args
    chosen = {"kind": args.get("kind") or None, "status": args.get("status") or "open",
              "assignee": args.get("assignee") or None, "age": args.get("age") or None,
              "organisation": (args.get("organisation") or "").strip() or None}
    kind = ExceptionKind(chosen["kind"]) if chosen["kind"] in ExceptionKind._value2member_map_ else None
    status = ExceptionStatus(chosen["status"]) if chosen["status"] in ExceptionStatus._value2member_map_ else None
    chosen["kind"] = kind.value if kind else None
    chosen["status"] = status.value if status else "all"
    age = chosen["age"] if chosen["age"] in queue.BUCKET_KEYS else None
    chosen["age"] = age
    return queue.Filters(kind=kind, status=status, assignee=chosen["assignee"], organisation=chosen["organisation"],
                         age=age), chosen


@bp.get("")
@allow(*FINANCE)
def index():
    """The queue: oldest first, filtered by kind, status, assignee, organisation and age."""
    principal = current_principal()
    filters, chosen = _filters()
    page = max(1, request.args.get("page", 1, type=int) or 1)
    error = None
    try:
        listing = queue.list_items(principal, filters, page, PAGE_SIZE)
        counts = queue.counts_by_kind(principal, filters)
    except DomainError as exc:
        listing, counts, error = {"items": [], "total": 0, "page": 1, "page_size": PAGE_SIZE}, {}, refusal_text(exc)
    pages = max(1, -(-listing["total"] // PAGE_SIZE))
    page_html = render_template("finance/queue_index.html", listing=listing, counts=counts, chosen=chosen,
                                kinds=[k.value for k in ExceptionKind], buckets=queue.BUCKET_KEYS,
                                users=queue.finance_users(), error=error, pages=pages, me=principal.user_id)
    return private_page(page_html, 422 if error else 200)


def _forms(item: dict, users: list[dict]) -> dict:
    assign = AssignForm(formdata=None)
    assign.user_id.choices = [SelectChoice("", _("Myself"))] + [
        SelectChoice(str(u["id"]), f'{u["name"]} ({u["email"]})') for u in users]
    adjust = AdjustForm(formdata=None)
    choices = [SelectChoice(c.value, str(ACCOUNT_LABELS.get(c.value, c.value))) for c in adjust.debit_account.choices]
    adjust.debit_account.choices = adjust.credit_account.choices = choices
    return {"assign": assign, "adjust": adjust, "link": LinkForm(formdata=None), "explain": ReasonForm(formdata=None),
            "reopen": ReasonForm(formdata=None)}


def _item_page(item_id: int, *, action: str | None = None, form=None, error: str | None = None,
               errors: dict | None = None, status: int = 200):
    principal = current_principal()
    item = queue.get_item(principal, item_id)  # NotFound → the error page
    users = queue.finance_users()
    forms = _forms(item, users)
    if action and form is not None:
        form_choices = forms[action]
        if hasattr(form_choices, "user_id"):
            form.user_id.choices = form_choices.user_id.choices
        if hasattr(form_choices, "debit_account"):
            form.debit_account.choices = form.credit_account.choices = form_choices.debit_account.choices
        forms[action] = form
    page = render_template("finance/queue_item.html", item=item, forms=forms, action=action, error=error,
                           errors=errors or {}, account_labels=ACCOUNT_LABELS)
    return private_page(page, status)


@bp.get("/<int:item_id>")
@allow(*FINANCE)
def item(item_id: int):
    return _item_page(item_id)


def _act(item_id: int, action: str, form, run, done: str):
    if not form.validate_on_submit():
        return _item_page(item_id, action=action, form=form, error=_("The form could not be read; try again."),
                          status=422)
    try:
        run(form)
    except DomainError as exc:
        return _item_page(item_id, action=action, form=form, error=refusal_text(exc), errors=_field_errors(exc),
                          status=exc.status)
    flash(done)
    return redirect(url_for(".item", item_id=item_id))


@bp.post("/<int:item_id>/assign")
@allow(*FINANCE)
def assign(item_id: int):
    form = AssignForm()
    principal = current_principal()
    return _act(item_id, "assign", form, lambda f: queue.assign(
        principal, item_id, f.reason.data, int(f.user_id.data) if (f.user_id.data or "").isdigit() else None),
        _("The item is assigned."))


@bp.post("/<int:item_id>/adjust")
@allow(*FINANCE)
def adjust(item_id: int):
    form = AdjustForm()
    principal = current_principal()
    return _act(item_id, "adjust", form, lambda f: queue.adjust(principal, item_id, f.reason.data, f.entries()),
                _("The adjustment is booked in the ledger and the item is resolved."))


@bp.post("/<int:item_id>/link")
@allow(*FINANCE)
def link(item_id: int):
    form = LinkForm()
    principal = current_principal()
    return _act(item_id, "link", form, lambda f: queue.link(principal, item_id, f.reason.data, f.dossier_number.data),
                _("The item is linked to the dossier and resolved."))


@bp.post("/<int:item_id>/explain")
@allow(*FINANCE)
def explain(item_id: int):
    form = ReasonForm()
    principal = current_principal()
    return _act(item_id, "explain", form, lambda f: queue.explain(principal, item_id, f.reason.data),
                _("The item is marked as explained and resolved."))


@bp.post("/<int:item_id>/reopen")
@allow(*FINANCE)
def reopen(item_id: int):
    form = ReasonForm()
    principal = current_principal()
    return _act(item_id, "reopen", form, lambda f: queue.reopen(principal, item_id, f.reason.data),
                _("The item is open again."))
