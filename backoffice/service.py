"""Back-office use cases: each calls the owning package's service, then records who did what.

Each use case is one unit of work: the owning service's change (its own unit joins this one) and
the audit row naming the administrator, the action and the target commit together, or neither does.
A key's secret is never audited (only its prefix).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from backoffice.models import AdminAuditEvent
from core import accounts
from core.accounts import IssuedKey, Principal
from core.errors import invalid
from core.extensions import db
from core.models import ApiKey, Organisation, User
from core.roles import OrganisationKind, Role
from core.uow import unit_of_work
from geo import admin as points
from geo import service as geo


def _audit(principal: Principal, action: str, target: str, **details) -> None:
    db.session.add(AdminAuditEvent(actor=principal.label, action=action, target=target, details=details))


def audit_trail(limit: int = 200) -> list[AdminAuditEvent]:
    return list(db.session.scalars(select(AdminAuditEvent).order_by(AdminAuditEvent.id.desc()).limit(limit)))


# ---------------------------------------------------------------- service points

def list_points():
    return geo.list_points()


@unit_of_work()
def create_point(principal: Principal, data: dict):
    point = points.create_point(data, actor=principal.label)
    _audit(principal, "point.create", point.code, name=point.name, tier=point.tier.value,
           lat=point.lat, lon=point.lon)
    return point


@unit_of_work()
def close_point(principal: Principal, code: str, on: date, reason: str):
    point = points.close_point(code, on, reason, actor=principal.label)
    _audit(principal, "point.close", code, on=on.isoformat(), reason=reason.strip())
    return point


@unit_of_work()
def reopen_point(principal: Principal, code: str):
    point = points.reopen_point(code, actor=principal.label)
    _audit(principal, "point.reopen", code)
    return point


# ---------------------------------------------------------------- organisations and users

def list_organisations() -> list[Organisation]:
    return accounts.list_organisations()


@unit_of_work()
def create_organisation(principal: Principal, code: str, name: str, kind: OrganisationKind) -> Organisation:
    if any(o.code == code for o in accounts.list_organisations()):
        raise invalid("code", "This code is already used.")
    org = accounts.ensure_organisation(code, name, kind)
    _audit(principal, "organisation.create", code, name=name, kind=kind.value)
    return org


@unit_of_work()
def set_organisation_active(principal: Principal, code: str, active: bool) -> None:
    accounts.set_organisation_active(code, active)
    _audit(principal, "organisation.activate" if active else "organisation.deactivate", code)


def list_users() -> list[User]:
    return accounts.list_users()


@unit_of_work()
def create_user(principal: Principal, email: str, full_name: str, role: Role, password: str,
                organisation_code: str | None, service_point_code: str | None) -> User:
    email = email.strip().lower()
    if any(u.email == email for u in accounts.list_users()):
        raise invalid("email", "This email is already used.")
    org = accounts.get_organisation(organisation_code) if organisation_code else None
    point_id = geo.get_point(service_point_code).id if service_point_code else None
    user = accounts.ensure_user(email, full_name.strip(), role, password, org, point_id)
    _audit(principal, "user.create", email, role=role.value, organisation=organisation_code,
           service_point=service_point_code)
    return user


@unit_of_work()
def set_user_active(principal: Principal, email: str, active: bool) -> None:
    if email == principal.label.removeprefix("user:") and not active:
        raise invalid("email", "You cannot deactivate yourself.")
    accounts.set_user_active(email, active)
    _audit(principal, "user.activate" if active else "user.deactivate", email)


# ---------------------------------------------------------------- API keys

def list_keys() -> list[ApiKey]:
    return accounts.list_keys()


@unit_of_work()
def issue_key(principal: Principal, owner: str, name: str) -> IssuedKey:
    """A key for an organisation (its code) or a user (an email); the caller shows it once."""
    issued = (accounts.issue_user_key(owner, name) if "@" in owner
              else accounts.issue_organisation_key(owner, name))
    _audit(principal, "key.issue", issued.prefix, owner=issued.owner, name=name)
    return issued


@unit_of_work()
def revoke_key(principal: Principal, prefix: str) -> int:
    revoked = accounts.revoke_key(prefix)
    if revoked:
        _audit(principal, "key.revoke", prefix, revoked=revoked)
    return revoked
