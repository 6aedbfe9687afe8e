"""The administrators' pages: /admin/... (service points, organisations and users, API keys, audit).

Administrators only (``@allow(Role.ADMIN)``); every form carries a CSRF token; every change goes
through ``backoffice.service``, which audits it. A new API key is shown once, on the page that
issued it, never stored in plain text nor cached.
"""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from backoffice import service
from backoffice.forms import ActionForm, ClosePointForm, KeyForm, OrganisationForm, PointForm, UserForm
from core.auth import allow, current_principal
from core.errors import DomainError
from core.roles import OrganisationKind, Role

bp = Blueprint("backoffice", __name__, url_prefix="/admin", template_folder="templates")


def _refused(exc: DomainError) -> None:
    lang = str(get_locale())
    text = exc.detail.get(lang) if exc.detail else exc.title.get(lang)
    flash(_("Not saved: %(reason)s", reason=text), "error")


def _no_store(html: str, status: int = 200):
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("")
@allow(Role.ADMIN)
def index():
    return render_template("backoffice/index.html", events=service.audit_trail(20))


# ---------------------------------------------------------------- service points

def _points_page(form: PointForm | None = None, status: int = 200):
    return _no_store(render_template("backoffice/points.html", points=service.list_points(),
                                     form=form or PointForm(formdata=None), close_form=ClosePointForm(formdata=None),
                                     action=ActionForm(formdata=None)), status)


@bp.get("/points")
@allow(Role.ADMIN)
def points():
    return _points_page()


@bp.post("/points")
@allow(Role.ADMIN)
def create_point():
    form = PointForm()
    if not form.validate():
        return _points_page(form, 422)
    try:
        point = service.create_point(current_principal(), {
            "code": form.code.data, "tier": form.tier.data, "name": form.name.data.strip(),
            "address": form.address.data.strip(), "lat": form.lat.data, "lon": form.lon.data})
    except DomainError as exc:
        _refused(exc)
        return _points_page(form, exc.status)
    flash(_("Service point %(code)s created.", code=point.code))
    return redirect(url_for(".points"), 303)


@bp.post("/points/<code>/close")
@allow(Role.ADMIN)
def close_point(code: str):
    form = ClosePointForm()
    if not form.validate():
        flash(_("Not saved: %(reason)s", reason=_("give the closing date and a reason.")), "error")
        return redirect(url_for(".points"), 303)
    try:
        service.close_point(current_principal(), code, form.on.data, form.reason.data)
        flash(_("Service point %(code)s closed from %(day)s.", code=code, day=form.on.data.strftime("%d/%m/%Y")))
    except DomainError as exc:
        _refused(exc)
    return redirect(url_for(".points"), 303)


@bp.post("/points/<code>/reopen")
@allow(Role.ADMIN)
def reopen_point(code: str):
    if ActionForm().validate():
        try:
            service.reopen_point(current_principal(), code)
            flash(_("Service point %(code)s reopened.", code=code))
        except DomainError as exc:
            _refused(exc)
    return redirect(url_for(".points"), 303)


# ---------------------------------------------------------------- organisations and users

def _user_form() -> UserForm:
    form = UserForm()
    form.organisation.choices = [("", "—")] + [(o.code, f"{o.code} — {o.name}") for o in service.list_organisations()]
    return form


def _users_page(form: UserForm | None = None, org_form: OrganisationForm | None = None, status: int = 200):
    return _no_store(render_template(
        "backoffice/users.html", users=service.list_users(), organisations=service.list_organisations(),
        form=form or _user_form(), org_form=org_form or OrganisationForm(formdata=None),
        action=ActionForm(formdata=None)), status)


@bp.get("/users")
@allow(Role.ADMIN)
def users():
    return _users_page()


@bp.post("/users")
@allow(Role.ADMIN)
def create_user():
    form = _user_form()
    if not form.validate():
        return _users_page(form, status=422)
    try:
        user = service.create_user(current_principal(), form.email.data, form.full_name.data, Role(form.role.data),
                                   form.password.data, form.organisation.data or None,
                                   (form.service_point.data or "").strip() or None)
    except DomainError as exc:
        _refused(exc)
        return _users_page(form, status=exc.status)
    flash(_("User %(email)s created.", email=user.email))
    return redirect(url_for(".users"), 303)


@bp.post("/users/<email>/<any(activate, deactivate):change>")
@allow(Role.ADMIN)
def set_user_active(email: str, change: str):
    if ActionForm().validate():
        try:
            service.set_user_active(current_principal(), email, change == "activate")
            flash(_("User %(email)s activated.", email=email) if change == "activate"
                  else _("User %(email)s deactivated.", email=email))
        except DomainError as exc:
            _refused(exc)
    return redirect(url_for(".users"), 303)


@bp.post("/organisations")
@allow(Role.ADMIN)
def create_organisation():
    form = OrganisationForm()
    if not form.validate():
        return _users_page(org_form=form, status=422)
    try:
        service.create_organisation(current_principal(), form.code.data, form.name.data.strip(),
                                    OrganisationKind(form.kind.data))
    except DomainError as exc:
        _refused(exc)
        return _users_page(org_form=form, status=exc.status)
    flash(_("Organisation %(code)s created.", code=form.code.data))
    return redirect(url_for(".users"), 303)


@bp.post("/organisations/<code>/<any(activate, deactivate):change>")
@allow(Role.ADMIN)
def set_organisation_active(code: str, change: str):
    if ActionForm().validate():
        try:
            service.set_organisation_active(current_principal(), code, change == "activate")
            flash(_("Organisation %(code)s activated.", code=code) if change == "activate"
                  else _("Organisation %(code)s deactivated.", code=code))
        except DomainError as exc:
            _refused(exc)
    return redirect(url_for(".users"), 303)


# ---------------------------------------------------------------- API keys

def _keys_page(form: KeyForm | None = None, issued=None, status: int = 200):
    return _no_store(render_template("backoffice/keys.html", keys=service.list_keys(),
                                     form=form or KeyForm(formdata=None), issued=issued,
                                     action=ActionForm(formdata=None)), status)


@bp.get("/keys")
@allow(Role.ADMIN)
def keys():
    return _keys_page()


@bp.post("/keys")
@allow(Role.ADMIN)
def issue_key():
    form = KeyForm()
    if not form.validate():
        return _keys_page(form, status=422)
    try:
        issued = service.issue_key(current_principal(), form.owner.data.strip(), form.name.data.strip())
    except DomainError as exc:
        _refused(exc)
        return _keys_page(form, status=exc.status)
    return _keys_page(issued=issued, status=201)  # shown once: this answer is not cached, the key not kept


@bp.post("/keys/<prefix>/revoke")
@allow(Role.ADMIN)
def revoke_key(prefix: str):
    if ActionForm().validate():
        service.revoke_key(current_principal(), prefix)
        flash(_("Key %(prefix)s… revoked.", prefix=prefix))
    return redirect(url_for(".keys"), 303)


@bp.get("/audit")
@allow(Role.ADMIN)
def audit():
    return render_template("backoffice/audit.html", events=service.audit_trail())
