"""The official forms of Circular 01/2018/TT-VPCP for branch officers, and the apology for lateness.

``GET /branch/dossiers/<number>/forms/<form>`` (A4, print CSS) and ``….pdf``, ``<form>`` one of receipt,
supplement, refusal, apology; ``GET``/``POST /branch/dossiers/<number>/apology`` (the reason and the new
date, CSRF). Branch officers (scoped to their point's dossiers by ``dossiers.service``) and admin; a form
that does not apply yet is a 404. The receipt slip carries a QR code to the citizen's tracking page.
"""

from __future__ import annotations

import segno
from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from backoffice import form_facts
from backoffice.forms import ApologyForm
from backoffice.forms_pdf import render_pdf
from core.auth import allow, current_principal
from core.errors import DomainError
from core.roles import Role
from dossiers import apologies
from dossiers import service as dossiers
from tracking import service as tracking

bp = Blueprint("branch_forms", __name__, url_prefix="/branch/dossiers", template_folder="templates")
FORM = "<any(receipt, supplement, refusal, apology):form>"
OFFICERS = (Role.BRANCH_OFFICER, Role.ADMIN)


def _officer_name() -> str | None:
    return getattr(current_user, "full_name", None) if current_user.is_authenticated else None


def _no_store(body, status: int = 200, mimetype: str | None = None):
    response = make_response(body, status)
    if mimetype:
        response.mimetype = mimetype
    response.headers["Cache-Control"] = "no-store"  # personal data: never kept by a cache
    return response


def _build(number: str, form: str):
    """The form filled; ``?apology=<id>`` picks one apology of several (the latest by default)."""
    apology_id = request.args.get("apology", type=int) if form == "apology" else None
    return form_facts.build(current_principal(), number, form, _officer_name(), apology_id)


def _tracking_url(number: str) -> str:
    """A tracking link of its own for this print (only its token's hash is stored)."""
    return tracking.share_link(dossiers.get(current_principal(), number).id, "receipt")


@bp.get(f"/<number>/forms/{FORM}")
@allow(*OFFICERS)
def form_html(number: str, form: str):
    filled = _build(number, form)
    qr_svg = qr_url = None
    if form == "receipt":
        qr_url = _tracking_url(number)
        qr_svg = Markup(segno.make(qr_url, error="m").svg_inline(scale=3, border=2, omitsize=True))  # noqa: S704
    return _no_store(render_template("branch_forms/form.html", f=filled, qr_svg=qr_svg, qr_url=qr_url))


@bp.get(f"/<number>/forms/{FORM}.pdf")
@allow(*OFFICERS)
def form_pdf(number: str, form: str):
    filled = _build(number, form)
    pdf = render_pdf(filled, qr_url=_tracking_url(number) if form == "receipt" else None)
    response = _no_store(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{number}-{form}.pdf"'
    return response


def _apology_page(number: str, form: ApologyForm, status: int = 200, problem: str | None = None):
    dossier = dossiers.get(current_principal(), number)
    return _no_store(render_template("branch_forms/apology.html", d=dossier, form=form, problem=problem,
                                     records=apologies.apologies_of(dossier.id),
                                     open=dossier.status in apologies.OPEN), status)


@bp.get("/<number>/apology")
@allow(*OFFICERS)
def apology_form(number: str):
    return _apology_page(number, ApologyForm(formdata=None))


@bp.post("/<number>/apology")
@allow(*OFFICERS)
def apologise(number: str):
    form = ApologyForm()
    if not form.validate():  # the CSRF token, and a date that parses
        return _apology_page(number, form, 422)
    try:
        apologies.apologise(current_principal(), number, form.reason.data, form.new_date.data)
    except DomainError as exc:
        if exc.status == 404:
            raise
        lang = str(get_locale())
        for error in exc.errors:
            target = getattr(form, error.get("field", ""), None)
            if target is not None:
                target.errors = [*target.errors, error["message_vi" if lang == "vi" else "message_en"]]
        text = exc.detail.get(lang) if exc.detail else exc.title.get(lang)
        return _apology_page(number, form, exc.status, problem=text)
    flash(_("Apology recorded: the citizen is told the new date by SMS."))
    return redirect(url_for("branch_forms.form_html", number=number, form="apology"), 303)
