"""Access rules: every route declares one, and requests are checked before any view runs.

``@public`` marks a route open to anyone; ``@allow(Role.AGENT, ...)`` names the roles a
bearer key must carry. A route with no declared rule is refused (fail closed), and a
test walks the URL map to prove every route has one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, g, redirect, request, url_for
from flask_login import current_user
from flask_smorest import Blueprint as SmorestBlueprint

from core.accounts import Principal, authenticate_key, principal_for
from core.errors import Forbidden, Unauthorized
from core.messages import Text
from core.roles import Role
from core.web import csrf

STAFF = (Role.BRANCH_OFFICER, Role.FINANCE, Role.ADMIN, Role.LEADERSHIP)
EVERYONE = (Role.AGENT, *STAFF)

# Blueprints that belong to libraries and are public as a whole (the OpenAPI docs).
PUBLIC_BLUEPRINTS = {"api-docs"}
PUBLIC_ENDPOINTS = {"static"}


@dataclass(frozen=True)
class AccessRule:
    public: bool
    roles: frozenset[Role] = frozenset()


def public(func: Callable) -> Callable:
    func.access_rule = AccessRule(public=True)
    return SmorestBlueprint.doc(security=[])(func) if hasattr(func, "_apidoc") else func


def allow(*roles: Role) -> Callable[[Callable], Callable]:
    def decorator(func: Callable) -> Callable:
        func.access_rule = AccessRule(public=False, roles=frozenset(roles))
        return func

    return decorator


def access_rule_for(endpoint: str | None) -> AccessRule | None:
    if endpoint is None:
        return None
    if endpoint in PUBLIC_ENDPOINTS or endpoint.split(".")[0] in PUBLIC_BLUEPRINTS:
        return AccessRule(public=True)
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "access_rule", None)


def current_principal() -> Principal:
    principal = g.get("principal")
    if principal is None:  # only reachable from a public route misusing it
        raise Unauthorized()
    return principal


_MISSING_KEY = Text(
    "Cần khóa API: tiêu đề Authorization: Bearer <khóa>.",
    "An API key is required: Authorization: Bearer <key>.",
)
_BAD_KEY = Text("Khóa API không hợp lệ hoặc đã bị thu hồi.", "The API key is invalid or revoked.")


def _enforce():
    if request.endpoint is None:  # 404/405: let routing errors speak
        return
    rule = access_rule_for(request.endpoint)
    if rule is None:
        raise Forbidden(Text("Đường dẫn chưa khai báo quyền truy cập.", "Route has no access rule."))
    if rule.public:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        principal = authenticate_key(token.strip())
        if principal is None:
            raise Unauthorized(_BAD_KEY)
    elif current_user.is_authenticated and (principal := principal_for(current_user)) is not None:
        if request.method not in ("GET", "HEAD", "OPTIONS") and request.path.startswith("/api/"):
            csrf.protect()  # the tablet UI calls the API with its session cookie
    elif request.path.startswith("/api/"):
        raise Unauthorized(_MISSING_KEY)
    else:
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    if principal.role not in rule.roles:
        raise Forbidden(
            Text(
                f"Vai trò {principal.role.value} không được dùng chức năng này.",
                f"Role {principal.role.value} may not use this.",
            )
        )
    g.principal = principal


def init_auth(app: Flask) -> None:
    app.before_request(_enforce)
