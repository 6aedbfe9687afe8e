"""The configured gateway client: a Stripe-compatible gateway, or the sandbox in-process."""

from __future__ import annotations

from flask import current_app

from payments.gateway import GatewayClient
from payments.inprocess import INTERNAL_BASE, session_for
from payments.sandbox.app import DEFAULT_SECRET_KEY


def gateway() -> GatewayClient:
    """One client per app (its ``requests`` session keeps connections alive)."""
    app = current_app._get_current_object()
    client = app.extensions.get("payment_gateway")
    if client is None:
        config = app.config
        timeout = (3.05, float(config["PAYMENT_GATEWAY_TIMEOUT_S"]))
        if config.get("PAYMENT_GATEWAY_URL"):
            client = GatewayClient(config["PAYMENT_GATEWAY_URL"], config["PAYMENT_GATEWAY_KEY"], timeout=timeout)
        else:
            key = config.get("PAYMENT_GATEWAY_KEY") or config.get("SANDBOX_GATEWAY_SECRET_KEY") or DEFAULT_SECRET_KEY
            client = GatewayClient(f"{INTERNAL_BASE}/sandbox-gateway/v1", key, timeout=timeout,
                                   session=session_for(app))
        app.extensions["payment_gateway"] = client
    return client
