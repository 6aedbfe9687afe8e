"""Looking at and acting on jobs (``flask jobs failed|requeue|stats``), and rq-dashboard for admins.

The relay and the rq jobs themselves are in ``core.jobs``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps

from flask import Flask, abort, current_app, g, request
from rq import Queue
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from sqlalchemy import func, select, update

from core import outbox
from core.extensions import db
from core.jobs import DASHBOARD_PREFIX, job_id, message_id_of, queue_names, redis_connection
from core.outbox import OutboxMessage
from core.timeutil import utcnow

# ---------------------------------------------------------------- looking at jobs (flask jobs …)

def failed_messages(limit: int = 200) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == "failed")
                                   .order_by(OutboxMessage.finished_at.desc(), OutboxMessage.id.desc()).limit(limit)))


def requeue_messages(ids: list[int] | None) -> list[int]:
    """Put failed messages (the given ids, or all with None) back to pending, due now, attempts reset."""
    query = update(OutboxMessage).where(OutboxMessage.status == "failed")
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    requeued = db.session.execute(
        query.values(status="pending", due_at=utcnow(), attempts=0, claimed_until=None, finished_at=None)
        .returning(OutboxMessage.id).execution_options(synchronize_session=False)
    ).scalars().all()
    db.session.commit()
    outbox.wake()
    return sorted(requeued)


def failed_jobs() -> list[dict]:
    """rq's failed jobs on our queues (infrastructure failures: handler errors stay in the outbox)."""
    connection = redis_connection()
    found = []
    for name in queue_names():
        registry = FailedJobRegistry(name, connection=connection)
        ids = registry.get_job_ids()
        for rq_id, job in zip(ids, Job.fetch_many(ids, connection=connection), strict=True):
            result = job.latest_result() if job is not None else None
            found.append({"job_id": rq_id, "queue": name, "message_id": message_id_of(rq_id),
                          "ended_at": job.ended_at if job is not None else None,
                          "error": _exception_line(result.exc_string if result is not None else None)})
    return found


def _exception_line(traceback_text: str | None) -> str:
    """``module.Error: message`` from a formatted traceback (its last such line)."""
    lines = [line for line in (traceback_text or "").splitlines()
             if re.match(r"[A-Za-z_][\w.]*(: |$)", line) and not line.startswith("Traceback")]
    return lines[-1] if lines else (traceback_text or "").strip()[-200:]


def requeue_jobs(message_ids: list[int] | None) -> list[str]:
    """Requeue rq's failed jobs (for these outbox ids, or all with None); returns the job ids."""
    connection = redis_connection()
    wanted = None if message_ids is None else {job_id(i) for i in message_ids}
    requeued = []
    for name in queue_names():
        registry = FailedJobRegistry(name, connection=connection)
        for rq_id in registry.get_job_ids():
            if wanted is None or rq_id in wanted:
                try:
                    registry.requeue(rq_id)
                except (NoSuchJobError, InvalidJobOperation):  # expired or taken meanwhile: the outbox still has it
                    registry.remove(rq_id)
                    continue
                requeued.append(rq_id)
    return requeued


def stats() -> dict:
    counts = db.session.execute(select(OutboxMessage.status, OutboxMessage.topic, func.count())
                                .group_by(OutboxMessage.status, OutboxMessage.topic)
                                .order_by(OutboxMessage.status, OutboxMessage.topic)).all()
    result: dict = {"outbox": [(status, topic, n) for status, topic, n in counts], "queues": []}
    if current_app.config.get("REDIS_URL"):
        connection = redis_connection()
        for name in queue_names():
            queue = Queue(name, connection=connection)
            result["queues"].append({
                "queue": name, "waiting": queue.count,
                "running": StartedJobRegistry(name, connection=connection).count,
                "scheduled": ScheduledJobRegistry(name, connection=connection).count,
                "failed": FailedJobRegistry(name, connection=connection).count,
            })
    return result


# ---------------------------------------------------------------- rq-dashboard for admins

def init_jobs(app: Flask) -> None:
    """Mount rq-dashboard at /admin/rq for admins when ``RQ_DASHBOARD`` is on and ``REDIS_URL`` set."""
    if app.config.get("RQ_DASHBOARD") and app.config.get("REDIS_URL"):
        mount_dashboard(app)


def mount_dashboard(app: Flask, url_prefix: str = DASHBOARD_PREFIX) -> None:
    import rq_dashboard
    from rq_dashboard.web import setup_rq_connection

    from core.auth import AccessRule
    from core.roles import Role

    app.config.setdefault("RQ_DASHBOARD_REDIS_URL", app.config["REDIS_URL"])
    setup_rq_connection(app)
    app.register_blueprint(rq_dashboard.blueprint, url_prefix=url_prefix)
    admin_only = AccessRule(public=False, roles=frozenset({Role.ADMIN}))
    name = rq_dashboard.blueprint.name
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.split(".", 1)[0] == name:
            # Wrapped, not annotated: the library's functions (and its bound static view) stay untouched.
            app.view_functions[endpoint] = _with_rule(view, admin_only, post_only=endpoint == f"{name}.requeue_all")

    @app.after_request
    def _dashboard_csrf_cookie(response):
        # The dashboard's script sends the cookie ``_csrf_token`` back as X-CSRFToken on its POSTs
        # (requeue, delete), which is what Flask-WTF checks: CSRF protection stays on for it.
        if request.blueprint == name and g.get("principal") is not None and response.mimetype == "text/html":
            from flask_wtf.csrf import generate_csrf

            response.set_cookie("_csrf_token", generate_csrf(), path=url_prefix, samesite="Strict",
                                secure=request.is_secure, httponly=False)
        return response


def _with_rule(view: Callable, rule, post_only: bool = False) -> Callable:
    @wraps(view)
    def guarded(*args, **kwargs):
        if post_only and request.method != "POST":  # the library also answers GET, which CSRF does not cover
            abort(405)
        return view(*args, **kwargs)

    guarded.access_rule = rule
    return guarded
