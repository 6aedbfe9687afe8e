"""The sandbox payment gateway: a Stripe-compatible gateway this app serves for the embedded default.

Mounted only while ``PAYMENT_GATEWAY_URL`` is empty. Its interface is the real one's: the platform's
``payments.gateway.GatewayClient`` talks to it over HTTP (``/sandbox-gateway/v1``), through an
in-process transport (inprocess.py), so the client's encoding, retries and error mapping, the
gateway's authentication, idempotency and signing, and the receiver's check all run as in production.

It signs its webhooks with its own ``SANDBOX_GATEWAY_WEBHOOK_SECRET``; the platform's receiver accepts
that secret only while the sandbox is mounted (``payment_webhook_secret_settings`` below).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from flask import Flask

NAME = "gateway"
TITLE = "the sandbox payment gateway"
WHY = "PAYMENT_GATEWAY_URL is empty"
BRANCH = "sandbox_gateway"
MIGRATIONS = Path(__file__).resolve().parent / "migrations" / "versions"
DEFAULT_SECRET_KEY = "sk_test_sandbox"  # noqa: S105 - the sandbox's published test key
DEFAULT_WEBHOOK_SECRET = "whsec_sandbox"  # noqa: S105 - the sandbox's published test secret
LIVE_KEY_PREFIXES = ("sk_live_", "rk_live_")


def wanted(config: Mapping) -> bool:
    return not config.get("PAYMENT_GATEWAY_URL")


def conflicts(config: Mapping) -> list[str]:
    found = []
    own, platform = config.get("SANDBOX_GATEWAY_WEBHOOK_SECRET") or "", config.get("PAYMENT_WEBHOOK_SECRET") or ""
    if own and own == platform and own != DEFAULT_WEBHOOK_SECRET:
        found.append("SANDBOX_GATEWAY_WEBHOOK_SECRET equals PAYMENT_WEBHOOK_SECRET: the sandbox would sign "
                     "with the production webhook secret")
    if str(config.get("PAYMENT_GATEWAY_KEY") or "").startswith(LIVE_KEY_PREFIXES):
        found.append("PAYMENT_GATEWAY_KEY is a live key but PAYMENT_GATEWAY_URL is empty")
    return found


def mount(app: Flask) -> None:
    import sandboxes.gateway.models  # noqa: F401 - the sandbox's tables
    from core.web import csrf
    from sandboxes.gateway.api import bp

    app.register_blueprint(bp)
    csrf.exempt(bp)  # a server-to-server API authenticated by its own secret key
    app.extensions["payment_gateway_factory"] = client
    # The platform's receiver also accepts what this setting signs, while (and only while) it is mounted.
    app.extensions["payment_webhook_secret_settings"] = ("SANDBOX_GATEWAY_WEBHOOK_SECRET",)


def client(app: Flask):
    """The platform's gateway client, pointed at this sandbox in-process."""
    from payments.gateway import GatewayClient
    from sandboxes.gateway.inprocess import INTERNAL_BASE, session_for

    key = app.config.get("SANDBOX_GATEWAY_SECRET_KEY") or DEFAULT_SECRET_KEY
    return GatewayClient(f"{INTERNAL_BASE}/sandbox-gateway/v1", key,
                         timeout=(3.05, float(app.config["PAYMENT_GATEWAY_TIMEOUT_S"])), session=session_for(app))
