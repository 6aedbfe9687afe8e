"""Liveness, readiness, Prometheus metrics, JSON logs, and the API docs' static assets.

- ``/healthz``: the process answers and reaches the database (liveness; 503 when it cannot).
- ``/readyz``: ready for traffic: the database answers, Redis answers (when ``REDIS_URL`` is set) and
  the database's schema is at the migrations' head. 503 with what is missing, otherwise 200.
- ``/metrics``: Prometheus text format (``prometheus_client``): requests by endpoint, method and
  status, their latency, and the outbox's messages by status (the SMS backlog among them). Guarded:
  ``Authorization: Bearer <METRICS_TOKEN>`` when that setting is set, or a signed-in admin (session or
  API key). Under gunicorn set ``PROMETHEUS_MULTIPROC_DIR`` (gunicorn.conf.py does) so that every
  worker's counts add up.
- ``LOG_FORMAT=json``: one JSON object per log line (python-json-logger), for the log collector.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from pathlib import Path

import swagger_ui_bundle
from flask import Blueprint, Flask, Response, current_app, g, jsonify, request, send_from_directory
from sqlalchemy import func, select, text

from core.auth import public
from core.config import PROJECT_ROOT
from core.extensions import db
from core.settings import settings

bp = Blueprint("health", __name__)
SWAGGER_DIR = Path(swagger_ui_bundle.swagger_ui_path)
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
log = logging.getLogger(__name__)


@bp.get("/healthz")
@public
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means not ready
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


def migration_heads() -> frozenset[str]:
    """The revisions the code expects: Alembic's heads over every version location the app's migration
    set-up names (the platform's chain and the mounted dev sandboxes' branches), read once per app."""
    from alembic.script import ScriptDirectory

    heads = current_app.extensions.get("migration_heads")
    if heads is None:
        config = current_app.extensions["migrate"].migrate.get_config(str(MIGRATIONS_DIR))
        heads = current_app.extensions["migration_heads"] = frozenset(ScriptDirectory.from_config(config).get_heads())
    return heads


def readiness() -> tuple[bool, dict]:
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any database failure means not ready
        db.session.rollback()
        checks["database"] = f"error: {type(exc).__name__}"
    if checks["database"] == "ok":
        try:
            current = set(db.session.scalars(text("SELECT version_num FROM alembic_version")))
        except Exception:  # noqa: BLE001 - no alembic_version table: never migrated
            db.session.rollback()
            current = set()
        expected = migration_heads()
        checks["migrations"] = "ok" if current == expected else (
            f"at {', '.join(sorted(current)) or 'nothing'}, expected {', '.join(sorted(expected))}")
    else:
        checks["migrations"] = "unknown"
    if settings().redis_url:
        from core.jobs import redis_connection

        try:
            redis_connection().ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001 - any Redis failure means not ready
            checks["redis"] = f"error: {type(exc).__name__}"
    return all(value == "ok" for value in checks.values()), checks


@bp.get("/readyz")
@public
def readyz():
    ready, checks = readiness()
    return jsonify(status="ok" if ready else "error", **checks), 200 if ready else 503


@bp.get("/api/v1/docs/assets/<path:filename>")
@public
def docs_asset(filename: str):
    """Swagger UI from the swagger-ui-bundle package: no CDN."""
    return send_from_directory(SWAGGER_DIR, filename, max_age=86400)


# ---------------------------------------------------------------- metrics

_metrics: dict = {}
_metrics_lock = threading.Lock()


def _request_metrics() -> dict:
    """Created once per process, after PROMETHEUS_MULTIPROC_DIR is known (gunicorn sets it before forking).
    Locked: the first requests of a threaded worker arrive at once, and registering twice is an error."""
    if _metrics:
        return _metrics
    with _metrics_lock:
        if _metrics:
            return _metrics
        from prometheus_client import Counter, Histogram

        metrics = {"requests": Counter("http_requests_total", "HTTP requests answered",
                                       ["method", "endpoint", "status"]),
                   "latency": Histogram("http_request_duration_seconds", "Time to answer an HTTP request",
                                        ["method", "endpoint"],
                                        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))}
        _metrics.update(metrics)  # both at once: a reader outside the lock sees none or both
    return _metrics


def _allowed_to_scrape() -> bool:
    from flask_login import current_user

    from core.accounts import authenticate_key, principal_for
    from core.roles import Role

    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    expected = settings().metrics_token or ""
    if scheme.lower() == "bearer" and token:
        if expected and hmac.compare_digest(token.encode(), expected.encode()):
            return True
        principal = authenticate_key(token)
        return principal is not None and principal.role is Role.ADMIN
    if current_user.is_authenticated:
        principal = principal_for(current_user)
        return principal is not None and principal.role is Role.ADMIN
    return False


@bp.get("/metrics")
@public  # open to the access layer: it answers to its own token (METRICS_TOKEN) or an admin, checked here
def metrics():
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
    from prometheus_client.core import GaugeMetricFamily

    from core.errors import problem_response
    from core.messages import Text

    if not _allowed_to_scrape():
        return problem_response(401, "unauthorized", Text("Chưa xác thực", "Unauthorized"),
                                Text("Cần mã METRICS_TOKEN hoặc tài khoản quản trị.",
                                     "The metrics need the METRICS_TOKEN or an admin account."),
                                headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    if settings().prometheus_multiproc_dir:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    from core.outbox import OutboxMessage

    outbox = GaugeMetricFamily("outbox_messages", "Outbox messages by status (pending and queued: the backlog)",
                               labels=["status"])
    for status, count in db.session.execute(select(OutboxMessage.status, func.count())
                                            .group_by(OutboxMessage.status)):
        outbox.add_metric([status], count)
    extra = CollectorRegistry()
    extra.register(_Fixed([outbox]))
    body = generate_latest(registry) + generate_latest(extra)
    return Response(body, mimetype=CONTENT_TYPE_LATEST.split(";")[0], headers={"Cache-Control": "no-store"})


class _Fixed:
    def __init__(self, families):
        self.families = families

    def collect(self):
        return self.families


def _before():
    g._metrics_started = time.perf_counter()


def _after(response):
    started = g.pop("_metrics_started", None)
    if started is not None:
        endpoint = request.endpoint or "unmatched"  # not the path: a token in it would explode the label set
        found = _request_metrics()
        found["requests"].labels(request.method, endpoint, str(response.status_code)).inc()
        found["latency"].labels(request.method, endpoint).observe(time.perf_counter() - started)
    return response


# ---------------------------------------------------------------- JSON logs

def configure_logging(app: Flask) -> None:
    """``LOG_FORMAT=json``: the root logger's handlers write one JSON object per line."""
    if str(app.config.get("LOG_FORMAT", "text")).lower() != "json":
        return
    from pythonjsonlogger.json import JsonFormatter

    formatter = JsonFormatter("%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
                              rename_fields={"asctime": "time", "levelname": "level", "name": "logger"})
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    for handler in root.handlers:
        handler.setFormatter(formatter)


@bp.record_once
def _init(state) -> None:
    """Set up with the blueprint (every app registers it): request metrics and the log format."""
    app = state.app
    configure_logging(app)
    if app.config.get("METRICS_ENABLED", True):
        app.before_request(_before)
        app.after_request(_after)
