"""Demo data for the exception queue and the treasury report, on top of the demo month's payments.

``seed_demo(month_start)``: a transfer to the State Treasury of the state fees booked in the first
half of the month; one open item assigned to finance staff and one resolved with an explanation
(when the reconciliations have raised items; of a kind the queue still shows open). Safe to run twice:
each step looks for what it made.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from core import accounts
from core.accounts import Principal
from core.errors import DomainError
from core.extensions import db
from core.models import User
from core.roles import Role
from core.uow import unit_of_work
from finance import queue, treasury
from finance.models import ExceptionAction, ExceptionStatus, FinanceException, FinanceExceptionAction, TreasuryTransfer

DEMO_FINANCE_EMAIL = "taichinh@demo.hanoi.vn"
ASSIGN_REASON = "Phân công kiểm tra sao kê (dữ liệu mẫu) / Assigned to check the statement (demo)"
EXPLAIN_REASON = ("Đã đối chiếu với chứng từ gốc, chênh lệch do thời điểm ghi nhận (dữ liệu mẫu) / "
                  "Checked against the source documents: a timing difference (demo)")


def _principal() -> Principal:
    user = db.session.scalars(select(User).where(User.email == DEMO_FINANCE_EMAIL)).one_or_none()
    principal = accounts.principal_for(user) if user is not None else None
    return principal or Principal(Role.FINANCE, 0, label="system:demo")


def _transfer(principal: Principal, month_start: date) -> dict | None:
    reference = f"KB-DEMO-{month_start:%Y%m}-01"
    if db.session.scalar(select(TreasuryTransfer.id).where(TreasuryTransfer.reference == reference)):
        return None
    first_half = treasury.Period(month_start, month_start + timedelta(days=14))
    owed = treasury.report(principal, first_half)["totals"]["net_vnd"]
    amount = min(owed, treasury.payable_balance())
    day = min(month_start + timedelta(days=15), queue.local_today())
    if amount <= 0 or day < month_start:
        return None
    return treasury.record_transfer(principal, amount, day, reference,
                                    "Nộp phí, lệ phí nửa đầu tháng (dữ liệu mẫu)")


def _done(action: ExceptionAction, reason: str) -> bool:
    return db.session.scalar(select(FinanceExceptionAction.id).where(
        FinanceExceptionAction.action == action, FinanceExceptionAction.reason == reason).limit(1)) is not None


def _oldest_open(exclude: set[int], *, leave_one_of_each_kind: bool = False) -> int | None:
    """The oldest open unassigned item; with ``leave_one_of_each_kind``, of a kind with another open item, so
    the queue still shows every kind open (falls back to any)."""
    query = select(FinanceException.id).where(FinanceException.status == ExceptionStatus.OPEN,
                                              FinanceException.assignee_user_id.is_(None))
    if exclude:
        query = query.where(FinanceException.id.not_in(exclude))
    if leave_one_of_each_kind:
        crowded = (select(FinanceException.kind).where(FinanceException.status == ExceptionStatus.OPEN)
                   .group_by(FinanceException.kind).having(func.count() > 1))
        found = db.session.scalar(query.where(FinanceException.kind.in_(crowded))
                                  .order_by(FinanceException.occurred_at, FinanceException.id).limit(1))
        if found is not None:
            return found
    return db.session.scalar(query.order_by(FinanceException.occurred_at, FinanceException.id).limit(1))


@unit_of_work()
def seed_demo(month_start: date) -> dict:
    principal = _principal()
    made = {"treasury_transfer": None, "assigned": None, "explained": None}
    try:
        transfer = _transfer(principal, month_start)
    except DomainError:
        transfer = None  # nothing owed yet, or the demo month is in the future: no transfer to show
    made["treasury_transfer"] = transfer["reference"] if transfer else None
    staff = queue.finance_users()
    if staff and not _done(ExceptionAction.ASSIGNED, ASSIGN_REASON):
        item = _oldest_open(set())
        if item is not None:
            user_id = principal.user_id or staff[0]["id"]
            queue.assign(principal, item, ASSIGN_REASON, user_id)
            made["assigned"] = item
    if not _done(ExceptionAction.EXPLAINED, EXPLAIN_REASON):
        item = _oldest_open({made["assigned"]} if made["assigned"] else set(), leave_one_of_each_kind=True)
        if item is not None:
            queue.explain(principal, item, EXPLAIN_REASON)
            made["explained"] = item
    return made
