"""The courier's clock: real time, or the one a test put in ``app.extensions['courier_clock']``.

The service decides pickup windows, attempts and polls by it, and the sandbox courier moves
shipments by it, so a test drives a whole delivery by setting the time.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app, has_app_context

from core.timeutil import as_utc, utcnow


def now() -> datetime:
    clock = current_app.extensions.get("courier_clock") if has_app_context() else None
    return as_utc(clock()) if clock is not None else utcnow()
