"""Web security plumbing: the reverse proxy, response headers, and personal data kept out of logs.

- **Proxy**: ``TRUSTED_PROXY_COUNT`` proxies in front of the app (0: none) are trusted for
  ``X-Forwarded-For``, ``-Proto`` and ``-Host`` (Werkzeug's ``ProxyFix``), so each citizen has their
  own IP for the rate limits and an https request is known as such (Secure cookies, HSTS).
- **Headers** on every response: a Content-Security-Policy (scripts from this origin, or inline ones
  carrying the request's nonce: ``<script nonce="{{ csp_nonce() }}">``; no framing), X-Frame-Options,
  X-Content-Type-Options, Referrer-Policy (a view that sets its own keeps it) and, over https,
  Strict-Transport-Security.
- **Logs**: ``RedactingFilter`` rewrites a record's text so that tracking and receipt tokens
  (``/t/<token>``, ``/r/<token>``), sensitive query strings (``?q=…`` and the like), CCCD numbers
  and phone numbers never reach a log line. It is installed on Werkzeug's request logger and the
  app's handlers; ``RedactingGunicornLogger`` does the same for gunicorn's access and error logs
  (``logger_class`` in ``gunicorn.conf.py``).
"""

from __future__ import annotations

import logging
import re
import secrets
import traceback
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from core.settings import settings

# ---------------------------------------------------------------- the reverse proxy


def apply_proxy_fix(app: Flask) -> None:
    count = int(app.config.get("TRUSTED_PROXY_COUNT") or 0)
    if count > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)


def request_is_https() -> bool:
    """Whether the client reached us over https (after ProxyFix, so behind the proxy too)."""
    return request.is_secure


# ---------------------------------------------------------------- response headers

# Pages of libraries that inline their scripts and cannot take a nonce (rq-dashboard, admins only: inline
# scripts and underscore templates, which compile with Function()); framing and the rest stay as strict.
RELAXED_SCRIPT_PREFIXES = ("/admin/rq",)


def csp_nonce() -> str:
    """This request's CSP nonce (one per request, made when a template first asks for it)."""
    nonce = g.get("_csp_nonce")
    if nonce is None:
        nonce = g._csp_nonce = secrets.token_urlsafe(18)
    return nonce


def _origin(url: str) -> str | None:
    parts = urlsplit(url.replace("{s}", "a").split("{", 1)[0]) if url else None
    return f"{parts.scheme}://{parts.netloc}" if parts and parts.scheme and parts.netloc else None


def content_security_policy(nonce: str | None, relaxed_scripts: bool = False) -> str:
    """The policy; ``nonce`` only when the page used one (so pages without inline scripts, such as the
    tracking page's identical 404s, carry identical headers)."""
    config = current_app.config
    images = ["'self'", "data:", "blob:"]
    tiles = _origin(str(config.get("MAP_TILE_URL") or ""))
    if tiles:
        tile_url = str(config["MAP_TILE_URL"])
        # Leaflet's {s} subdomains (a.tile…, b.tile…) share one wildcard.
        images.append(tiles.replace("://a.", "://*.") if "{s}" in tile_url else tiles)
    if relaxed_scripts:
        scripts = "'self' 'unsafe-inline' 'unsafe-eval'"
    else:
        scripts = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
    directives = {
        "default-src": "'self'",
        "script-src": scripts,
        "style-src": "'self' 'unsafe-inline'",  # style attributes in markup; scripts are the danger
        "img-src": " ".join(images),
        "font-src": "'self' data:",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def _security_headers(response: Response) -> Response:
    headers = response.headers
    relaxed = any(request.path == p or request.path.startswith(p + "/") for p in RELAXED_SCRIPT_PREFIXES)
    headers.setdefault("Content-Security-Policy", content_security_policy(g.get("_csp_nonce"), relaxed))
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request_is_https():
        max_age = int(settings().hsts_max_age_s)
        if max_age > 0:
            headers.setdefault("Strict-Transport-Security", f"max-age={max_age}")
    return response


def init_security(app: Flask) -> None:
    """Proxy trust, security headers on every response, ``csp_nonce()`` in templates, log redaction."""
    apply_proxy_fix(app)
    app.after_request(_security_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    install_log_redaction()


# ---------------------------------------------------------------- logs without personal data

REDACTED = "[redacted]"
_SENSITIVE_PARAMS = ("q", "query", "cccd", "citizen_id", "id_number", "phone", "token", "key", "api_key",
                     "email", "name", "last4", "password", "next")
_PATTERNS = (
    # A tracking or receipt link's token, wherever it appears (a path, a full URL, a referer).
    (re.compile(r"(/[tr]/)[A-Za-z0-9_\-.~%]+"), r"\1" + REDACTED),
    # The value of a sensitive query parameter (next= may carry a path with one).
    (re.compile(r"([?&;](?:" + "|".join(_SENSITIVE_PARAMS) + r")=)[^&\s\"']*", re.IGNORECASE), r"\1" + REDACTED),
    # Bearer keys and the app's key format.
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9_\-.=]+"), r"\1" + REDACTED),
    (re.compile(r"\bhpa_[A-Za-z0-9_\-]+"), "hpa_" + REDACTED),
    # Vietnamese phone numbers (+84…, 84…, 0…) and 12-digit citizen identity numbers (CCCD).
    (re.compile(r"(?<![\w.])(?:\+?84|0)(?:[\s.\-]?\d){9}(?!\d)"), "[phone]"),
    (re.compile(r"(?<![\w.])\d{12}(?!\d)"), "[cccd]"),
)


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's message (and its traceback) with ``redact``; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_redacted", False):
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: leave it to the handler's own error path
            return True
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record._redacted = True
        return True


REDACTING_FILTER = RedactingFilter()
# Loggers whose records carry request lines or errors: filtered where the record is made, so every
# handler (the console, a file, pytest's caplog) only ever sees the redacted text.
REDACTED_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error", "core.errors", "flask.app",
                    "sqlalchemy.engine", "core.outbox", "core.jobs", "rq.worker")


def install_log_redaction() -> None:
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if REDACTING_FILTER not in logger.filters:
            logger.addFilter(REDACTING_FILTER)
    for handler in logging.getLogger().handlers:  # the app's own console handler: every other logger
        if REDACTING_FILTER not in handler.filters:
            handler.addFilter(REDACTING_FILTER)


try:  # gunicorn is a runtime dependency, but the app also runs without it (make run, tests)
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover
    _GunicornLogger = None

if _GunicornLogger is not None:
    class RedactingGunicornLogger(_GunicornLogger):
        """Gunicorn's logger with ``RedactingFilter`` on its access and error logs (``logger_class``)."""

        def setup(self, cfg) -> None:
            super().setup(cfg)
            for logger in (self.access_log, self.error_log):
                if REDACTING_FILTER not in logger.filters:
                    logger.addFilter(REDACTING_FILTER)
