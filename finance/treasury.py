"""The treasury report: state fees collected, refunded and transferred to the State Treasury.

Read from the ledger, set-based: every state fee a payment booked is a credit on
``treasury_payable`` (a refund of it a debit, an adjustment either), on a transaction that carries
its dossier, so the figures group by the dossier's procedure level and sector in one query. The
period is a range of local days (Asia/Ho_Chi_Minh), compared in UTC as ``booked_at`` is stored.
What was paid to the treasury is a ``treasury_transfers`` row booked through the ledger
(treasury_payable debit, bank credit), refused when it is more than the ledger says is owed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import case, func, select, text

from core.accounts import Principal
from core.errors import Conflict, Forbidden
from core.extensions import db
from core.messages import Text
from core.roles import Role
from core.timeutil import LOCAL_TZ, as_utc
from core.uow import unit_of_work
from dossiers.models import Dossier, Procedure
from finance.models import TreasuryTransfer
from finance.queue import local_today, refused
from payments import ledger
from payments import service as payments
from payments.models import LedgerEntry, LedgerTransaction

FINANCE_ROLES = (Role.FINANCE, Role.ADMIN)
PAYABLE = ledger.Account.TREASURY_PAYABLE.value
REFERENCE_MAX = 100
_LOCK = 0x7472_6561  # pg advisory lock: one treasury transfer at a time ("trea")


@dataclass(frozen=True)
class Period:
    start: date  # first local day
    end: date  # last local day, included

    @property
    def utc_bounds(self) -> tuple[datetime, datetime]:
        return (as_utc(datetime.combine(self.start, time(0), tzinfo=LOCAL_TZ)),
                as_utc(datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=LOCAL_TZ)))

    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]


MAX_DAYS = 366 * 3


def period(start: date | None, end: date | None) -> Period:
    """The period from ``start`` to ``end`` (local days, both included); refused if it ends before it starts."""
    if start is None or end is None:
        raise refused("from" if start is None else "to", "Nhập ngày bắt đầu và ngày kết thúc.",
                      "Give the first and the last day.", "query")
    if end < start:
        raise refused("to", "Kỳ báo cáo kết thúc trước khi bắt đầu.", "The period ends before it starts.", "query")
    if (end - start).days > MAX_DAYS:
        raise refused("to", "Kỳ báo cáo dài tối đa 3 năm.", "A period is at most three years.", "query")
    return Period(start, end)


def month_so_far(today: date | None = None) -> Period:
    today = today or local_today()
    return Period(today.replace(day=1), today)


def _check(principal: Principal) -> None:
    if principal.role not in FINANCE_ROLES:
        raise Forbidden(Text("Chỉ bộ phận tài chính xem báo cáo kho bạc.",
                             "Only finance staff see the treasury report."))


def payable_balance() -> int:
    """What the ledger says the centre owes the treasury now (all time)."""
    total = db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_vnd), 0))
                              .where(LedgerEntry.account == PAYABLE))
    return -int(total or 0)


def report(principal: Principal, when: Period) -> dict:
    """The period's state fees per procedure level and sector, the transfers and what is outstanding."""
    _check(principal)
    start, before = when.utc_bounds
    amount = LedgerEntry.amount_vnd
    kind = LedgerTransaction.kind
    rows = db.session.execute(
        select(Procedure.level, Procedure.sector,
               func.coalesce(func.sum(case((kind == "payment", -amount), else_=0)), 0),
               func.coalesce(func.sum(case((kind == "refund", amount), else_=0)), 0),
               func.coalesce(func.sum(case((kind == "adjustment", -amount), else_=0)), 0),
               func.count(func.distinct(case((kind == "payment", LedgerTransaction.dossier_id)))))
        .select_from(LedgerEntry)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .outerjoin(Dossier, Dossier.id == LedgerTransaction.dossier_id)
        .outerjoin(Procedure, Procedure.id == Dossier.procedure_id)
        .where(LedgerEntry.account == PAYABLE, kind.in_(("payment", "refund", "adjustment")),
               LedgerTransaction.booked_at >= start, LedgerTransaction.booked_at < before)
        .group_by(Procedure.level, Procedure.sector)).all()
    groups = []
    for level, sector, collected, refunded, adjusted, dossiers in rows:
        groups.append({"level": level.value if hasattr(level, "value") else level, "sector": sector,
                       "collected_vnd": int(collected), "refunded_vnd": int(refunded),
                       "adjusted_vnd": int(adjusted), "net_vnd": int(collected) - int(refunded) + int(adjusted),
                       "dossiers": int(dossiers)})
    order = {"province": 0, "district": 1, "commune": 2, None: 3}
    groups.sort(key=lambda g: (order.get(g["level"], 3), g["sector"] or ""))
    levels: dict[str | None, dict] = {}
    for group in groups:
        level = levels.setdefault(group["level"], {"level": group["level"], "collected_vnd": 0, "refunded_vnd": 0,
                                                   "adjusted_vnd": 0, "net_vnd": 0, "dossiers": 0})
        for key in ("collected_vnd", "refunded_vnd", "adjusted_vnd", "net_vnd", "dossiers"):
            level[key] += group[key]
    transfers = transfers_in(when)
    totals = {key: sum(g[key] for g in groups)
              for key in ("collected_vnd", "refunded_vnd", "adjusted_vnd", "net_vnd", "dossiers")}
    transferred = sum(t["amount_vnd"] for t in transfers)
    totals.update(transferred_vnd=transferred, outstanding_vnd=totals["net_vnd"] - transferred)
    return {"from": when.start, "to": when.end, "groups": groups, "levels": list(levels.values()),
            "totals": totals, "transfers": transfers, "payable_now_vnd": payable_balance()}


def transfers_in(when: Period) -> list[dict]:
    rows = db.session.scalars(select(TreasuryTransfer).where(
        TreasuryTransfer.transferred_on >= when.start, TreasuryTransfer.transferred_on <= when.end)
        .order_by(TreasuryTransfer.transferred_on, TreasuryTransfer.id))
    return [_transfer_view(t) for t in rows]


def _transfer_view(row: TreasuryTransfer) -> dict:
    return {"id": row.id, "amount_vnd": int(row.amount_vnd), "transferred_on": row.transferred_on,
            "reference": row.reference, "note": row.note, "ledger_transaction_id": row.ledger_transaction_id,
            "recorded_by": row.recorded_by, "recorded_at": as_utc(row.recorded_at)}


@unit_of_work()
def record_transfer(principal: Principal, amount_vnd: int | None, transferred_on: date | None,
                    reference: str | None, note: str | None = None) -> dict:
    """State fees paid to the treasury: booked once per reference, never more than the ledger says is owed."""
    _check(principal)
    if not isinstance(amount_vnd, int) or isinstance(amount_vnd, bool) or amount_vnd <= 0:
        raise refused("amount_vnd", "Số tiền phải là số đồng nguyên lớn hơn 0.", "A whole number of đồng above zero.")
    reference = (reference or "").strip()
    if not reference:
        raise refused("reference", "Nhập số chứng từ của Kho bạc hoặc mã giao dịch ngân hàng.",
                      "Enter the State Treasury's receipt number or the bank's reference.")
    if len(reference) > REFERENCE_MAX:
        raise refused("reference", f"Tối đa {REFERENCE_MAX} ký tự.", f"At most {REFERENCE_MAX} characters.")
    if transferred_on is None:
        raise refused("transferred_on", "Nhập ngày chuyển tiền.", "Enter the day of the transfer.")
    if transferred_on > local_today():
        raise refused("transferred_on", "Ngày chuyển tiền không thể ở tương lai.",
                      "The transfer cannot be in the future.")
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
    if db.session.scalar(select(TreasuryTransfer.id).where(TreasuryTransfer.reference == reference)):
        raise Conflict(Text(f"Khoản chuyển Kho bạc {reference} đã được ghi nhận.",
                            f"The treasury transfer {reference} is already recorded."))
    owed = payable_balance()
    if amount_vnd > owed:
        raise refused("amount_vnd", f"Số tiền lớn hơn số còn phải nộp Kho bạc ({owed:,} đồng).".replace(",", "."),
                      f"More than is owed to the treasury ({owed:,} VND).")
    transaction_id = payments.book_finance(ledger.treasury_transfer(f"treasury-{reference}", amount_vnd),
                                           memo=(note or "")[:500] or None)
    row = TreasuryTransfer(amount_vnd=amount_vnd, transferred_on=transferred_on, reference=reference,
                           note=(note or "").strip() or None, ledger_transaction_id=transaction_id,
                           recorded_by=principal.label)
    db.session.add(row)
    db.session.flush()
    return _transfer_view(row)
