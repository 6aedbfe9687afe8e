"""What each agent point still holds in cash, and since when: set-based queries, FIFO by window function.

The unit is an agent point (``dossiers.agent_point_id``) of an organisation; the dossiers an
organisation's own API key registered have no point and form the organisation's own unit (point 0
here, ``None`` outside). Cash collected is every settled cash payment of the unit, less the refunds
the agent paid back out of that cash (a cash payment's refund reverses ``cash_at_agents``: see
``payments.refunds``), counted at the payment's ``paid_at``. Handovers that stand (neither reversed
nor a reversal) cover the oldest collections first: a running sum over the collections in the order
they were paid (``SUM(...) OVER (PARTITION BY unit ORDER BY paid_at, id)``) says which collections
lie beyond what was handed over. Works on PostgreSQL and SQLite (≥ 3.25: window functions); the
local (Hanoi) day of a payment is computed in SQL by ``local_day``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import Date, and_, case, exists, func, literal_column, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from core.calendar import is_working_day
from core.extensions import db
from core.models import AgentPoint, Organisation
from core.timeutil import LOCAL_TZ, as_utc
from dossiers.models import Dossier
from finance.models import CashHandover
from payments.models import Method, Payment, PaymentStatus, Refund

SETTLED = (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)
NO_POINT = 0  # the organisation's own unit (dossiers its API key registered, without a point)


class local_day(FunctionElement):  # noqa: N801 - a SQL function, named like one
    """The Hanoi calendar day of a UTC timestamp column (Asia/Ho_Chi_Minh has no daylight saving)."""

    type = Date()
    name = "local_day"
    inherit_cache = True


@compiles(local_day)
def _local_day_default(element, compiler, **kw):  # PostgreSQL
    return f"CAST(({compiler.process(element.clauses, **kw)} AT TIME ZONE 'Asia/Ho_Chi_Minh') AS DATE)"


@compiles(local_day, "sqlite")
def _local_day_sqlite(element, compiler, **kw):
    return f"date({compiler.process(element.clauses, **kw)}, '+7 hours')"


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end`` is not after ``start``)."""
    count, current = 0, start
    while current < end:
        current += timedelta(days=1)
        count += is_working_day(current)
    return count


def local_day_start(day: date) -> datetime:
    """The first instant (UTC) of a Hanoi calendar day."""
    return as_utc(datetime.combine(day, time(0), tzinfo=LOCAL_TZ))


@dataclass(frozen=True)
class Unit:
    organisation_id: int
    agent_point_id: int | None  # None: the organisation's own unit

    @property
    def key(self) -> tuple[int, int]:
        return self.organisation_id, self.agent_point_id or NO_POINT


@dataclass
class UncoveredDay:
    """Cash collected on one Hanoi day that no handover covers yet."""

    day: date
    amount_vnd: int
    first_paid_at: datetime


@dataclass
class Holding:
    unit: Unit
    collected_vnd: int = 0
    handed_over_vnd: int = 0
    days: list[UncoveredDay] = field(default_factory=list)  # oldest first

    @property
    def held_vnd(self) -> int:
        return self.collected_vnd - self.handed_over_vnd

    @property
    def since(self) -> date | None:
        """The Hanoi day of the oldest cash not handed over yet."""
        return self.days[0].day if self.days and self.held_vnd > 0 else None

    @property
    def oldest_at(self) -> datetime | None:
        return self.days[0].first_paid_at if self.days and self.held_vnd > 0 else None


def _point_key(column):
    return func.coalesce(column, literal_column(str(NO_POINT)))  # inline: the same text in SELECT and GROUP BY


def _collections(unit: Unit | None, organisation_id: int | None, paid_before: datetime | None = None):
    """Each settled cash payment of the unit(s): organisation, point key, id, paid_at, net amount."""
    refunded = (select(Refund.payment_id, func.sum(Refund.amount_vnd).label("refunded"))
                .where(Refund.status == "succeeded").group_by(Refund.payment_id).subquery())
    point = _point_key(Dossier.agent_point_id)
    query = (select(Payment.organisation_id.label("org"), point.label("point"), Payment.id.label("pid"),
                    Payment.paid_at.label("paid_at"),
                    (Payment.amount_vnd - func.coalesce(refunded.c.refunded, 0)).label("amount"))
             .join(Dossier, Dossier.id == Payment.dossier_id)
             .outerjoin(refunded, refunded.c.payment_id == Payment.id)
             .where(Payment.method == Method.CASH, Payment.status.in_(SETTLED), Payment.paid_at.is_not(None)))
    if unit is not None:
        query = query.where(Payment.organisation_id == unit.organisation_id, point == unit.key[1])
    elif organisation_id is not None:
        query = query.where(Payment.organisation_id == organisation_id)
    if paid_before is not None:
        query = query.where(Payment.paid_at < paid_before)
    return query


def standing_handovers():
    """A condition on CashHandover: the handovers that stand (not a reversal, and not reversed)."""
    reversal = aliased(CashHandover)
    return and_(CashHandover.reverses_id.is_(None), ~exists().where(reversal.reverses_id == CashHandover.id))


def _handed(unit: Unit | None, organisation_id: int | None):
    point = _point_key(CashHandover.agent_point_id)
    query = (select(CashHandover.organisation_id.label("org"), point.label("point"),
                    func.sum(CashHandover.amount_vnd).label("handed"))
             .where(standing_handovers()).group_by(CashHandover.organisation_id, point))
    if unit is not None:
        query = query.where(CashHandover.organisation_id == unit.organisation_id, point == unit.key[1])
    elif organisation_id is not None:
        query = query.where(CashHandover.organisation_id == organisation_id)
    return query


def holdings(*, unit: Unit | None = None, organisation_id: int | None = None) -> list[Holding]:
    """Every unit that collected cash or handed some over (or only ``unit``, or one organisation's)."""
    found: dict[tuple[int, int], Holding] = {}

    def holding(org: int, point: int) -> Holding:
        key = (int(org), int(point))
        if key not in found:
            found[key] = Holding(Unit(key[0], key[1] or None))
        return found[key]

    coll = _collections(unit, organisation_id).subquery()
    for org, point, total in db.session.execute(
            select(coll.c.org, coll.c.point, func.sum(coll.c.amount)).group_by(coll.c.org, coll.c.point)):
        holding(org, point).collected_vnd = int(total or 0)
    handed = _handed(unit, organisation_id).subquery()
    for org, point, total in db.session.execute(select(handed.c.org, handed.c.point, handed.c.handed)):
        holding(org, point).handed_over_vnd = int(total or 0)

    # FIFO: the running sum of collections per unit against what that unit handed over.
    running = select(coll.c.org, coll.c.point, coll.c.paid_at, coll.c.amount, func.sum(coll.c.amount).over(
        partition_by=(coll.c.org, coll.c.point), order_by=(coll.c.paid_at, coll.c.pid),
        rows=(None, 0)).label("cum")).subquery()
    beyond = running.c.cum - func.coalesce(handed.c.handed, 0)  # collected so far past what was handed over
    uncovered = case((beyond >= running.c.amount, running.c.amount), else_=beyond)
    day = local_day(running.c.paid_at)
    rows = db.session.execute(
        select(running.c.org, running.c.point, day.label("day"), func.sum(uncovered), func.min(running.c.paid_at))
        .select_from(running)
        .outerjoin(handed, and_(handed.c.org == running.c.org, handed.c.point == running.c.point))
        .where(beyond > 0, running.c.amount > 0)
        .group_by(running.c.org, running.c.point, day)
        .order_by(running.c.org, running.c.point, day))
    for org, point, day_value, amount, first in rows:
        if isinstance(day_value, str):  # SQLite's date() answers text
            day_value = date.fromisoformat(day_value)
        holding(org, point).days.append(UncoveredDay(day_value, int(amount), as_utc(first)))
    return sorted(found.values(), key=lambda h: h.unit.key)


def holding_of(unit: Unit) -> Holding:
    found = holdings(unit=unit)
    return found[0] if found else Holding(unit)


def collected_before(unit: Unit, moment: datetime) -> int:
    """Net cash the unit collected before ``moment`` (UTC)."""
    coll = _collections(unit, None, paid_before=moment).subquery()
    return int(db.session.scalar(select(func.coalesce(func.sum(coll.c.amount), 0))) or 0)


def names(holding_list: list[Holding]) -> tuple[dict[int, Organisation], dict[int, AgentPoint]]:
    """The organisations and points of the holdings, by id (one query each)."""
    org_ids = {h.unit.organisation_id for h in holding_list}
    point_ids = {h.unit.agent_point_id for h in holding_list if h.unit.agent_point_id}
    orgs = {o.id: o for o in db.session.scalars(select(Organisation).where(Organisation.id.in_(org_ids)))} \
        if org_ids else {}
    points = {p.id: p for p in db.session.scalars(select(AgentPoint).where(AgentPoint.id.in_(point_ids)))} \
        if point_ids else {}
    return orgs, points


def by_organisation(holding_list: list[Holding]) -> dict[int, Holding]:
    """The holdings added up per organisation (the days merged, oldest first)."""
    merged: dict[int, Holding] = {}
    days: dict[int, dict[date, UncoveredDay]] = defaultdict(dict)
    for h in holding_list:
        total = merged.setdefault(h.unit.organisation_id, Holding(Unit(h.unit.organisation_id, None)))
        total.collected_vnd += h.collected_vnd
        total.handed_over_vnd += h.handed_over_vnd
        if h.held_vnd <= 0:
            continue
        for d in h.days:
            seen = days[h.unit.organisation_id].get(d.day)
            if seen is None:
                days[h.unit.organisation_id][d.day] = UncoveredDay(d.day, d.amount_vnd, d.first_paid_at)
            else:
                seen.amount_vnd += d.amount_vnd
                seen.first_paid_at = min(seen.first_paid_at, d.first_paid_at)
    for org_id, total in merged.items():
        total.days = sorted(days[org_id].values(), key=lambda d: d.day)
    return merged
