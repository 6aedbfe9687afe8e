"""The exception queue's use cases: list, count and read items; act on one with a reason.

Every action is a new ``finance_exception_actions`` row (who, when, what, why) written in the same
transaction as the item's change of status or assignee, under the item's row lock: the trail is
the audit, and an action on an item another user has resolved meanwhile is refused (409) rather
than applied twice. Adjustments are booked through the ledger (``payments.ledger.adjustment``);
nothing is edited in place or deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from core.accounts import Principal
from core.calendar import is_working_day
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.extensions import db
from core.messages import Text
from core.models import Organisation, User
from core.roles import Role
from core.timeutil import LOCAL_TZ, as_utc, to_local, utcnow
from core.uow import unit_of_work
from dossiers import service as dossiers
from dossiers.models import Dossier
from finance.models import (
    ExceptionAction,
    ExceptionKind,
    ExceptionStatus,
    FinanceException,
    FinanceExceptionAction,
)
from payments import ledger
from payments import service as payments

FINANCE_ROLES = (Role.FINANCE, Role.ADMIN)
REASON_MAX = 2000
# Age buckets in working days: (key, lowest, highest or None).
BUCKETS = (("0-1", 0, 1), ("2-5", 2, 5), ("6-10", 6, 10), ("11+", 11, None))
BUCKET_KEYS = tuple(key for key, _lo, _hi in BUCKETS)


def refused(field: str, vi: str, en: str, location: str = "json") -> InvalidInput:
    """A 422 naming one field, in Vietnamese and English."""
    return InvalidInput(Text(vi, en), errors=[{"field": field, "location": location, "message_vi": vi,
                                               "message_en": en}])


@dataclass(frozen=True)
class Filters:
    kind: ExceptionKind | None = None
    status: ExceptionStatus | None = ExceptionStatus.OPEN
    assignee: str | None = None  # a user id, "me" or "none"
    organisation: str | None = None  # an organisation code
    age: str | None = None  # one of BUCKET_KEYS


# ---------------------------------------------------------------- ages

def local_today() -> date:
    return to_local(utcnow()).date()


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end`` is not later)."""
    days, day = 0, start + timedelta(days=1)
    while day <= end:
        days += is_working_day(day)
        day += timedelta(days=1)
    return days


def ages(occurred_at: datetime, today: date | None = None) -> tuple[int, int]:
    """(working days, calendar days) since the local day it occurred."""
    today = today or local_today()
    day = to_local(occurred_at).date()
    return working_days_between(day, today), max(0, (today - day).days)


def bucket_of(working_days: int) -> str:
    for key, low, high in BUCKETS:
        if working_days >= low and (high is None or working_days <= high):
            return key
    return BUCKET_KEYS[-1]


def _earliest_day_aged_at_most(today: date, limit: int) -> date:
    """The earliest local day whose age in working days today is at most ``limit``."""
    day, age = today, 0
    while True:
        extra = 1 if is_working_day(day) else 0
        if age + extra > limit:
            return day
        age += extra
        day -= timedelta(days=1)


def _local_midnight(day: date) -> datetime:
    return as_utc(datetime.combine(day, time(0), tzinfo=LOCAL_TZ))


def _age_window(key: str, today: date) -> tuple[datetime | None, datetime | None]:
    """The occurred_at range (UTC, [from, before)) of one age bucket."""
    low, high = next((lo, hi) for k, lo, hi in BUCKETS if k == key)
    start = _local_midnight(_earliest_day_aged_at_most(today, high)) if high is not None else None
    before = _local_midnight(_earliest_day_aged_at_most(today, low - 1)) if low > 0 else None
    return start, before


# ---------------------------------------------------------------- reading

def _check(principal: Principal) -> None:
    if principal.role not in FINANCE_ROLES:
        raise Forbidden(Text("Chỉ bộ phận tài chính xử lý hàng đợi sai lệch.",
                             "Only finance staff work the exception queue."))


def _filtered(principal: Principal, filters: Filters, *, with_kind: bool = True):
    query = select(FinanceException)
    if with_kind and filters.kind is not None:
        query = query.where(FinanceException.kind == filters.kind)
    if filters.status is not None:
        query = query.where(FinanceException.status == filters.status)
    if filters.assignee == "me":
        query = query.where(FinanceException.assignee_user_id == principal.user_id)
    elif filters.assignee == "none":
        query = query.where(FinanceException.assignee_user_id.is_(None))
    elif filters.assignee:
        if not str(filters.assignee).isdigit():
            raise refused("assignee", "Không phải người dùng.", "Not a user.", "query")
        query = query.where(FinanceException.assignee_user_id == int(filters.assignee))
    if filters.organisation:
        query = query.join(Organisation, Organisation.id == FinanceException.organisation_id).where(
            Organisation.code == filters.organisation.strip().upper())
    if filters.age:
        if filters.age not in BUCKET_KEYS:
            raise refused("age", f"Một trong {', '.join(BUCKET_KEYS)}.", f"One of {', '.join(BUCKET_KEYS)}.", "query")
        start, before = _age_window(filters.age, local_today())
        if start is not None:
            query = query.where(FinanceException.occurred_at >= start)
        if before is not None:
            query = query.where(FinanceException.occurred_at < before)
    return query


def list_items(principal: Principal, filters: Filters, page: int = 1, page_size: int = 50) -> dict:
    """One page of the items that pass the filters, oldest first, with the total."""
    _check(principal)
    query = _filtered(principal, filters)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(FinanceException.occurred_at, FinanceException.id)
                              .limit(page_size).offset((max(1, page) - 1) * page_size)).all()
    return {"items": _summaries(rows), "total": int(total or 0), "page": page, "page_size": page_size}


def counts_by_kind(principal: Principal, filters: Filters) -> dict[str, int]:
    """How many items of each kind pass the other filters (every kind listed, zeros included)."""
    _check(principal)
    inner = _filtered(principal, filters, with_kind=False).subquery()
    found = dict(db.session.execute(select(inner.c.kind, func.count()).group_by(inner.c.kind)).all())
    return {kind.value: int(found.get(kind, found.get(kind.value, 0))) for kind in ExceptionKind}


def _names(model, ids: set[int], column) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.session.execute(select(model.id, column).where(model.id.in_(ids))).all())


def _summaries(rows: list[FinanceException]) -> list[dict]:
    today = local_today()
    users = {u.id: u for u in db.session.scalars(select(User).where(
        User.id.in_({r.assignee_user_id for r in rows if r.assignee_user_id})))}
    orgs = _names(Organisation, {r.organisation_id for r in rows if r.organisation_id}, Organisation.code)
    numbers = _names(Dossier, {r.dossier_id for r in rows if r.dossier_id}, Dossier.number)
    out = []
    for row in rows:
        working, calendar = ages(row.occurred_at, today)
        assignee = users.get(row.assignee_user_id)
        out.append({
            "id": row.id, "kind": row.kind.value, "status": row.status.value, "amount_vnd": int(row.amount_vnd),
            "occurred_at": as_utc(row.occurred_at), "detected_at": as_utc(row.detected_at),
            "resolved_at": as_utc(row.resolved_at) if row.resolved_at else None,
            "age_working_days": working, "age_calendar_days": calendar, "age_bucket": bucket_of(working),
            "dedupe_key": row.dedupe_key, "organisation": orgs.get(row.organisation_id),
            "dossier_number": numbers.get(row.dossier_id),
            "assignee": _user_view(assignee) if assignee else None})
    return out


def _user_view(user: User) -> dict:
    return {"id": user.id, "email": user.email, "name": user.full_name}


def get_item(principal: Principal, item_id: int) -> dict:
    """One item with the records on both sides and its action history, oldest action first."""
    _check(principal)
    row = db.session.get(FinanceException, item_id)
    if row is None:
        raise _not_found(item_id)
    view = _summaries([row])[0]
    linked_ids = {a.details.get("dossier_id") for a in row.actions if a.action is ExceptionAction.LINKED}
    numbers = _names(Dossier, {i for i in linked_ids if i}, Dossier.number)
    view.update(ours=row.ours or {}, theirs=row.theirs or {}, agent_point_id=row.agent_point_id,
                actions=[{"id": a.id, "action": a.action.value, "reason": a.reason, "details": a.details or {},
                          "actor": a.actor, "at": as_utc(a.at)} for a in row.actions])
    view["linked_dossiers"] = sorted(numbers.values())
    return view


def finance_users() -> list[dict]:
    """The people an item may be assigned to: active finance staff and administrators."""
    users = db.session.scalars(select(User).where(User.role.in_(FINANCE_ROLES), User.is_active.is_(True))
                               .order_by(User.full_name, User.email))
    return [_user_view(u) for u in users]


def _not_found(item_id: int) -> NotFound:
    return NotFound(Text(f"Không có mục sai lệch số {item_id}.", f"No exception item {item_id}."))


# ---------------------------------------------------------------- acting

def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise refused("reason", "Hãy ghi lý do của thao tác này.", "Give the reason for this action.")
    if len(text) > REASON_MAX:
        raise refused("reason", f"Tối đa {REASON_MAX} ký tự.", f"At most {REASON_MAX} characters.")
    return text


def _locked(principal: Principal, item_id: int, *, open_only: bool = True) -> FinanceException:
    _check(principal)
    row = db.session.scalars(select(FinanceException).where(FinanceException.id == item_id)
                             .with_for_update()).one_or_none()
    if row is None:
        raise _not_found(item_id)
    if open_only and row.status is ExceptionStatus.RESOLVED:
        raise Conflict(Text(f"Mục sai lệch số {item_id} đã được xử lý xong; hãy mở lại nếu cần làm tiếp.",
                            f"Exception item {item_id} is already resolved; reopen it to act on it again."))
    return row


def _record(row: FinanceException, principal: Principal, action: ExceptionAction, reason: str,
            details: dict | None = None, *, resolve: bool = False) -> FinanceExceptionAction:
    now = utcnow()
    if resolve:
        row.status, row.resolved_at = ExceptionStatus.RESOLVED, now
    entry = FinanceExceptionAction(exception_id=row.id, action=action, reason=reason, details=details or {},
                                   actor=principal.label, at=now)
    db.session.add(entry)
    db.session.flush()
    return entry


@unit_of_work()
def assign(principal: Principal, item_id: int, reason: str | None, user_id: int | None = None) -> dict:
    """Give an open item to a finance user (``user_id``), or to the caller when none is named."""
    reason = _reason(reason)
    row = _locked(principal, item_id)
    target_id = user_id if user_id is not None else principal.user_id
    user = db.session.get(User, target_id) if target_id is not None else None
    if user is None or user.role not in FINANCE_ROLES or not user.is_active:
        raise refused("assignee", "Chỉ giao cho cán bộ tài chính đang hoạt động.",
                      "Assign to an active finance user.")
    previous = row.assignee_user_id
    row.assignee_user_id = user.id
    _record(row, principal, ExceptionAction.ASSIGNED, reason,
            {"assignee_user_id": user.id, "assignee": user.email, "previous_user_id": previous})
    return get_item(principal, item_id)


def _entries(raw: list[dict]) -> list[ledger.Entry]:
    if not raw or len(raw) < 2:
        raise refused("entries", "Bút toán điều chỉnh cần ít nhất hai dòng.",
                      "An adjustment needs at least two entries.")
    entries = []
    for i, item in enumerate(raw):
        try:
            account = ledger.Account(item.get("account"))
        except ValueError:
            raise refused(f"entries.{i}.account", "Không phải tài khoản sổ cái.", "Not a ledger account.") from None
        if account not in ledger.ADJUSTABLE:
            raise refused(f"entries.{i}.account", "Tài khoản này không được điều chỉnh thủ công.",
                          "This account is not adjusted by hand.")
        amount = item.get("amount_vnd")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
            raise refused(f"entries.{i}.amount_vnd", "Số tiền phải là số đồng nguyên, khác 0.",
                          "A whole, non-zero number of đồng.")
        party = (item.get("party") or "").strip().upper() or None
        entries.append(ledger.Entry(account, amount, party))
    if sum(e.amount_vnd for e in entries) != 0:
        raise refused("entries", "Bút toán không cân: tổng nợ và có phải bằng 0.",
                      "The debits and credits must balance (sum to zero).")
    if len({(e.account, e.party) for e in entries}) != len(entries):
        raise refused("entries", "Mỗi tài khoản (và đối tượng) chỉ ghi một lần.",
                      "Name each account (and party) once.")
    return entries


@unit_of_work()
def adjust(principal: Principal, item_id: int, reason: str | None, entries: list[dict]) -> dict:
    """Book a balanced adjustment through the ledger for the item, and resolve it."""
    reason = _reason(reason)
    booked = _entries(entries)
    row = _locked(principal, item_id)
    done = db.session.scalar(select(func.count()).select_from(FinanceExceptionAction).where(
        FinanceExceptionAction.exception_id == row.id, FinanceExceptionAction.action == ExceptionAction.ADJUSTED))
    reference = f"exception-{row.id}-{int(done or 0) + 1}"
    transaction = ledger.adjustment(reference, booked)
    transaction_id = payments.book_finance(transaction, dossier_id=row.dossier_id, memo=reason[:500])
    _record(row, principal, ExceptionAction.ADJUSTED, reason, {
        "ledger_transaction_id": transaction_id, "reference": reference,
        "amount_vnd": sum(e.amount_vnd for e in booked if e.amount_vnd > 0),
        "entries": [{"account": str(e.account), "party": e.party, "amount_vnd": e.amount_vnd} for e in booked]},
        resolve=True)
    return get_item(principal, item_id)


@unit_of_work()
def link(principal: Principal, item_id: int, reason: str | None, dossier_number: str | None) -> dict:
    """Link the item to the dossier it belongs to (one that exists), and resolve it."""
    reason = _reason(reason)
    number = (dossier_number or "").strip().upper()
    if not number:
        raise refused("dossier_number", "Nhập số hồ sơ.", "Enter the dossier number.")
    row = _locked(principal, item_id)
    try:
        dossier = dossiers.get(principal, number)
    except NotFound:
        raise refused("dossier_number", f"Không có hồ sơ số {number}.", f"There is no dossier {number}.") from None
    _record(row, principal, ExceptionAction.LINKED, reason,
            {"dossier_id": dossier.id, "dossier_number": dossier.number}, resolve=True)
    return get_item(principal, item_id)


@unit_of_work()
def explain(principal: Principal, item_id: int, reason: str | None) -> dict:
    """Resolve the item with an explanation only (no money moves)."""
    reason = _reason(reason)
    row = _locked(principal, item_id)
    _record(row, principal, ExceptionAction.EXPLAINED, reason, resolve=True)
    return get_item(principal, item_id)


@unit_of_work()
def reopen(principal: Principal, item_id: int, reason: str | None) -> dict:
    """Open a resolved item again (what was booked stays booked: a new action answers it)."""
    reason = _reason(reason)
    row = _locked(principal, item_id, open_only=False)
    if row.status is ExceptionStatus.OPEN:
        raise Conflict(Text(f"Mục sai lệch số {item_id} đang mở.", f"Exception item {item_id} is already open."))
    row.status, row.resolved_at = ExceptionStatus.OPEN, None
    _record(row, principal, ExceptionAction.REOPENED, reason)
    return get_item(principal, item_id)


# ---------------------------------------------------------------- charts

def open_by_age_and_kind() -> dict[str, dict[str, int]]:
    """Open items: kind → age bucket → how many (for the dashboard)."""
    today = local_today()
    counts = {kind.value: dict.fromkeys(BUCKET_KEYS, 0) for kind in ExceptionKind}
    buckets: dict[date, str] = {}
    rows = db.session.execute(select(FinanceException.kind, FinanceException.occurred_at)
                              .where(FinanceException.status == ExceptionStatus.OPEN)).all()
    for kind, occurred_at in rows:
        day = to_local(occurred_at).date()
        if day not in buckets:
            buckets[day] = bucket_of(working_days_between(day, today))
        counts[ExceptionKind(kind).value][buckets[day]] += 1
    return counts
