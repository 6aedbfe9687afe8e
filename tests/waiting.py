"""Waiting in tests: on an observable condition, with a generous bound, never for a fixed time.

A test that needs time to pass on the platform moves the ``clock`` fixture instead. What runs on
another clock (another thread reaching a state, a subprocess answering, rq's own scheduler) is waited
for with :func:`wait_for`: it returns as soon as the condition holds, and the bound is only there so
that a broken build fails instead of hanging; it is no assertion about speed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

GENEROUS_S = 60.0


def wait_for(condition: Callable[[], T], what: str, timeout: float = GENEROUS_S, interval: float = 0.05) -> T:
    """Poll ``condition`` until it returns something truthy, and return that; fail naming ``what``."""
    give_up = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > give_up:
            raise AssertionError(f"still waiting, after {timeout:.0f} s, for {what}")
        time.sleep(interval)
