"""The configured gateway client: a Stripe-compatible gateway at ``PAYMENT_GATEWAY_URL``, or, with the
URL empty, the one a mounted dev plugin provides (the sandbox gateway, sandboxes/gateway)."""

from __future__ import annotations

from flask import current_app

from payments.gateway import GatewayClient


def gateway() -> GatewayClient:
    """One client per app (its ``requests`` session keeps connections alive)."""
    app = current_app._get_current_object()
    client = app.extensions.get("payment_gateway")
    if client is None:
        config = app.config
        if config.get("PAYMENT_GATEWAY_URL"):
            client = GatewayClient(config["PAYMENT_GATEWAY_URL"], config["PAYMENT_GATEWAY_KEY"],
                                   timeout=(3.05, float(config["PAYMENT_GATEWAY_TIMEOUT_S"])))
        else:
            factory = app.extensions.get("payment_gateway_factory")
            if factory is None:
                raise RuntimeError("PAYMENT_GATEWAY_URL is empty and no sandbox gateway is mounted")
            client = factory(app)
        app.extensions["payment_gateway"] = client
    return client
