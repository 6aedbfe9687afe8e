"""The branch officer's workspace: ``/branch`` (work queues) and ``/branch/dossiers/<number>`` (one dossier).

Branch officers (scoped to their point, a branch lead to the branch and its points, by ``dossiers.service``)
and admin. Every action is a CSRF-protected form posting the dossier's version it was shown: a dossier
changed meanwhile answers a 409 page that keeps what the officer wrote, and nothing changes. The citizen's
identity is masked until the officer asks to see it (a POST, audited). Documents are served inline from an
authenticated, uncached route for the page's <img> and <iframe>.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from backoffice import form_facts, service
from backoffice.workspace_forms import AssignForm, MoveForm, ResultForm, RevealForm, SupplementForm, TransferForm
from core import accounts
from core.auth import allow, current_principal
from core.errors import DomainError
from core.roles import Role
from core.settings import settings
from core.web import private_page, refusal_text
from dossiers import apologies, catalogue, workspace
from dossiers import service as dossiers
from dossiers.enums import Status
from dossiers.labels import status_label
from geo import service as geo
from payments import service as payments

bp = Blueprint("branch_workspace", __name__, url_prefix="/branch", template_folder="templates")
OFFICERS = (Role.BRANCH_OFFICER, Role.ADMIN)
TAB_LABELS = {
    "new": _l("New"), "accepted": _l("Accepted"), "processing": _l("In processing"),
    "supplement": _l("Awaiting supplement"), "result_ready": _l("Result ready"), "overdue": _l("Overdue"),
    "due_soon": _l("Due within one working day"),
}


def _tab_label(tab: str) -> str:
    return str(TAB_LABELS[tab])


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, type=int)
    return value if value and value > 0 else None


@bp.get("")
@allow(*OFFICERS)
def queue():
    principal = current_principal()
    tab = request.args.get("tab", "new")
    if tab not in workspace.TABS:
        tab = "new"
    status = request.args.get("status") or None
    try:
        status = Status(status) if status else None
    except ValueError:
        status = None
    procedures = {p.code: p for p, _score in catalogue.search("", limit=10_000)}
    organisations = accounts.list_organisations()
    procedure = procedures.get(request.args.get("procedure") or "")
    organisation = next((o for o in organisations if o.code == request.args.get("organisation")), None)
    query = workspace.QueueQuery(
        tab=tab, procedure_id=procedure.id if procedure else None,
        organisation_id=organisation.id if organisation else None, status=status,
        q=(request.args.get("q") or "").strip()[:100], page=_int_arg("page") or 1,
        page_size=int(settings().branch_queue_page_size))
    page = workspace.queue(principal, query)
    points = {p.id: p for p in geo.list_points()}
    here = points.get(principal.service_point_id) if principal.service_point_id else None
    return private_page(render_template(
        "workspace/queue.html", page=page, tabs=workspace.TABS, tab_label=_tab_label, points=points, here=here,
        lead=principal.branch_lead, procedures=sorted(procedures.values(), key=lambda p: p.code),
        organisations=organisations, procedure=procedure, organisation=organisation, status=status,
        statuses=[s for s in Status if s in workspace.TAB_STATUSES[tab]],
        deadline_state=workspace.deadline_state, orgs_by_id={o.id: o for o in organisations},
        args={k: v for k, v in request.args.items() if k != "page"}))


# ---------------------------------------------------------------- one dossier

def _forms(dossier, supplement=None, result=None, transfer=None, assign=None):
    version = dossier.version
    supplement = supplement or SupplementForm(formdata=None, version=version)
    supplement.documents.choices = [(d, d) for d in dossier.procedure.required_documents or []]
    transfer = transfer or TransferForm(formdata=None, version=version)
    transfer.point.choices = [(p.code, f"{p.code} — {p.name}") for p in geo.list_points()
                              if p.id != dossier.service_point_id]
    assign = assign or AssignForm(formdata=None, version=version)
    scope = set(geo.points_under(dossier.service_point_id))
    assign.user.choices = [("", "—")] + [(u.email, f"{u.full_name} ({u.email})") for u in service.officers_for(scope)]
    if not assign.is_submitted():
        assign.user.data = next((u.email for u in service.officers_for(scope) if u.id == dossier.assigned_user_id),
                                "")
    return {"supplement": supplement, "result": result or ResultForm(formdata=None, version=version),
            "transfer": transfer, "assign": assign, "reveal": RevealForm(formdata=None),
            "move": MoveForm(formdata=None, version=version)}


def _dossier_page(number: str, status: int = 200, revealed: bool = False, problem: str | None = None,
                  dossier=None, **forms):
    principal = current_principal()
    if dossier is None:
        dossier = dossiers.get(principal, number)
    point = geo.point_by_id(dossier.service_point_id)
    assignee = next((u for u in accounts.list_users() if u.id == dossier.assigned_user_id), None)
    moves = workspace.offered_moves(dossier)
    return private_page(render_template(
        "workspace/dossier.html", d=dossier, point=point, revealed=revealed, problem=problem,
        printable=form_facts.available(dossier), can_apologise=dossier.status in apologies.OPEN,
        moves=moves, simple_moves=[m for m in moves if m is not Status.SUPPLEMENT_REQUESTED
                                   and not (m is Status.RESULT_READY and dossier.status is Status.PROCESSING)],
        result_form=Status.RESULT_READY in moves and dossier.status is Status.PROCESSING,
        move_label=_move_label,
        Status=Status, payment=payments.public_summary(dossier.id), assignee=assignee,
        deadline_state=workspace.deadline_state(dossier), waited=workspace.supplement_wait(dossier),
        transferable=dossier.status in workspace.TRANSFERABLE,
        organisation=next((o for o in accounts.list_organisations() if o.id == dossier.organisation_id), None),
        forms=_forms(dossier, **forms)), status)


MOVE_LABELS = {
    Status.ACCEPTED: _l("Accept"), Status.PROCESSING: _l("Start processing"), Status.REJECTED: _l("Reject"),
    Status.OUT_FOR_DELIVERY: _l("Hand over to the courier"), Status.COLLECTED: _l("Record collection at the counter"),
    Status.DELIVERED: _l("Record delivery"), Status.CLOSED: _l("Close the dossier"),
    Status.RESULT_READY: _l("Back at the point (result ready)"), Status.ROUTED: _l("Route"),
}


def _move_label(target: Status, current: Status) -> str:
    if target is Status.PROCESSING and current is Status.SUPPLEMENT_REQUESTED:
        return _("Supplement received: resume processing")
    return str(MOVE_LABELS.get(target, target.value))


@bp.get("/dossiers/<number>")
@allow(*OFFICERS)
def dossier(number: str):
    return _dossier_page(number)


@bp.post("/dossiers/<number>/reveal")
@allow(*OFFICERS)
def reveal(number: str):
    if not RevealForm().validate():
        abort(400)
    shown = service.reveal_citizen(current_principal(), number)
    return _dossier_page(number, revealed=True, dossier=shown)


@bp.get("/dossiers/<number>/documents/<int:document_id>")
@allow(*OFFICERS)
def document(number: str, document_id: int):
    """One document's bytes, inline, for the dossier page only (same-origin frames; never cached)."""
    found = next((d for d in dossiers.get(current_principal(), number).documents if d.id == document_id), None)
    if found is None:
        abort(404)
    response = private_page(dossiers.document_content(found))
    response.mimetype = found.content_type
    response.headers["Content-Disposition"] = f'inline; filename="{found.filename}"'
    response.headers["Content-Security-Policy"] = ("default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
                                                   "frame-ancestors 'self'")
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def _stale(number: str, exc: DomainError, attempted: str, wrote: str | None):
    """The 409 page: what changed, what the officer wrote (kept, to copy), a link to the fresh dossier."""
    return private_page(render_template("workspace/conflict.html", number=number, message=refusal_text(exc),
                                        attempted=attempted, wrote=wrote, extra=exc.extra), 409)


def _act(number: str, attempted: str, wrote: str | None, action, **forms):
    """Run an action; a stale version is the 409 page, another refusal the dossier page with the reason."""
    try:
        action()
    except DomainError as exc:
        if exc.code == "stale_dossier":
            return _stale(number, exc, attempted, wrote)
        if exc.status == 404:
            raise
        return _dossier_page(number, exc.status, problem=refusal_text(exc), **forms)
    return redirect(url_for(".dossier", number=number), 303)


def _invalid(number: str, form, **forms):
    errors = "; ".join(
        (f"{getattr(form, name).label.text}: " if hasattr(form, name) else "") + " ".join(str(m) for m in msgs)
        for name, msgs in form.errors.items())
    return _dossier_page(number, 422, problem=_("Not done: %(reason)s", reason=errors), **forms)


@bp.post("/dossiers/<number>/move")
@allow(*OFFICERS)
def move(number: str):
    form = MoveForm()
    if not form.validate():
        return _invalid(number, form)
    try:
        target = Status(form.to.data)
    except ValueError:
        abort(400)
    reason = (form.reason.data or "").strip() or None

    def action():
        service.workspace_move(current_principal(), number, target, form.version.data, reason)
        flash(_("Done: %(status)s.", status=_status(target)))
    return _act(number, _status(target), reason, action)


def _status(status: Status) -> str:
    return status_label(status)


@bp.post("/dossiers/<number>/supplement")
@allow(*OFFICERS)
def supplement(number: str):
    form = SupplementForm()
    form.documents.choices = []  # any checklist line; the use case records what was asked
    if not form.validate():
        return _invalid(number, form, supplement=form)
    documents = [d for d in (form.documents.data or []) if d.strip()]
    wrote = "; ".join(documents) + (f" — {form.note.data}" if form.note.data else "")

    def action():
        service.workspace_supplement(current_principal(), number, form.version.data, documents, form.note.data)
        flash(_("Supplement requested: the citizen is told by SMS and the deadline is paused."))
    return _act(number, _status(Status.SUPPLEMENT_REQUESTED), wrote, action, supplement=form)


@bp.post("/dossiers/<number>/result")
@allow(*OFFICERS)
def result(number: str):
    form = ResultForm()
    if not form.validate():
        return _invalid(number, form, result=form)
    upload = form.result_file.data
    has_file = upload is not None and getattr(upload, "filename", "")

    def action():
        service.workspace_result(current_principal(), number, form.version.data,
                                 upload.filename if has_file else None, upload.stream if has_file else None,
                                 form.on_paper.data)
        flash(_("Result recorded as ready."))
    return _act(number, _status(Status.RESULT_READY), form.on_paper.data, action, result=form)


@bp.post("/dossiers/<number>/transfer")
@allow(*OFFICERS)
def transfer(number: str):
    form = TransferForm()
    form.point.choices = [(p.code, p.code) for p in geo.list_points()]
    if not form.validate():
        return _invalid(number, form, transfer=form)

    def action():
        service.workspace_transfer(current_principal(), number, form.version.data, form.point.data, form.reason.data)
        flash(_("Dossier transferred to %(code)s.", code=form.point.data))
    response = _act(number, _("Transfer"), form.reason.data, action, transfer=form)
    if response.status_code == 303:  # the dossier may be out of this officer's scope now
        return redirect(url_for(".queue"), 303)
    return response


@bp.post("/dossiers/<number>/assign")
@allow(*OFFICERS)
def assign(number: str):
    form = AssignForm()
    if not form.validate():
        return _invalid(number, form, assign=form)

    def action():
        service.workspace_assign(current_principal(), number, form.version.data, form.user.data or None)
        flash(_("Assignment saved."))
    return _act(number, _("Assignment"), form.user.data, action, assign=form)
