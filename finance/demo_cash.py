"""Demo data: a month of cash handovers on top of the month's cash payments (``flask demo load``).

Every point but one hands its cash over each Friday of the month (up to yesterday): the post offices
by deposit into the centre's bank account, confirmed by a statement imported first (one deposit
short by 10.000 ₫, for the exception queue), the others at the centre's counter. The point that
holds the most is left holding it, so it is overdue; the morning sweep then raises its items.
Safe to run twice: a second run finds nothing left to hand over up to the same Fridays, and the
statement file, the same bytes, is imported once.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from core.accounts import Principal
from core.errors import Conflict
from core.extensions import db
from core.models import AgentPoint, AgentPointKind, Organisation
from core.roles import Role
from core.uow import unit_of_work
from finance import cash
from finance.cash_holdings import Unit, collected_before, holding_of, holdings, local_day_start
from finance.models import HandoverMethod
from payments import bank

DEMO_FINANCE = Principal(role=Role.FINANCE, api_key_id=0, label="demo:taichinh@demo.hanoi.vn")
RECEIVERS = ("Kế toán Trần Thị Bình", "Thủ quỹ Lê Văn Cường")
SHORT_BY = 10_000


def _fridays(month_start: date, until: date) -> list[date]:
    last = date(month_start.year, month_start.month, calendar.monthrange(month_start.year, month_start.month)[1])
    day, found = month_start, []
    while day <= min(last, until):
        if day.weekday() == 4:
            found.append(day)
        day += timedelta(days=1)
    return found


def _plan(month_start: date) -> tuple[list[dict], Unit | None]:
    units = [h for h in holdings() if h.collected_vnd > 0]
    if not units:
        return [], None
    kept = max(units, key=lambda h: (h.held_vnd, h.unit.key)).unit  # left holding its cash: overdue
    points = {p.id: p for p in db.session.query(AgentPoint)}
    orgs = {o.id: o for o in db.session.query(Organisation)}
    plan = []
    for h in units:
        if h.unit == kept:
            continue
        point = points.get(h.unit.agent_point_id)
        deposit = point is not None and point.kind is AgentPointKind.POST_OFFICE
        handed = holding_of(h.unit).handed_over_vnd
        for friday in _fridays(month_start, cash.today() - timedelta(days=1)):
            amount = collected_before(h.unit, local_day_start(friday + timedelta(days=1))) - handed
            if amount <= 0:
                continue
            handed += amount
            org = orgs[h.unit.organisation_id]
            where = point.code if point else org.code
            reference = (f"FT{friday:%y%m%d}{h.unit.key[1]:05d}" if deposit
                         else f"BL-{friday:%Y%m%d}-{where}")
            plan.append({"organisation": org.code, "agent_point": point.code if point else None, "amount_vnd": amount,
                         "handed_over_on": friday, "reference": reference, "received_by": RECEIVERS[len(plan) % 2],
                         "method": (HandoverMethod.BANK_DEPOSIT if deposit else HandoverMethod.COUNTER).value,
                         "note": f"Nộp tiền thu tuần đến {friday:%d/%m/%Y}" if deposit else None})
    return plan, kept


def _statement(plan: list[dict]) -> bytes:
    rows = ["Ngày giao dịch;Số tham chiếu;Ghi nợ;Ghi có;Nội dung"]
    deposits = [p for p in plan if p["method"] == HandoverMethod.BANK_DEPOSIT.value]
    for index, item in enumerate(deposits):
        amount = item["amount_vnd"] - (SHORT_BY if index == len(deposits) - 1 and item["amount_vnd"] > SHORT_BY else 0)
        rows.append(f"{item['handed_over_on']:%d/%m/%Y} 15:30:00;{item['reference']};0;{amount:,};".replace(",", ".") +
                    f"{item['agent_point'] or item['organisation']} NOP TIEN MAT THU HO LE PHI")
    return ("\n".join(rows) + "\n").encode()


def seed_demo(month_start: date) -> dict:
    """Add the month's handovers (and the bank statement of its deposits); what was added."""
    with unit_of_work():
        plan, kept = _plan(month_start)
        statement = _statement(plan)
    imported = False
    if any(p["method"] == HandoverMethod.BANK_DEPOSIT.value for p in plan):
        try:
            bank.import_statement(DEMO_FINANCE, f"saoke-nop-tien-mat-{month_start:%Y-%m}.csv", statement)
            imported = True
        except Conflict:  # imported by an earlier run
            pass
    recorded = 0
    for item in plan:
        try:
            cash.record_handover(DEMO_FINANCE, item)
            recorded += 1
        except Conflict:  # recorded by an earlier run
            continue
    with unit_of_work():
        swept = cash.sweep_overdue()
    return {"handovers": recorded, "statement_imported": imported, "overdue_days": swept["overdue_days"],
            "left_overdue": list(kept.key) if kept else None}
