"""Cash handover: what each agent point holds and for how long, handovers and their reversals, overdue cash.

An agent collects cash with a dossier's fees (``payments.service.record_cash``) and owes it to the
centre until it hands it over, by a deposit into the centre's bank account (the bank's reference;
the statement line confirms it: ``finance.cash_deposits``) or at the centre's counter (the counter
receipt's number). A handover is booked through the ledger (bank or the centre's till debited,
``cash_at_agents`` credited for the organisation) and never edited: a wrong one is reversed by a
new record. Cash still held ``FINANCE_CASH_HANDOVER_DAYS`` working days after the day it was
collected is overdue: an item in the exception queue per point and collection day (raised and
cleared by ``sweep_overdue``, every morning and after each handover) and a banner on the agent's
home page. The figures come from ``finance.cash_holdings`` (set-based, FIFO).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from core.accounts import Principal
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.extensions import db
from core.messages import Text
from core.models import AgentPoint, Organisation
from core.roles import Role
from core.settings import settings
from core.timeutil import to_local, utcnow
from core.uow import unit_of_work
from dossiers.deadlines import add_working_days
from finance import cash_deposits, exceptions
from finance.cash_holdings import (
    Holding,
    Unit,
    by_organisation,
    collected_before,
    holding_of,
    holdings,
    local_day_start,
    names,
    standing_handovers,
    working_days_between,
)
from finance.models import CashHandover, ExceptionKind, HandoverMethod
from payments import ledger
from payments import service as payments

MAX_REFERENCE = 100
_RECEIVED_IN = {HandoverMethod.BANK_DEPOSIT: ledger.Account.BANK, HandoverMethod.COUNTER: ledger.Account.CASH_AT_CENTRE}


def _vnd(amount: int) -> tuple[str, str]:
    return f"{amount:,}".replace(",", ".") + " ₫", f"{amount:,} VND"


def _refuse(field: str, vi: str, en: str, **extra) -> InvalidInput:
    return InvalidInput(Text(f"{field}: {vi}", f"{field}: {en}"),
                        errors=[{"field": field, "location": "json", "message_vi": vi, "message_en": en, **extra}])


def _require_finance(principal: Principal) -> None:
    if principal.role not in (Role.FINANCE, Role.ADMIN):
        raise Forbidden(Text("Chỉ cán bộ tài chính được ghi nhận tiền mặt bàn giao.",
                             "Only finance staff record cash handovers."))


def today() -> date:
    return to_local(utcnow()).date()


def handover_days() -> int:
    return int(settings().finance_cash_handover_days)


# ---------------------------------------------------------------- what each point holds

@dataclass(frozen=True)
class HoldingView:
    """One unit's cash, as pages and the API show it (plain values)."""

    organisation_code: str
    organisation_name: str
    agent_point_code: str | None
    agent_point_name: str | None
    collected_vnd: int
    handed_over_vnd: int
    held_vnd: int
    since: date | None  # the Hanoi day of the oldest cash not handed over
    oldest_collected_at: object  # datetime | None (UTC)
    age_working_days: int  # working days since that day
    due_by: date | None  # the last working day to hand that cash over
    overdue: bool
    overdue_vnd: int  # cash collected on days already past their due date


def _view(h: Holding, org: Organisation, point: AgentPoint | None, on: date, days: int) -> HoldingView:
    since = h.since
    due = add_working_days(since, days) if since else None
    overdue_vnd = sum(d.amount_vnd for d in h.days if add_working_days(d.day, days) < on) if h.held_vnd > 0 else 0
    return HoldingView(org.code, org.name, point.code if point else None, point.name if point else None,
                       h.collected_vnd, h.handed_over_vnd, h.held_vnd, since, h.oldest_at,
                       working_days_between(since, on) if since else 0, due, bool(due and due < on),
                       min(overdue_vnd, max(h.held_vnd, 0)))


def point_holdings(organisation_code: str | None = None) -> list[HoldingView]:
    """Every point's cash (one organisation's with ``organisation_code``), the longest held first."""
    org_id = _organisation(organisation_code).id if organisation_code else None
    found = holdings(organisation_id=org_id)
    orgs, points = names(found)
    on, days = today(), handover_days()
    views = [_view(h, orgs[h.unit.organisation_id], points.get(h.unit.agent_point_id), on, days) for h in found]
    return sorted(views, key=_order)


def organisation_holdings() -> list[HoldingView]:
    """The same per organisation (all its points together)."""
    found = holdings()
    orgs, _points = names(found)
    on, days = today(), handover_days()
    views = [_view(h, orgs[org_id], None, on, days) for org_id, h in by_organisation(found).items()]
    return sorted(views, key=_order)


def _order(view: HoldingView):
    return (not view.overdue, view.since or date.max, -view.held_vnd, view.organisation_code,
            view.agent_point_code or "")


def _organisation(code: str, *, lock: bool = False) -> Organisation:
    query = select(Organisation).where(Organisation.code == (code or "").strip().upper())
    if lock:
        query = query.with_for_update()
    org = db.session.scalars(query).one_or_none()
    if org is None:  # a field of the request, not a resource of the path: 422
        raise _refuse("organisation", f"Không có tổ chức đại lý mã {code}.", f"There is no agent organisation {code}.")
    return org


def _point(org: Organisation, code: str | None) -> AgentPoint | None:
    if not code:
        return None
    point = db.session.scalars(select(AgentPoint).where(AgentPoint.code == code.strip())).one_or_none()
    if point is None or point.organisation_id != org.id:
        raise _refuse("agent_point", f"Điểm đại lý {code} không thuộc {org.code}.",
                      f"Agent point {code} does not belong to {org.code}.")
    return point


# ---------------------------------------------------------------- handovers

def record_handover(principal: Principal, data: dict) -> CashHandover:
    """Record cash an agent point handed over; refused, changing nothing, when it cannot be right."""
    with unit_of_work():
        handover = _record(principal, data)
    return handover


def _record(principal: Principal, data: dict) -> CashHandover:
    _require_finance(principal)
    org = _organisation(data.get("organisation", ""), lock=True)  # one handover of an organisation at a time
    point = _point(org, data.get("agent_point"))
    unit = Unit(org.id, point.id if point else None)
    amount = data.get("amount_vnd")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise _refuse("amount_vnd", "Số tiền bàn giao phải lớn hơn 0.", "A handover is more than 0 đồng.")
    try:
        method = HandoverMethod(data.get("method"))
    except ValueError:
        raise _refuse("method", "Chọn hình thức: nộp ngân hàng hoặc tại quầy.",
                      "Choose the method: bank deposit or counter.") from None
    reference = " ".join(str(data.get("reference") or "").split())
    if not reference or len(reference) > MAX_REFERENCE:
        what_vi, what_en = (("số tham chiếu của ngân hàng", "the bank's reference") if method is
                            HandoverMethod.BANK_DEPOSIT else ("số biên nhận tại quầy", "the counter receipt number"))
        raise _refuse("reference", f"Nhập {what_vi} (tối đa {MAX_REFERENCE} ký tự).",
                      f"Enter {what_en} (at most {MAX_REFERENCE} characters).")
    received_by = " ".join(str(data.get("received_by") or "").split())
    if not received_by:
        raise _refuse("received_by", "Nhập người đã nhận tiền.", "Enter who received the cash.")
    on = data.get("handed_over_on")
    now_day = today()
    if not isinstance(on, date):
        raise _refuse("handed_over_on", "Nhập ngày bàn giao.", "Enter the date of the handover.")
    if on > now_day:
        raise _refuse("handed_over_on", "Ngày bàn giao không được ở tương lai.",
                      "The handover date may not be in the future.")

    holding = holding_of(unit)
    if amount > holding.held_vnd:
        held_vi, held_en = _vnd(max(holding.held_vnd, 0))
        raise _refuse("amount_vnd", f"Vượt số tiền mặt điểm đang giữ: {held_vi}.",
                      f"More than the point holds: {held_en}.", held_vnd=max(holding.held_vnd, 0))
    by_then = collected_before(unit, local_day_start(on + timedelta(days=1))) - holding.handed_over_vnd
    if amount > by_then:
        held_vi, held_en = _vnd(max(by_then, 0))
        day = on.strftime("%d/%m/%Y")
        raise _refuse("handed_over_on", f"Đến hết ngày {day} điểm mới thu {held_vi} chưa bàn giao; "
                      "không thể bàn giao tiền thu sau ngày đó.",
                      f"By the end of {day} the point had collected only {held_en} not yet handed over; "
                      "cash cannot be handed over before it was collected.", held_vnd=max(by_then, 0))
    duplicate = db.session.scalars(select(CashHandover.id).where(
        func.upper(CashHandover.reference) == reference.upper(), standing_handovers())).first()
    if duplicate is not None:
        raise Conflict(Text(f"Số tham chiếu {reference} đã được ghi nhận cho một lần bàn giao khác.",
                            f"The reference {reference} is already recorded for another handover."),
                       errors=[{"field": "reference", "location": "json",
                                "message_vi": "Số tham chiếu đã được ghi nhận.",
                                "message_en": "This reference is already recorded."}])

    handover = CashHandover(organisation_id=org.id, agent_point_id=unit.agent_point_id, amount_vnd=amount,
                            handed_over_on=on, method=method, reference=reference, received_by=received_by[:300],
                            note=(data.get("note") or "").strip() or None, recorded_by=principal.label)
    db.session.add(handover)
    db.session.flush()
    entry = ledger.cash_handover(f"handover-{handover.id}", amount, org.code, received_in=_RECEIVED_IN[method])
    handover.ledger_transaction_id = payments.book_ledger(entry, memo=f"{method.value} {reference}"[:500])
    if method is HandoverMethod.BANK_DEPOSIT:
        cash_deposits.match_recorded(handover)
    sweep_overdue(unit=unit, raise_new=False)
    return handover


def reverse_handover(principal: Principal, handover_id: int, reason: str) -> CashHandover:
    """Cancel a wrong handover by a reversing record (and reversing ledger entries); the original stays."""
    with unit_of_work():
        reversal = _reverse(principal, handover_id, reason)
    return reversal


def _reverse(principal: Principal, handover_id: int, reason: str) -> CashHandover:
    _require_finance(principal)
    reason = " ".join((reason or "").split())
    if len(reason) < 3:
        raise _refuse("reason", "Nêu lý do hủy lần bàn giao (ít nhất 3 ký tự).",
                      "Give the reason for reversing the handover (at least 3 characters).")
    original = db.session.get(CashHandover, handover_id)
    if original is None:
        raise NotFound(Text("Không tìm thấy lần bàn giao này.", "Handover not found."))
    db.session.scalars(select(Organisation).where(Organisation.id == original.organisation_id).with_for_update()).one()
    if original.reverses_id is not None:
        raise Conflict(Text("Đây là một bút toán hủy; không thể hủy nó.", "This is a reversal; it cannot be reversed."))
    if db.session.scalars(select(CashHandover.id).where(CashHandover.reverses_id == original.id)).first():
        raise Conflict(Text("Lần bàn giao này đã được hủy.", "This handover is already reversed."))
    org = db.session.get(Organisation, original.organisation_id)
    reversal = CashHandover(organisation_id=original.organisation_id, agent_point_id=original.agent_point_id,
                            amount_vnd=original.amount_vnd, handed_over_on=original.handed_over_on,
                            method=original.method, reference=original.reference, received_by=original.received_by,
                            note=reason[:2000], recorded_by=principal.label, reverses_id=original.id)
    db.session.add(reversal)
    db.session.flush()
    entry = ledger.cash_handover(f"handover-{original.id}", int(original.amount_vnd), org.code,
                                 received_in=_RECEIVED_IN[original.method]).reversed(
        "cash_handover_reversal", f"handover-{original.id}")
    reversal.ledger_transaction_id = payments.book_ledger(entry, memo=reason[:500])
    cash_deposits.release(original)
    sweep_overdue(unit=Unit(original.organisation_id, original.agent_point_id), raise_new=False)
    return reversal


@dataclass(frozen=True)
class HandoverView:
    id: int
    organisation_code: str
    agent_point_code: str | None
    agent_point_name: str | None
    amount_vnd: int
    handed_over_on: date
    method: str
    reference: str
    received_by: str
    note: str | None
    recorded_by: str
    recorded_at: object
    confirmed_by_bank: bool  # a bank deposit whose statement line was matched
    bank_reference: str | None
    reverses_id: int | None
    reversed_by_id: int | None
    ledger_transaction_id: int | None


def handover_history(*, organisation_code: str | None = None, agent_point_code: str | None = None,
                     limit: int = 100, offset: int = 0, only_id: int | None = None) -> list[HandoverView]:
    """Handovers and reversals, the latest first (or the one ``only_id``)."""
    query = select(CashHandover).order_by(CashHandover.id.desc())
    if only_id is not None:
        query = query.where(CashHandover.id == only_id)
    if organisation_code:
        query = query.where(CashHandover.organisation_id == _organisation(organisation_code).id)
    if agent_point_code:
        point = db.session.scalars(select(AgentPoint).where(AgentPoint.code == agent_point_code)).one_or_none()
        query = query.where(CashHandover.agent_point_id == (point.id if point else -1))
    rows = list(db.session.scalars(query.limit(limit).offset(offset)))
    ids = [r.id for r in rows]
    reversed_by = {original: reversal for original, reversal in db.session.execute(
        select(CashHandover.reverses_id, CashHandover.id).where(CashHandover.reverses_id.in_(ids)))} if ids else {}
    orgs = {o.id: o for o in db.session.scalars(select(Organisation).where(
        Organisation.id.in_({r.organisation_id for r in rows})))} if rows else {}
    point_ids = {r.agent_point_id for r in rows if r.agent_point_id}
    points = {p.id: p for p in db.session.scalars(select(AgentPoint).where(AgentPoint.id.in_(point_ids)))} \
        if point_ids else {}
    lines = cash_deposits.line_references({r.bank_line_id for r in rows if r.bank_line_id})
    return [HandoverView(
        r.id, orgs[r.organisation_id].code, points[r.agent_point_id].code if r.agent_point_id else None,
        points[r.agent_point_id].name if r.agent_point_id else None, int(r.amount_vnd), r.handed_over_on,
        r.method.value, r.reference, r.received_by, r.note, r.recorded_by, r.recorded_at,
        r.bank_line_id is not None and r.reverses_id is None, lines.get(r.bank_line_id), r.reverses_id,
        reversed_by.get(r.id), r.ledger_transaction_id) for r in rows]


# ---------------------------------------------------------------- overdue

def _overdue_key(unit: Unit, day: date) -> str:
    return f"cash_overdue:{unit.organisation_id}:{unit.key[1]}:{day.isoformat()}"


def sweep_overdue(on: date | None = None, *, unit: Unit | None = None, raise_new: bool = True) -> dict:
    """Raise an exception item per unit and collection day whose cash is overdue; clear those handed over.

    A handover or a reversal sweeps its own unit with ``raise_new=False``: it clears at once what it
    covered; raising is the morning job's (one run a day, so the queue's age is the job's view).
    """
    on = on or today()
    days = handover_days()
    found = holdings(unit=unit)
    orgs, points = names(found)
    items = []
    for h in found:
        if h.held_vnd <= 0:
            continue
        org, point = orgs[h.unit.organisation_id], points.get(h.unit.agent_point_id)
        for d in h.days:
            due = add_working_days(d.day, days)
            if due >= on:
                continue
            items.append(exceptions.Found(
                kind=ExceptionKind.CASH_OVERDUE, dedupe_key=_overdue_key(h.unit, d.day), amount_vnd=d.amount_vnd,
                occurred_at=d.first_paid_at, organisation_id=org.id, agent_point_id=h.unit.agent_point_id,
                ours={"organisation": org.code, "agent_point": point.code if point else None,
                      "collected_on": d.day.isoformat(), "due_by": due.isoformat(), "not_handed_over_vnd": d.amount_vnd,
                      "held_vnd": h.held_vnd, "working_days_allowed": days}))
    raised = exceptions.raise_items(items) if raise_new else 0
    still = {item.dedupe_key for item in items}
    open_now = exceptions.open_keys(ExceptionKind.CASH_OVERDUE)
    if unit is not None:
        prefix = f"cash_overdue:{unit.organisation_id}:{unit.key[1]}:"
        open_now = {key for key in open_now if key.startswith(prefix)}
    cleared = exceptions.clear(sorted(open_now - still), "The cash collected that day has been handed over.",
                               details={"checked_on": on.isoformat()})
    return {"overdue_days": len(items), "raised": raised, "cleared": cleared}


# ---------------------------------------------------------------- the agent's home page

@dataclass(frozen=True)
class AgentBanner:
    held_vnd: int
    since: date
    due_by: date
    overdue: bool
    point_name: str | None


def agent_banner(principal: Principal) -> AgentBanner | None:
    """The cash the signed-in agent's point (or, without a point, organisation) holds, when it holds any."""
    if principal.role is not Role.AGENT or principal.organisation_id is None:
        return None
    if principal.agent_point_id is not None:
        h = holding_of(Unit(principal.organisation_id, principal.agent_point_id))
        point = db.session.get(AgentPoint, principal.agent_point_id)
        name = point.name if point else None
    else:
        h = by_organisation(holdings(organisation_id=principal.organisation_id)).get(principal.organisation_id)
        name = None
    if h is None or h.held_vnd <= 0 or h.since is None:
        return None
    due = add_working_days(h.since, handover_days())
    return AgentBanner(h.held_vnd, h.since, due, due < today(), name)


def organisations_and_points() -> list[dict]:
    """The choices of the handover form: every active organisation and its points."""
    orgs = list(db.session.scalars(select(Organisation).order_by(Organisation.code)))
    points = list(db.session.scalars(select(AgentPoint).where(AgentPoint.is_active.is_(True))
                                     .order_by(AgentPoint.code)))
    return [{"code": o.code, "name": o.name,
             "points": [{"code": p.code, "name": p.name} for p in points if p.organisation_id == o.id]}
            for o in orgs]
