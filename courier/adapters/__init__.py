"""Courier adapters: the configured one (``COURIER_ADAPTER``: ``sandbox`` or ``http``)."""

from __future__ import annotations

from flask import current_app

from core.extensions import db
from courier.adapters.base import CourierAdapter
from courier.adapters.http import HttpCourier
from courier.adapters.sandbox import SandboxCourier
from courier.clock import now


def build(config) -> CourierAdapter:
    kind = config.get("COURIER_ADAPTER", "sandbox")
    secret, tolerance = config.get("COURIER_WEBHOOK_SECRET", ""), int(config.get("COURIER_WEBHOOK_TOLERANCE_S", 300))
    if kind == "sandbox":
        return SandboxCourier(lambda: db.engine, clock=now,
                              failure_rate=float(config.get("COURIER_SANDBOX_FAILURE_RATE", 0.15)),
                              webhook_secret=secret, tolerance_s=tolerance)
    if kind == "http":
        return HttpCourier(config.get("COURIER_API_URL", ""), config.get("COURIER_API_KEY", ""), secret,
                           name=config.get("COURIER_NAME") or "http",
                           timeout=(3.05, float(config.get("COURIER_TIMEOUT_S", 10.0))), tolerance_s=tolerance)
    raise ValueError(f"COURIER_ADAPTER must be 'sandbox' or 'http', not {kind!r}")


def adapter() -> CourierAdapter:
    """The app's adapter, built once (tests put their own in ``app.extensions['courier_adapter']``)."""
    extensions = current_app.extensions
    if extensions.get("courier_adapter") is None:
        extensions["courier_adapter"] = build(current_app.config)
    return extensions["courier_adapter"]
