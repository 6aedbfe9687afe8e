"""The courier's "now": the platform's one clock (core.timeutil), nothing of its own.

The service decides pickup windows, attempts and polls by it, and the sandbox courier moves
shipments by it, so a test drives a whole delivery by setting the time (the ``clock`` fixture).
"""

from __future__ import annotations

from datetime import datetime

from core.timeutil import utcnow


def now() -> datetime:
    return utcnow()
