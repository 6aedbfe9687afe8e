"""Sign-in, sign-out and where each role lands."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, send_from_directory, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from core import accounts, sign_in_guard
from core.auth import STAFF, allow, public
from core.errors import Unauthorized
from core.forms import SignInForm
from core.messages import Text
from core.roles import Role
from core.web import cookie_secure

bp = Blueprint("web", __name__, template_folder="templates")
STATIC_DIR = Path(__file__).with_name("static")

HOME_BY_ROLE = {Role.AGENT: "agent_portal.home", Role.BRANCH_OFFICER: "branch_workspace.queue",
                Role.LEADERSHIP: "monitoring.overview"}


def _home_for(role: Role) -> str:
    return url_for(HOME_BY_ROLE.get(role, "web.staff_home"))


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: never redirect a signed-in user to another host."""
    if not target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and target.startswith("/") else None


@bp.route("/")
@public
def index():
    if current_user.is_authenticated:
        return redirect(_home_for(current_user.role))
    return redirect(url_for("web.login"))


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    form = SignInForm()
    if form.validate_on_submit():
        device = sign_in_guard.device_from(request.cookies.get(sign_in_guard.DEVICE_COOKIE))
        try:
            user = accounts.sign_in(form.email.data, form.password.data, ip=request.remote_addr, device=device)
        except accounts.SignInRefused as exc:
            form.password.errors.append(exc.detail.get(str(get_locale())))
        else:
            login_user(user)
            response = redirect(_safe_next(request.args.get("next")) or _home_for(user.role))
            # This device is known from now on: others' failures will not lock this user out of it.
            response.set_cookie(sign_in_guard.DEVICE_COOKIE, sign_in_guard.device_token(user.id),
                                max_age=sign_in_guard.device_max_age(), path="/login", httponly=True,
                                samesite="Lax", secure=cookie_secure())
            return response
    return render_template("core/login.html", form=form), 200 if not form.errors else 422


@bp.route("/logout", methods=["POST"])
@public
def logout():
    logout_user()
    flash(_("You have signed out."))
    return redirect(url_for("web.login"))


_SESSION_PAGE = Text("Trang này dành cho người dùng đã đăng nhập; khóa API chỉ dùng cho /api/v1.",
                     "This page is for signed-in people; API keys are for /api/v1.")


@bp.route("/staff")
@allow(*STAFF)
def staff_home():
    if not current_user.is_authenticated:  # a staff member's bearer key: it has no person to welcome
        raise Unauthorized(_SESSION_PAGE)
    return render_template("core/staff_home.html")


@bp.route("/favicon.ico")
@public
def favicon():
    """Browsers ask for /favicon.ico on every page; the pages also link it from core/static."""
    return send_from_directory(STATIC_DIR, "favicon.ico", mimetype="image/vnd.microsoft.icon", max_age=86400)


@bp.route("/static/core/<path:filename>")
@public
def core_static(filename: str):
    return send_from_directory(STATIC_DIR, filename, max_age=86400)
