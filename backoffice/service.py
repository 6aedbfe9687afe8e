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
from dossiers import service as dossiers
from dossiers import workspace
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


# ---------------------------------------------------------------- the branch workspace (dossiers.workspace)
# Each action: the dossier use case (its own unit joins this one) and the audit row, together or not at all.

@unit_of_work()
def reveal_citizen(principal: Principal, number: str):
    """The dossier with the citizen's identity shown to the officer: the opening is audited."""
    dossier = dossiers.get(principal, number)
    _audit(principal, "dossier.reveal_citizen", number)
    return dossier


@unit_of_work()
def workspace_move(principal: Principal, number: str, target, version: int | None, reason: str | None):
    dossier = workspace.move(principal, number, target, version, reason)
    _audit(principal, f"dossier.{target.value}", number, reason=reason, version=version)
    return dossier


@unit_of_work()
def workspace_supplement(principal: Principal, number: str, version: int | None, documents: list[str],
                         note: str | None):
    dossier = workspace.request_supplement(principal, number, version, documents, note)
    _audit(principal, "dossier.supplement_requested", number, documents=documents, note=note, version=version)
    return dossier


@unit_of_work()
def workspace_result(principal: Principal, number: str, version: int | None, filename: str | None, stream,
                     on_paper_note: str | None):
    dossier = workspace.result_ready(principal, number, version, filename, stream, on_paper_note)
    _audit(principal, "dossier.result_ready", number, file=filename, on_paper=on_paper_note, version=version)
    return dossier


@unit_of_work()
def workspace_transfer(principal: Principal, number: str, version: int | None, point_code: str, reason: str):
    dossier = workspace.transfer(principal, number, version, point_code, reason)
    _audit(principal, "dossier.transfer", number, to=point_code, reason=reason, version=version)
    return dossier


@unit_of_work()
def workspace_assign(principal: Principal, number: str, version: int | None, email: str | None):
    user = accounts.get_user(email) if email else None
    if user is not None and (user.role is not Role.BRANCH_OFFICER or not user.is_active):
        raise invalid("user", "Only an active branch officer can be assigned.", location="form")
    dossier = workspace.assign(principal, number, version, user.id if user else None)
    _audit(principal, "dossier.assign", number, to=email, version=version)
    return dossier


def officers_for(point_ids: set[int]) -> list[User]:
    """Active branch officers who may be assigned a dossier of these points (those of every point too)."""
    return [u for u in accounts.list_users() if u.role is Role.BRANCH_OFFICER and u.is_active
            and (u.service_point_id is None or u.service_point_id in point_ids)]
