"""What every part of the sandbox gateway shares: Stripe's error object, ids, time, settings, parameters.

Errors are ``GatewayError``: Stripe's error object and status code; the HTTP layer turns them into
Stripe's JSON. Parameters arrive parsed from Stripe's form encoding (``http.parse_params``): strings,
nested dicts and lists.
"""

from __future__ import annotations

import secrets
import string
import time
from datetime import timedelta, timezone
from typing import Any

from flask import current_app, has_request_context, request

from core.settings import settings

API_VERSION = "2024-06-20"
CURRENCY = "vnd"
HANOI = timezone(timedelta(hours=7))  # Asia/Ho_Chi_Minh has no daylight saving
_ALPHABET = string.ascii_letters + string.digits


class GatewayError(Exception):
    """Stripe's error object. ``store``: whether an idempotent request keeps this result
    (Stripe saves results once the endpoint started executing, not parameter validation)."""

    def __init__(self, status: int, type_: str, message: str, *, code: str | None = None,
                 param: str | None = None, decline_code: str | None = None, store: bool = False,
                 headers: dict | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.store = store
        self.headers = headers or {}
        self.error: dict[str, Any] = {"type": type_, "message": message}
        if code:
            self.error["code"] = code
            self.error["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
        if decline_code:
            self.error["decline_code"] = decline_code
        if param:
            self.error["param"] = param
        self.error.update(extra)

    def body(self) -> dict:
        return {"error": self.error}


def invalid(message: str, *, param: str | None = None, code: str | None = None, status: int = 400,
            store: bool = False) -> GatewayError:
    return GatewayError(status, "invalid_request_error", message, param=param, code=code, store=store)


def missing(resource: str, ident: str, param: str = "id") -> GatewayError:
    return GatewayError(404, "invalid_request_error", f"No such {resource}: '{ident}'",
                        code="resource_missing", param=param)


def new_id(prefix: str, length: int = 24) -> str:
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def now_ts() -> int:
    return int(time.time())


def setting(name: str, default: Any) -> Any:
    value = current_app.config.get(name, default)
    return default if value is None else value


def public_base() -> str:
    """Where the customer's browser reaches the sandbox (links to its 3-D Secure pages)."""
    configured = settings().sandbox_gateway_public_url
    if configured:
        return str(configured).rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return str(settings().public_base_url or "http://127.0.0.1:5000").rstrip("/")


# ---------------------------------------------------------------- parameters

def parse_amount(value: Any, param: str = "amount", *, required: bool = True) -> int | None:
    if value in (None, ""):
        if required:
            raise invalid(f"Missing required param: {param}.", param=param, code="parameter_missing")
        return None
    if not isinstance(value, str) or not value.lstrip("-").isdigit():
        raise invalid(f"Invalid integer: {value}", param=param, code="parameter_invalid_integer")
    amount = int(value)
    if amount < 1:
        raise invalid("This value must be greater than or equal to 1.", param=param, code="parameter_invalid_integer")
    if amount > 99_999_999_999:
        raise invalid("Amount must be no more than ₫99,999,999,999", param=param, code="amount_too_large")
    return amount


def metadata_param(value: Any) -> dict:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise invalid("Invalid object", param="metadata", code="parameter_invalid_object")
    return {str(k): str(v) for k, v in value.items() if v not in (None, "")}


def bool_param(value: Any, param: str) -> bool:
    if value in (None, "", "false", False):
        return False
    if value in ("true", True):
        return True
    raise invalid(f"Invalid boolean: {value}", param=param, code="parameter_invalid_boolean")


def reject_unknown(params: dict, allowed: set[str]) -> None:
    for name in params:
        if name not in allowed | {"expand"}:
            raise invalid(f"Received unknown parameter: {name}", param=name, code="parameter_unknown")

