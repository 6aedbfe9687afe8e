"""The citizen's tracking page: /t/<token>, public, personal data masked, built for a phone.

``GET /t/<token>`` the page (Vietnamese; ``?lang=en``), ``GET /t/<token>.json`` the same for
apps (tracking/document.py documents its shape), ``POST /t/<token>/feedback`` the rating once
the result is in the citizen's hands, ``POST /t/<token>/reschedule`` a new delivery slot after
a failed attempt. Every answer is private: not stored by browsers or proxies, not indexed, no
referrer sent on; the pages are rate-limited per client IP (tracking/limits.py) and kept a few
seconds in this process (tracking/cache.py). An unknown or expired token is a 404 with one
fixed body.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from datetime import datetime
from functools import lru_cache

from babel.dates import format_datetime
from flask import Blueprint, Response, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale, get_translations
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from jinja2 import pass_context
from markupsafe import Markup
from werkzeug.exceptions import TooManyRequests
from wtforms.fields.choices import SelectChoice

from core.auth import public
from core.errors import DomainError
from core.messages import Text
from core.settings import settings
from core.timeutil import LOCAL_TZ, as_utc
from core.web import local_datetime
from dossiers.labels import status_label
from tracking import cache as page_cache
from tracking import document, labels
from tracking import service as tracking
from tracking.errors import RescheduleUnavailable
from tracking.forms import FeedbackForm, RescheduleForm
from tracking.limits import init_limiter

bp = Blueprint("tracking", __name__, template_folder="templates")
bp.record_once(lambda state: init_limiter(state.app, bp))

PRIVATE_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "private, no-store",
    "X-Content-Type-Options": "nosniff",
}
# One body for every token that opens nothing (unknown, malformed, expired): it says nothing more.
NOT_FOUND_HTML = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>Không tìm thấy · Not found</title></head>
<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem">
<h1>Không tìm thấy</h1><p>Liên kết không đúng hoặc không còn hiệu lực.</p>
<p lang="en">Not found: the link is wrong or no longer valid.</p>
</body></html>
"""
NOT_FOUND_JSON = json.dumps({"status": 404, "code": "not_found", "title": "Không tìm thấy", "title_en": "Not found"},
                            ensure_ascii=False)
TOO_MANY_HTML = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>Quá nhiều yêu cầu · Too many requests</title></head>
<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem">
<h1>Quá nhiều yêu cầu</h1><p>Vui lòng thử lại sau ít phút.</p>
<p lang="en">Too many requests: please try again in a few minutes.</p>
</body></html>
"""
TOO_MANY_JSON = json.dumps({"status": 429, "code": "too_many_requests", "title": "Quá nhiều yêu cầu",
                            "title_en": "Too many requests"}, ensure_ascii=False)


@bp.after_request
def _private(response: Response) -> Response:
    response.headers.update(PRIVATE_HEADERS)
    return response


@bp.errorhandler(429)
def _too_many(exc: TooManyRequests):
    as_json = request.path.endswith(".json")
    response = Response(TOO_MANY_JSON if as_json else TOO_MANY_HTML, status=429,
                        mimetype="application/json" if as_json else "text/html")
    limit = getattr(getattr(exc, "limit", None), "limit", None)
    response.headers["Retry-After"] = str(limit.get_expiry() if limit is not None else 60)
    return response


def _not_found(as_json: bool = False) -> Response:
    if as_json:
        return Response(NOT_FOUND_JSON, status=404, mimetype="application/json")
    return Response(NOT_FOUND_HTML, status=404, mimetype="text/html")


def _lang() -> str:
    return str(get_locale())


def _slot_label(slot: dict) -> str:
    """Th 5 13/3 08:00–12:00 (a slot falls within one day)."""
    return f'{local_datetime(slot["start"], "EEE d/M HH:mm")}–{local_datetime(slot["end"], "HH:mm")}'


def _slot_choices(page: dict) -> list[SelectChoice]:
    delivery = page["delivery"]
    if not delivery or not delivery["can_reschedule"]:
        return []
    return [SelectChoice(slot["start"].isoformat(), _slot_label(slot)) for slot in delivery["slots"]]


def _gettext_for(translations):
    """``_()`` in the template, bound once per page to the request's catalogue (Flask-Babel looks the
    catalogue up again on every call); the same new-style behaviour: autoescaped, %(name)s filled."""
    @pass_context
    def gettext(context, string: str, **variables) -> str:
        text = translations.gettext(string)
        if context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704 - a catalogue string, marked safe as Jinja's own gettext does
        return text % variables

    return gettext


@lru_cache(maxsize=8192)
def _when(value: datetime, lang: str, fmt: str = "short") -> str:
    """A time as people read it in Hanoi (memoised: a dossier's times come back on every view)."""
    return format_datetime(as_utc(value), fmt, tzinfo=LOCAL_TZ, locale=lang)


@lru_cache(maxsize=64)
def _status_text(code: str, lang: str) -> str:
    return status_label(code)  # the request's locale is ``lang``


def _render(token: str, page: dict, *, feedback_form: FeedbackForm | None = None,
            reschedule_form: RescheduleForm | None = None, problem: Text | None = None,
            problem_at: str | None = None, status: int = 200) -> Response:
    lang = _lang()
    delivery = page["delivery"]
    if page["feedback"]["open"] and not page["feedback"]["given"] and feedback_form is None:
        feedback_form = FeedbackForm()
    if delivery and delivery["can_reschedule"] and reschedule_form is None:
        reschedule_form = RescheduleForm()
    if reschedule_form is not None:
        reschedule_form.slot.choices = _slot_choices(page)
    html = render_template(
        "tracking/page.html", p=page, token=token, lang=lang, labels=labels,
        gettext=_gettext_for(get_translations()), when=lambda value, fmt="short": _when(value, lang, fmt),
        status_text=lambda code: _status_text(code, lang),
        procedure_name=document.procedure_name(page, lang),
        timeliness=labels.timeliness_label(page["timeliness"]["code"], page["timeliness"]["final"]),
        feedback_form=feedback_form, reschedule_form=reschedule_form,
        problem=problem.get(lang) if problem else None, problem_at=problem_at)
    return Response(html, status=status, mimetype="text/html")


def _problem(exc: DomainError) -> Text:
    return exc.detail or exc.title


def _cache_ttl() -> float:
    return float(settings().tracking_page_cache_s or 0)


def _cacheable() -> bool:
    """Not after a form was posted (the redirect carries a flashed message): that view must be fresh."""
    return _cache_ttl() > 0 and "_flashes" not in session


def _fill(body: str, token: str) -> str:
    """A cached page for this link and this visitor: their token in the forms' addresses, their CSRF token."""
    if page_cache.TOKEN_MARK in body:
        body = body.replace(page_cache.TOKEN_MARK, token)
    if page_cache.CSRF_MARK in body:
        body = body.replace(page_cache.CSRF_MARK, generate_csrf())
    return body


def _from_cache(kind: str, token: str) -> str | None:
    if not _cacheable():
        return None
    dossier_id = page_cache.dossier_of(tracking.token_hash(token))
    body = None if dossier_id is None else page_cache.get((kind, dossier_id, _lang()))
    return None if body is None else _fill(body, token)


def _fingerprint(data: dict) -> bytes:
    return hashlib.blake2b(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL), digest_size=16).digest()


def _build(kind: str, token: str, data: dict, build) -> str:
    """The page for ``data``; when caching, stored, and not rendered again if the data did not change."""
    if not _cacheable():
        return build()
    ttl = _cache_ttl()
    page_cache.remember_link(tracking.token_hash(token), data["dossier_id"])
    key, fingerprint = (kind, data["dossier_id"], _lang()), _fingerprint(data)
    body = page_cache.same_as_before(key, fingerprint)
    if body is not None:
        page_cache.put(key, body, ttl, fingerprint)
        return _fill(body, token)
    body = build()
    stored = body.replace(token, page_cache.TOKEN_MARK)
    if 'name="csrf_token"' in stored:
        stored = stored.replace(generate_csrf(), page_cache.CSRF_MARK)
    page_cache.put(key, stored, ttl, fingerprint)
    return body


@bp.get("/t/<token>")
@public
def page(token: str):
    html = _from_cache("html", token)
    if html is None:
        data = tracking.page_for_token(token)
        if data is None:
            page_cache.forget_link(tracking.token_hash(token))
            return _not_found()
        html = _build("html", token, data, lambda: _render(token, data).get_data(as_text=True))
    return Response(html, mimetype="text/html")


@bp.get("/t/<token>.json")
@public
def page_json(token: str):
    body = _from_cache("json", token)
    if body is None:
        data = tracking.page_for_token(token)
        if data is None:
            page_cache.forget_link(tracking.token_hash(token))
            return _not_found(as_json=True)
        body = _build("json", token, data,
                      lambda: json.dumps(document.to_document(data, _lang()), ensure_ascii=False))
    response = Response(body, mimetype="application/json")
    response.headers["Content-Language"] = _lang()
    return response


@bp.post("/t/<token>/feedback")
@public
def feedback(token: str):
    dossier = tracking.dossier_for_token(token)
    if dossier is None:
        return _not_found()
    form = FeedbackForm()
    if not form.validate_on_submit():
        return _render(token, tracking.page_for(dossier), feedback_form=form, status=422)
    try:
        tracking.give_feedback(dossier.id, form.rating.data, form.comment.data)
    except DomainError as exc:
        return _render(token, tracking.page_for(dossier), problem=_problem(exc), problem_at="feedback",
                       status=exc.status)
    page_cache.forget_dossier(dossier.id)
    flash(_("Thank you: your rating helps us serve you better."))
    return redirect(url_for(".page", token=token) + "#feedback", code=303)


@bp.post("/t/<token>/reschedule")
@public
def reschedule(token: str):
    dossier = tracking.dossier_for_token(token)
    if dossier is None:
        return _not_found()
    data = tracking.page_for(dossier)
    if not _slot_choices(data):
        unavailable = RescheduleUnavailable(Text("Lịch giao không thể đặt lại lúc này.",
                                                 "The delivery cannot be rescheduled now."))
        return _render(token, data, problem=_problem(unavailable), problem_at="delivery", status=unavailable.status)
    form = RescheduleForm()
    form.slot.choices = _slot_choices(data)
    if not form.validate_on_submit():
        return _render(token, data, reschedule_form=form, status=422)
    try:
        tracking.reschedule(dossier.id, form.last4.data, datetime.fromisoformat(form.slot.data))
    except DomainError as exc:
        return _render(token, tracking.page_for(dossier), reschedule_form=form, problem=_problem(exc),
                       problem_at="delivery", status=exc.status)
    page_cache.forget_dossier(dossier.id)
    flash(_("Your new delivery time is booked."))
    return redirect(url_for(".page", token=token) + "#delivery", code=303)
