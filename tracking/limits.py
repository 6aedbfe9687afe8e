"""The tracking pages' rate limit per client IP (Flask-Limiter).

``TRACKING_RATE_LIMIT`` (e.g. ``60/minute``; empty or ``off`` turns it off) is one budget per
client IP shared by every tracking route: the page, its JSON, the feedback and reschedule
forms. Counters live in Redis when ``REDIS_URL`` is set (shared by every worker), in memory
otherwise (per process); if Redis stops answering, the limiter counts in memory meanwhile
instead of failing the page. Behind a reverse proxy, ``TRUSTED_PROXY_COUNT`` makes the client IP the
one the proxy saw (Werkzeug's ProxyFix, core/security.py), not the proxy's.
"""

from __future__ import annotations

from functools import partial

from flask import Blueprint, Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from core.settings import settings

OFF = {"", "0", "off", "none", "false", "no"}


def enabled(app: Flask) -> bool:
    return str(app.config.get("TRACKING_RATE_LIMIT") or "").strip().lower() not in OFF


def _limit() -> str:
    return str(settings().tracking_rate_limit)


def init_limiter(app: Flask, bp: Blueprint) -> Limiter:
    """One limiter per app (its storage and switch are per app), limiting ``bp``'s routes only."""
    limiter = Limiter(
        key_func=get_remote_address,
        storage_uri=app.config.get("REDIS_URL") or "memory://",
        key_prefix="tracking",
        strategy="fixed-window",
        swallow_errors=True,  # a Redis outage must not take the citizen's page down
        in_memory_fallback_enabled=True,
        enabled=enabled(app),
    )
    limiter.shared_limit(_limit, scope="tracking")(bp)
    limiter.init_app(app)
    _only_for(app, bp.name, limiter)
    app.extensions["tracking_limiter"] = limiter
    return limiter


def _only_for(app: Flask, blueprint: str, limiter: Limiter) -> None:
    """Flask-Limiter hooks every request of the app; ours limits one blueprint, so its hooks move there
    (the API's hot paths, such as the gateway's webhooks, do not pay for a check that never applies)."""
    for registry in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs):
        hooks = registry.get(None, [])
        for hook in [h for h in hooks if getattr(h, "__self__", None) is limiter
                     or (isinstance(h, partial) and limiter in h.args)]:
            hooks.remove(hook)
            registry.setdefault(blueprint, []).append(hook)
