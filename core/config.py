"""Database engine options and the production start check; the settings are declared in ``core.settings``."""

from __future__ import annotations

from core.settings import PROJECT_ROOT, is_production, load_config, normalise_database_url

__all__ = ["PROJECT_ROOT", "check_production_secrets", "engine_options", "load_config", "normalise_database_url"]

# Secrets with a built-in development value (or none): production must set each to its own.
DEVELOPMENT_SECRETS = {
    "SECRET_KEY": "dev-only-not-secret",
    "PAYMENT_WEBHOOK_SECRET": "whsec_sandbox",
    "COURIER_WEBHOOK_SECRET": "cwhsec_sandbox",
    "SANDBOX_GATEWAY_SECRET_KEY": "sk_test_sandbox",
    # Generated per host into the instance directory when empty: several hosts would each make their own.
    "PII_ENCRYPTION_KEYS": "",
    "PII_HASH_KEY": "",
}


class InsecureConfiguration(RuntimeError):
    """Production was asked for with a development secret still in place."""


def check_production_secrets(config) -> None:
    """With ``APP_ENV=production``, refuse to start while a secret is empty or its development default.

    The sandbox gateway's key only counts while the sandbox is the gateway (``PAYMENT_GATEWAY_URL`` empty).
    """
    if not is_production(config):
        return
    names = [name for name in DEVELOPMENT_SECRETS
             if not (name == "SANDBOX_GATEWAY_SECRET_KEY" and config.get("PAYMENT_GATEWAY_URL"))]
    weak = [name for name in names if not config.get(name) or config.get(name) == DEVELOPMENT_SECRETS[name]]
    if weak:
        raise InsecureConfiguration(
            "APP_ENV=production refuses to start with built-in development secrets: set "
            + ", ".join(weak) + " to secret values of your own (environment variables).")


def engine_options(url: str, pre_ping: bool = True) -> dict:
    # Statement parameters (CCCD, phone numbers, names) never appear in SQLAlchemy's error texts or logs.
    if url.startswith("sqlite"):
        # Wait for the writer lock instead of failing at once under concurrent requests.
        return {"connect_args": {"timeout": 30}, "hide_parameters": True}
    # Ping each pooled connection as it is checked out (one short round trip): a connection that died
    # with a database restart is replaced there and then, instead of failing the request that drew
    # it. DATABASE_PRE_PING=0 turns it off (a restart then costs one 503 per stale connection).
    return {"pool_recycle": 1800, "pool_pre_ping": pre_ping, "hide_parameters": True}
