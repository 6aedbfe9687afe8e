"""Accounts use cases: organisations, users, passwords and API keys."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update

from core import sign_in_guard, versions
from core.errors import Conflict, NotFound, Unauthorized, invalid
from core.extensions import db
from core.messages import Text
from core.models import AgentPoint, AgentPointKind, ApiKey, Organisation, User
from core.roles import OrganisationKind, Role
from core.timeutil import as_utc, utcnow
from core.uow import unit_of_work
from core.versions import VersionedMap

KEY_PREFIX = "hpa_"
LAST_USED_RESOLUTION = timedelta(seconds=60)
_hasher = PasswordHasher()


@dataclass(frozen=True)
class Principal:
    """Who is calling: the role and scope an API key carries."""

    role: Role
    api_key_id: int
    organisation_id: int | None = None
    user_id: int | None = None
    service_point_id: int | None = None
    agent_point_id: int | None = None  # an agent user's point (post office, tablet); None for an organisation key
    branch_lead: bool = False  # a branch officer who also sees the points under the branch
    label: str = ""


@dataclass(frozen=True)
class IssuedKey:
    id: int
    prefix: str
    key: str  # the only time the plaintext exists
    owner: str


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key() -> tuple[str, str]:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    return key, key[:12]


def list_organisations() -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).order_by(Organisation.code)))


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.role, User.email)))


def get_organisation(code: str) -> Organisation:
    org = db.session.scalar(select(Organisation).where(Organisation.code == code))
    if org is None:
        raise NotFound(Text(f"Không có tổ chức mã {code}.", f"No organisation with code {code}."))
    return org


def get_user(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email.lower()))
    if user is None:
        raise NotFound(Text(f"Không có người dùng {email}.", f"No user {email}."))
    return user


def ensure_organisation(code: str, name: str, kind: OrganisationKind) -> Organisation:
    org = db.session.scalar(select(Organisation).where(Organisation.code == code))
    if org is None:
        org = Organisation(code=code, name=name, kind=kind)
        db.session.add(org)
        db.session.flush()
    return org


def ensure_agent_point(organisation: Organisation, code: str, name: str, kind: AgentPointKind,
                       address: str | None = None) -> AgentPoint:
    """Create the organisation's agent point (post office, tablet, online channel) if absent; an existing
    one is left as it is. A code taken by another organisation's point is refused."""
    point = db.session.scalar(select(AgentPoint).where(AgentPoint.code == code))
    if point is None:
        point = AgentPoint(organisation_id=organisation.id, code=code, name=name, kind=AgentPointKind(kind),
                           address=address)
        db.session.add(point)
        db.session.flush()
    elif point.organisation_id != organisation.id:
        raise Conflict(Text(f"Mã điểm đại lý {code} đã thuộc tổ chức khác.",
                            f"The agent point code {code} belongs to another organisation."))
    return point


def ensure_user(
    email: str,
    full_name: str,
    role: Role,
    password: str,
    organisation: Organisation | None = None,
    service_point_id: int | None = None,
    agent_point_id: int | None = None,
) -> User:
    """Create the user if absent; an existing user is left as it is, except that an agent without an
    agent point is given the one named (users created before agent points existed)."""
    email = email.lower()
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        if role is Role.AGENT and organisation is None:
            raise invalid("organisation", "Missing data for required field.")
        user = User(
            email=email, full_name=full_name, role=role, password_hash=hash_password(password),
            organisation=organisation, service_point_id=service_point_id, agent_point_id=agent_point_id,
        )
        db.session.add(user)
        db.session.flush()
    elif agent_point_id is not None and user.agent_point_id is None and user.role is Role.AGENT:
        point = db.session.get(AgentPoint, agent_point_id)
        if point is not None and point.organisation_id == user.organisation_id:
            user.agent_point_id = agent_point_id
            versions.bump(versions.ACCESS)  # principals carry the point: known keys are read again
    return user


@unit_of_work()
def issue_organisation_key(org_code: str, name: str = "default") -> IssuedKey:
    org = get_organisation(org_code)
    key, prefix = _new_key()
    row = ApiKey(prefix=prefix, key_hash=_digest(key), name=name, organisation_id=org.id)
    db.session.add(row)
    db.session.flush()
    return IssuedKey(row.id, prefix, key, org.code)


@unit_of_work()
def issue_user_key(email: str, name: str = "personal") -> IssuedKey:
    user = get_user(email)
    key, prefix = _new_key()
    row = ApiKey(prefix=prefix, key_hash=_digest(key), name=name, user_id=user.id)
    db.session.add(row)
    db.session.flush()
    return IssuedKey(row.id, prefix, key, user.email)


def _live(now: datetime):
    """Keys that still work: never revoked, or revoked at a time still to come (a rotation's overlap)."""
    return (ApiKey.revoked_at.is_(None)) | (ApiKey.revoked_at > now)


@unit_of_work()
def revoke_key(prefix: str) -> int:
    """Revoke every live key starting with ``prefix`` now (a rotating one too); returns how many."""
    now = utcnow()
    rows = db.session.scalars(select(ApiKey).where(ApiKey.prefix == prefix[:12], _live(now))).all()
    for row in rows:
        row.revoked_at = now
    if rows:
        versions.bump(versions.ACCESS)
    return len(rows)


@dataclass(frozen=True)
class RotatedKey:
    new: IssuedKey
    old_prefix: str
    old_expires_at: datetime  # the old key works until then, and never after


MAX_ROTATION_OVERLAP = timedelta(days=30)


@unit_of_work()
def rotate_key(*, prefix: str | None = None, key_id: int | None = None,
               overlap: timedelta = timedelta(hours=24)) -> RotatedKey:
    """A new key for the same owner (organisation or user) and label; the old one keeps working for
    ``overlap`` (so a partner can deploy the new one without an outage), then is revoked by itself.

    Name the old key by its 12-character prefix (CLI) or its id (the key rotating itself, API)."""
    if overlap < timedelta(0) or overlap > MAX_ROTATION_OVERLAP:
        raise invalid("overlap_hours", f"Must be between 0 and {MAX_ROTATION_OVERLAP.days * 24}.")
    now = utcnow()
    query = select(ApiKey).where(_live(now))
    if key_id is not None:
        query = query.where(ApiKey.id == key_id)
    else:
        query = query.where(ApiKey.prefix == (prefix or "")[:12])
    rows = db.session.scalars(query.with_for_update()).all()
    if len(rows) != 1:
        if not rows:
            raise NotFound(Text("Không có khóa API đang hoạt động với tiền tố này.",
                                "No live API key with this prefix."))
        raise Conflict(Text("Nhiều khóa có cùng tiền tố: thu hồi từng khóa.", "Several keys share this prefix."))
    old = rows[0]
    key, new_prefix = _new_key()
    row = ApiKey(prefix=new_prefix, key_hash=_digest(key), name=old.name,
                 organisation_id=old.organisation_id, user_id=old.user_id)
    db.session.add(row)
    expires = now + overlap
    if old.revoked_at is None or as_utc(old.revoked_at) > expires:
        old.revoked_at = expires
    versions.bump(versions.ACCESS)
    db.session.flush()
    owner = old.organisation.code if old.organisation is not None else old.user.email
    return RotatedKey(IssuedKey(row.id, new_prefix, key, owner), old.prefix, as_utc(old.revoked_at))


@unit_of_work()
def set_organisation_active(code: str, active: bool) -> None:
    """Suspend or restore an organisation; its keys stop or resume working on the next request."""
    get_organisation(code).is_active = active
    versions.bump(versions.ACCESS)


@unit_of_work()
def set_user_active(email: str, active: bool) -> None:
    get_user(email).is_active = active
    versions.bump(versions.ACCESS)


MAX_FAILED_SIGN_INS = 5
LOCK_OUT_FOR = timedelta(minutes=15)
_DUMMY_HASH = _hasher.hash("not a password")


class SignInRefused(Unauthorized):
    code = "sign_in_refused"


def sign_in(email: str, password: str, ip: str | None = None,
            device: sign_in_guard.Device | None = None) -> User:
    """The user for these credentials. The refusal never says whether the email exists.

    Throttled as OWASP advises (core/sign_in_guard.py): failures are counted per client IP, and five in a
    row lock the account for 15 minutes for untrusted clients only; a device this user signed in from
    before (its signed cookie, ``device``) is trusted, so an attacker's failures do not lock them out."""
    with unit_of_work():  # a failure is counted and committed; the refusal is raised after
        user, refusal = _check_sign_in(email, password, ip, device)
    if refusal is not None:
        raise SignInRefused(refusal)
    return user


def _check_sign_in(email: str, password: str, ip: str | None,
                   device: sign_in_guard.Device | None) -> tuple[User | None, Text | None]:
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    now = utcnow()
    trusted = user is not None and sign_in_guard.device_trusted(device, user.id)
    if not trusted and not sign_in_guard.ip_allowed(ip):
        return None, _THROTTLED
    if user is None:
        verify_password(_DUMMY_HASH, password)  # the same work, so timing tells nothing
        sign_in_guard.record_failure(ip, None)
        return None, _WRONG
    locked = user.locked_until is not None and as_utc(user.locked_until) > now
    if locked and not trusted:
        sign_in_guard.record_failure(ip, None)
        return None, _LOCKED
    if not user.is_active or not verify_password(user.password_hash, password):
        sign_in_guard.record_failure(ip, device if trusted else None)
        if trusted:  # a trusted device spends its own budget, not the account's
            return None, _WRONG
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_SIGN_INS:
            user.locked_until, user.failed_logins = now + LOCK_OUT_FOR, 0
            return None, _LOCKED
        return None, _WRONG
    if user.organisation is not None and not user.organisation.is_active:
        return None, _WRONG
    if not locked:  # a trusted device gets in, but the lock stays for everyone else
        user.failed_logins, user.locked_until = 0, None
    return user, None


_WRONG = Text("Email hoặc mật khẩu không đúng.", "Wrong email or password.")
_THROTTLED = Text(
    "Quá nhiều lần đăng nhập sai từ địa chỉ này: thử lại sau ít phút.",
    "Too many failed sign-ins from this address: try again in a few minutes.",
)
_LOCKED = Text(
    "Tài khoản tạm khóa 15 phút sau nhiều lần đăng nhập sai.",
    "The account is locked for 15 minutes after repeated failed sign-ins.",
)


def principal_for(user: User) -> Principal | None:
    """What a signed-in user may do: the same principal a personal key of theirs would carry."""
    if not user.is_active or (user.organisation is not None and not user.organisation.is_active):
        return None
    return Principal(user.role, 0, organisation_id=user.organisation_id, user_id=user.id,
                     service_point_id=user.service_point_id, agent_point_id=user.agent_point_id,
                     branch_lead=bool(user.is_branch_lead), label=f"user:{user.email}")


def list_keys() -> list[ApiKey]:
    return list(db.session.scalars(select(ApiKey).order_by(ApiKey.id)))


@dataclass
class _Known:
    principal: Principal
    touched: datetime | None
    expires: datetime | None = None  # a rotated key's end of overlap


# Live keys already checked by this worker, emptied whenever access changes anywhere
# (a key revoked, an organisation or a user deactivated): see core.versions.
_known: VersionedMap[_Known] = VersionedMap(versions.ACCESS)


def authenticate_key(key: str) -> Principal | None:
    """The principal a live key carries, or None; touches last_used_at once a minute.

    A key of an inactive organisation, an inactive user, or a user of an inactive
    organisation carries nothing. Keys seen before are answered from memory until
    access changes; unknown keys always go to the database.
    """
    if not key.startswith(KEY_PREFIX):
        return None
    digest = _digest(key)
    now = utcnow()
    known = _known.get(digest)
    if known is None:
        known = _lookup(digest, now)
        if known is None:
            return None
        _known.put(digest, known)
    if known.expires is not None and now >= known.expires:
        return None
    if known.touched is None or now - known.touched > LAST_USED_RESOLUTION:
        with unit_of_work():
            db.session.execute(update(ApiKey).where(ApiKey.id == known.principal.api_key_id).values(last_used_at=now))
        known.touched = now
    return known.principal


def _lookup(digest: str, now: datetime) -> _Known | None:
    row = db.session.execute(
        select(ApiKey.id, ApiKey.revoked_at, ApiKey.last_used_at, ApiKey.user_id,
               Organisation.id.label("org_id"), Organisation.code, Organisation.is_active.label("org_active"),
               User.role, User.email, User.is_active.label("user_active"), User.service_point_id,
               User.agent_point_id, User.is_branch_lead)
        .outerjoin(User, User.id == ApiKey.user_id)
        .outerjoin(Organisation, Organisation.id == func.coalesce(ApiKey.organisation_id, User.organisation_id))
        .where(ApiKey.key_hash == digest)
    ).first()
    expires = as_utc(row.revoked_at) if row is not None and row.revoked_at is not None else None
    if row is None or (expires is not None and expires <= now) or row.org_active is False:
        return None
    if row.user_id is None:
        principal = Principal(Role.AGENT, row.id, organisation_id=row.org_id, label=f"org:{row.code}")
    elif not row.user_active:
        return None
    else:
        principal = Principal(
            row.role, row.id, organisation_id=row.org_id, user_id=row.user_id,
            service_point_id=row.service_point_id, agent_point_id=row.agent_point_id,
            branch_lead=bool(row.is_branch_lead), label=f"user:{row.email}",
        )
    return _Known(principal, as_utc(row.last_used_at) if row.last_used_at else None, expires)
