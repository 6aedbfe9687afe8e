"""The web UI's plumbing: sessions (Flask-Login), CSRF (Flask-WTF), language (Flask-Babel),
and Jinja filters that show dates, money and personal data the way people expect.

Vietnamese is the default language; ``?lang=en`` (one tap on every page) switches to English
and is remembered in a cookie. Times are stored in UTC and shown in Asia/Ho_Chi_Minh.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

from babel.dates import format_datetime
from babel.numbers import format_currency, format_decimal
from flask import Flask, current_app, g, has_request_context, make_response, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import Babel, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from core.extensions import db
from core.masking import mask_phone
from core.models import User
from core.roles import Role
from core.settings import PROJECT_ROOT, settings
from core.timeutil import LOCAL_TZ, as_utc

LANGUAGES = ("vi", "en")
LANG_COOKIE = "lang"

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.is_active else None


def select_locale() -> str:
    wanted = request.args.get("lang") or request.cookies.get(LANG_COOKIE)
    return wanted if wanted in LANGUAGES else "vi"


def _remember_language(response):
    wanted = request.args.get("lang")
    if wanted in LANGUAGES:
        response.set_cookie(LANG_COOKIE, wanted, max_age=365 * 24 * 3600, samesite="Lax",
                            secure=cookie_secure())
    return response


def cookie_secure() -> bool:
    """Cookies are Secure in production (``SESSION_COOKIE_SECURE``, on with ``APP_ENV=production``) and on
    every request that came over https, directly or through the trusted proxy (core/security.py)."""
    return bool(settings().session_cookie_secure) or (has_request_context() and request.is_secure)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, Secure whenever ``cookie_secure()`` says so."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return cookie_secure()


def money(amount: int | None) -> str:
    """150000 → "150.000 ₫" in Vietnamese, "₫150,000" in English (VND has no minor unit)."""
    if amount is None:
        return "—"
    return format_currency(amount, "VND", locale=str(get_locale()), currency_digits=True)


def number(value) -> str:
    return format_decimal(value, locale=str(get_locale()))


def local_datetime(value: datetime | None, fmt: str = "short") -> str:
    if value is None:
        return "—"
    return format_datetime(as_utc(value), fmt, tzinfo=LOCAL_TZ, locale=str(get_locale()))


def mask_id(value: str | None) -> str:
    """A CCCD shown on screen: the first three and last three digits (001******345)."""
    if not value:
        return "—"
    return value[:3] + "*" * max(0, len(value) - 6) + value[-3:]


def mask_name(value: str | None) -> str:
    """A name on a public page: the family name (first, in Vietnamese order) in full, then the
    initials of the middle and given names (Nguyễn Văn An → Nguyễn V. A.). A one-word name
    shows its initial only."""
    words = unicodedata.normalize("NFC", value or "").split()
    if not words:
        return "—"
    initials = [f"{w[0].upper()}." for w in words[1:]]
    return " ".join([words[0], *initials]) if initials else f"{words[0][0].upper()}."


ROLE_LABELS = {
    Role.AGENT: _l("Public-service agent"),
    Role.BRANCH_OFFICER: _l("Branch officer"),
    Role.FINANCE: _l("Finance"),
    Role.ADMIN: _l("Administrator"),
    Role.LEADERSHIP: _l("Centre leadership"),
}


def role_label(role: Role) -> str:
    return str(ROLE_LABELS[role])


def refusal_text(exc) -> str:
    """What a refused use case (a ``DomainError``) tells the reader, in the page's language."""
    return (exc.detail or exc.title).get(str(get_locale()))


def private_page(html: str, status: int = 200):
    """A page of money or personal data: never kept by a browser or a proxy as a stale copy."""
    response = make_response(html, status)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def has_endpoint(name: str) -> bool:
    """Whether this app serves ``name`` (menus link only to the workspaces that are mounted)."""
    return name in current_app.view_functions


def init_web(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "vi")
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Ho_Chi_Minh")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(PROJECT_ROOT / "translations"))
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # a tablet stays on a form all morning
    # Flask ships these keys (SameSite None), so setdefault would never apply: set them unless configured.
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["REMEMBER_COOKIE_SAMESITE"] = app.config.get("REMEMBER_COOKIE_SAMESITE") or "Lax"
    app.config["REMEMBER_COOKIE_SECURE"] = bool(app.config.get("SESSION_COOKIE_SECURE"))
    app.session_interface = SessionInterface()
    # Over https Flask-WTF would also demand a same-origin Referer, which the pages that must not leak
    # their URL (the tracking and receipt pages: Referrer-Policy no-referrer) never send. The CSRF token,
    # the SameSite=Lax session cookie and HSTS are the protection.
    app.config.setdefault("WTF_CSRF_SSL_STRICT", False)
    login_manager.init_app(app)
    login_manager.login_view = "web.login"
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    app.after_request(_remember_language)
    app.jinja_env.filters.update(money=money, number=number, local_datetime=local_datetime,
                                 mask_id=mask_id, mask_phone=mask_phone, mask_name=mask_name)
    app.jinja_env.globals.update(role_label=role_label, has_endpoint=has_endpoint)

    @app.context_processor
    def _languages():
        return {"current_language": str(get_locale()), "languages": LANGUAGES,
                "principal": g.get("principal")}
