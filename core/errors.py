"""One error format for the whole API: ``application/problem+json`` (RFC 9457).

Domain code raises ``DomainError`` subclasses; marshmallow/webargs validation
errors, 404s and every other HTTP error go through the same handler. Every
problem carries Vietnamese and English text; ``title``/``detail`` follow the
request's Accept-Language (Vietnamese by default).
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from flask import Flask, Response, json, render_template_string, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from core.messages import Text, field_text

log = logging.getLogger(__name__)

PROBLEM_TYPE_BASE = "/problems/"


class DomainError(Exception):
    """Base of every expected, user-facing failure of a use case."""

    status: int = 400
    code: str = "bad_request"
    title: Text = Text("Yêu cầu không hợp lệ", "Bad request")

    def __init__(
        self,
        detail: Text | None = None,
        *,
        errors: list[dict] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail.en if detail else self.title.en)
        self.detail = detail
        self.errors = errors or []
        self.extra = extra


class NotFound(DomainError):
    status = 404
    code = "not_found"
    title = Text("Không tìm thấy", "Not found")


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    title = Text("Không có quyền", "Forbidden")


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
    title = Text("Chưa xác thực", "Unauthorized")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = Text("Xung đột trạng thái", "Conflict")


class InvalidInput(DomainError):
    status = 422
    code = "validation_error"
    title = Text("Dữ liệu không hợp lệ", "Invalid input")


def field_error(field: str, message: str, location: str = "json") -> dict:
    """One entry of a problem's ``errors`` list, from an English message."""
    text = field_text(message)
    return {"field": field, "location": location, "message_vi": text.vi, "message_en": text.en}


def invalid(field: str, message: str, location: str = "json") -> InvalidInput:
    """A 422 naming one field."""
    error = field_error(field, message, location)
    return InvalidInput(
        Text(f"{field}: {error['message_vi']}", f"{field}: {error['message_en']}"),
        errors=[error],
    )


def flatten_messages(messages: Any, prefix: str = "", location: str = "json") -> list[dict]:
    """Turn marshmallow's nested ``{"a": {"b": ["msg"]}}`` into field errors ``a.b``."""
    out: list[dict] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.extend(flatten_messages(value, name, location))
    elif isinstance(messages, (list, tuple)):
        for item in messages:
            if isinstance(item, (dict, list)):
                out.extend(flatten_messages(item, prefix, location))
            else:
                out.append(field_error(prefix or "_schema", str(item), location))
    else:
        out.append(field_error(prefix or "_schema", str(messages), location))
    return out


def _lang() -> str:
    return request.accept_languages.best_match(["vi", "en"], default="vi") or "vi"


def problem_response(
    status: int,
    code: str,
    title: Text,
    detail: Text | None = None,
    errors: list[dict] | None = None,
    extra: dict | None = None,
    headers: dict | None = None,
) -> Response:
    lang = _lang()
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title.get(lang),
        "status": status,
        "code": code,
    }
    if detail:
        body["detail"] = detail.get(lang)
    body["title_vi"], body["title_en"] = title.vi, title.en
    if detail:
        body["detail_vi"], body["detail_en"] = detail.vi, detail.en
    if errors:
        body["errors"] = [
            {**e, "message": e["message_vi"] if lang == "vi" else e["message_en"]} for e in errors
        ]
    body["instance"] = request.path
    if extra:
        body.update(extra)
    response = Response(json.dumps(body, ensure_ascii=False), status=status,
                        mimetype="application/problem+json")
    response.headers["Content-Language"] = lang
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


HTTP_TITLES = {
    400: Text("Yêu cầu không hợp lệ", "Bad request"),
    401: Text("Chưa xác thực", "Unauthorized"),
    403: Text("Không có quyền", "Forbidden"),
    404: Text("Không tìm thấy", "Not found"),
    405: Text("Phương thức không được hỗ trợ", "Method not allowed"),
    409: Text("Xung đột trạng thái", "Conflict"),
    413: Text("Tệp hoặc nội dung quá lớn", "Content too large"),
    415: Text("Kiểu nội dung không được hỗ trợ", "Unsupported media type"),
    422: Text("Dữ liệu không hợp lệ", "Invalid input"),
    428: Text("Thiếu điều kiện tiên quyết", "Precondition required"),
    429: Text("Quá nhiều yêu cầu", "Too many requests"),
    500: Text("Lỗi hệ thống", "Internal server error"),
    503: Text("Dịch vụ tạm thời không sẵn sàng", "Service unavailable"),
}

HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "validation_error", 428: "precondition_required",
    429: "too_many_requests", 500: "internal_error", 503: "service_unavailable",
}

_HTML_PAGE = """<!doctype html><html lang="vi"><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{ title.vi }}</title>
<link rel="icon" href="/favicon.ico">
<body style="font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem"><main>
<h1>{{ status }} — {{ title.vi }}</h1><p lang="en">{{ title.en }}</p>
{% if detail %}<p>{{ detail.vi }}</p><p lang="en">{{ detail.en }}</p>{% endif %}
<p><a href="/">Về trang chủ / Home</a></p></main></body></html>"""


def _wants_html() -> bool:
    if request.path.startswith("/api/") or request.path == "/healthz":
        return False
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html"


def _http_problem(status: int, detail: Text | None = None, errors=None, headers=None) -> Response:
    title = HTTP_TITLES.get(status, Text("Lỗi", "Error"))
    if _wants_html():
        return Response(render_template_string(_HTML_PAGE, title=title, status=status),
                        status=status, mimetype="text/html")
    return problem_response(status, HTTP_CODES.get(status, "error"), title, detail,
                            errors, headers=headers)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def handle_domain_error(exc: DomainError):
        if _wants_html():
            return Response(render_template_string(_HTML_PAGE, title=exc.title, status=exc.status, detail=exc.detail),
                            status=exc.status, mimetype="text/html")
        headers = {"WWW-Authenticate": 'Bearer realm="api"'} if exc.status == 401 else None
        return problem_response(exc.status, exc.code, exc.title, exc.detail, exc.errors,
                                exc.extra, headers)

    @app.errorhandler(ValidationError)
    def handle_validation_error(exc: ValidationError):
        errors = flatten_messages(exc.messages)
        return problem_response(422, "validation_error", HTTP_TITLES[422], _summary(errors), errors)

    @app.errorhandler(HTTPException)
    def handle_http_error(exc: HTTPException):
        status = exc.code or 500
        data = getattr(exc, "data", None) or {}
        messages = data.get("messages")
        if status == 422 and messages:
            # webargs/flask-smorest: {"json": {...}, "headers": {...}, "form": {...}}
            errors: list[dict] = []
            for location, per_location in messages.items():
                errors.extend(flatten_messages(per_location, location=location))
            return problem_response(422, "validation_error", HTTP_TITLES[422],
                                    _summary(errors), errors)
        headers = {"Allow": ", ".join(exc.valid_methods)} if getattr(exc, "valid_methods", None) else None
        return _http_problem(status, headers=headers)

    register_database_unavailable(app)

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        log_unexpected(exc)
        return _http_problem(500)


def log_unexpected(exc: Exception) -> None:
    """Log an unhandled error without the personal data it may carry.

    A database error's text holds the statement's parameters (a citizen's CCCD, phone, name) and the
    driver's detail (``Key (cccd)=(…)``): it is logged as its kind, the driver's error class and SQLSTATE,
    the statement without parameters, and the stack's frames, never the values. Other errors keep their
    traceback; core/security.py's filter on this logger redacts tokens, CCCD and phone numbers in it.
    """
    from sqlalchemy.exc import StatementError

    if isinstance(exc, StatementError):
        orig = exc.orig
        driver = f"{type(orig).__module__}.{type(orig).__name__}" if orig is not None else "-"
        sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None) or "-"
        statement = " ".join(str(exc.statement or "").split())[:500]
        frames = "".join(traceback.format_tb(exc.__traceback__))
        log.error("unhandled %s (%s, SQLSTATE %s) on %s %s; statement (parameters not logged): %s\n%s",
                  type(exc).__name__, driver, sqlstate, request.method, request.path, statement, frames)
        return
    log.exception("unhandled error on %s %s", request.method, request.path)


DATABASE_UNAVAILABLE = Text("Cơ sở dữ liệu tạm thời không truy cập được, vui lòng thử lại sau giây lát.",
                            "The database is briefly unreachable; please try again in a moment.")


def register_database_unavailable(app: Flask) -> None:
    """The database down or restarting (connection refused or lost, pool exhausted): 503 + Retry-After, not 500.

    The session is rolled back, so nothing of the request was written. A connection that died in the
    pool is replaced at checkout (``pool_pre_ping``, core/config.py): only requests made while the
    database is really down get this answer.
    """
    from sqlalchemy.exc import InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)
    def handle_database_unavailable(exc: Exception):
        from core.extensions import db

        if not _is_unavailable(exc):  # a fault in the statement itself (SQLite says OperationalError too)
            log_unexpected(exc)
            return _http_problem(500)
        log.warning("database unavailable on %s %s: %s", request.method, request.path,
                    str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the connection is gone; the session is discarded at teardown
            log.debug("rollback after a lost database connection failed", exc_info=True)
        response = _http_problem(503, DATABASE_UNAVAILABLE)
        response.headers["Retry-After"] = str(int(app.config["DATABASE_RETRY_AFTER_S"]))
        return response


# SQLite raises OperationalError for a bad statement too ("no such table"); only these mean it is unavailable.
_SQLITE_UNAVAILABLE = ("database is locked", "unable to open database", "disk i/o error")


def _is_unavailable(exc: Exception) -> bool:
    """The database cannot be reached or used right now (rather than a statement it refused)."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    orig = getattr(exc, "orig", None)
    if isinstance(exc, OperationalError) and isinstance(orig, sqlite3.OperationalError):
        return any(words in str(orig).lower() for words in _SQLITE_UNAVAILABLE)
    return True


def _summary(errors: list[dict]) -> Text:
    fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
    return Text(f"Kiểm tra lại các trường: {fields}.", f"Check these fields: {fields}.")
