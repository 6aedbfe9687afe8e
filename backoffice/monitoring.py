"""The centre's live monitoring: the figures of a period, grouped by service point, tier, agent organisation
or procedure level. Set-based, a few grouped queries:

- on PostgreSQL, received, routed outside the service radius, resolved (early, on time, late, the processing
  times' histogram) and rated come from the daily summary ``monitoring_daily`` (per local day, point,
  organisation and level; kept by triggers in the same transaction as every change of the dossiers, their
  resolutions and the ratings, migration 0025): a month of Hanoi is a few tens of thousands of its rows
  instead of a million raw ones. Elsewhere (the embedded SQLite), and with ``raw=True``, they come from the
  raw rows: ``dossiers`` (the covering index ``ix_dossiers_monitoring_received``), ``dossier_resolutions``
  (one row per resolved dossier, written by the status change) and ``feedback``;
- open dossiers overdue now: the partial index ``ix_dossiers_open_deadline`` (covering the organisation and
  the procedure);
- ``payments``: settled payments by method (the covering index ``ix_payments_paid_at``); ``feedback``: the
  SIPAS criteria and the latest comments (the covering index ``ix_feedback_created_at``).

The processing-time histogram per group gives the average and the 90th percentile, computed the same way
from either source. Plain values out (dicts and lists); labels are the views' business. The period is a
range of local days (Asia/Ho_Chi_Minh), compared in UTC as the timestamps are stored.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Integer, case, cast, func, literal_column, select, true

from backoffice.models import MonitoringDaily
from core.errors import InvalidInput
from core.extensions import db
from core.messages import Text
from core.timeutil import LOCAL_TZ, as_utc, to_local, utcnow
from dossiers.models import OPEN_STATUSES, Dossier, DossierResolution, Procedure
from geo.models import ServicePoint
from payments.models import Payment, PaymentStatus
from tracking.models import Feedback

DIMENSIONS = ("point", "tier", "organisation", "level")
OUTCOMES = ("early", "on_time", "late")
SIPAS = ("sipas_access", "sipas_procedure", "sipas_officer", "sipas_result", "sipas_feedback")
SETTLED = (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)
MAX_DAYS = 366 * 3


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


def _refused(field: str, vi: str, en: str) -> InvalidInput:
    return InvalidInput(Text(vi, en), errors=[{"field": field, "location": "query", "message_vi": vi,
                                               "message_en": en}])


def local_today() -> date:
    return to_local(utcnow()).date()


def today() -> Period:
    day = local_today()
    return Period(day, day)


def period(start: date | None, end: date | None) -> Period:
    """From ``start`` to ``end`` (local days, both included); refused if it ends before it starts."""
    if start is None or end is None:
        raise _refused("from" if start is None else "to", "Nhập ngày bắt đầu và ngày kết thúc (YYYY-MM-DD).",
                       "Give the first and the last day (YYYY-MM-DD).")
    if end < start:
        raise _refused("to", "Kỳ theo dõi kết thúc trước khi bắt đầu: ngày kết thúc phải từ ngày bắt đầu trở đi.",
                       "The period ends before it starts: the last day must be on or after the first.")
    if (end - start).days > MAX_DAYS:
        raise _refused("to", "Kỳ theo dõi dài tối đa 3 năm.", "A period is at most three years.")
    return Period(start, end)


def dimension(by: str | None) -> str:
    if by in (None, ""):
        return "point"
    if by not in DIMENSIONS:
        raise _refused("by", "Nhóm theo: point, tier, organisation hoặc level.",
                       "Group by point, tier, organisation or level.")
    return by


# ---------------------------------------------------------------- group keys

def _dossier_key(stmt, by: str):
    """The statement over ``dossiers`` with the joins the grouping needs, and the key column."""
    if by == "point":
        return stmt, Dossier.service_point_id
    if by == "organisation":
        return stmt, Dossier.organisation_id
    if by == "tier":
        return stmt.join(ServicePoint, ServicePoint.id == Dossier.service_point_id), ServicePoint.tier
    return stmt.join(Procedure, Procedure.id == Dossier.procedure_id), Procedure.level


def _resolution_key(stmt, by: str):
    if by == "point":
        return stmt, DossierResolution.service_point_id
    if by == "organisation":
        return stmt, DossierResolution.organisation_id
    if by == "tier":
        return (stmt.join(ServicePoint, ServicePoint.id == DossierResolution.service_point_id), ServicePoint.tier)
    return stmt, DossierResolution.level


def _key(value):
    return getattr(value, "value", value)


# ---------------------------------------------------------------- the figures

def _empty_row() -> dict:
    return {"received": 0, "outside_radius": 0, "resolved": 0, "early": 0, "on_time": 0, "late": 0,
            "overdue_now": 0, "on_time_rate": None, "avg_working_days": None, "p90_working_days": None,
            "ratings": 0, "rating_avg": None, "_hist": defaultdict(int), "_rating_sum": 0}


def percentile(histogram: dict[int, int], share: float) -> float | None:
    """The ``share`` percentile (nearest rank) of values given as value → count."""
    total = sum(histogram.values())
    if not total:
        return None
    rank, seen = math.ceil(share * total), 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return float(value)
    return None  # pragma: no cover - rank ≤ total


def summarised() -> bool:
    """Whether the figures come from the summary ``monitoring_daily`` (PostgreSQL, where triggers keep it) or
    from the raw rows (the embedded SQLite)."""
    return db.session.get_bind().dialect.name == "postgresql"


def overview(when: Period, by: str = "point", now: datetime | None = None, raw: bool = False) -> dict:
    """The period's figures per group and in total (``rows``: key → figures; ``total``). ``raw``: computed
    from the raw rows even where the summary is kept (the tests' and the benchmark's cross-check)."""
    now = now or utcnow()
    rows: dict = defaultdict(_empty_row)
    distribution = {r: 0 for r in range(1, 6)}
    if summarised() and not raw:
        _summary_figures(rows, distribution, when, by)
    else:
        _raw_figures(rows, distribution, when, by)

    stmt, key = _dossier_key(select().select_from(Dossier), by)
    overdue = stmt.add_columns(key, func.count()) \
        .where(Dossier.status.in_(OPEN_STATUSES), Dossier.deadline_at < now).group_by(key)
    for k, count in db.session.execute(overdue):
        rows[_key(k)]["overdue_now"] = count

    total = _empty_row()
    for row in rows.values():
        for name in ("received", "outside_radius", "resolved", "early", "on_time", "late", "overdue_now", "ratings",
                     "_rating_sum"):
            total[name] += row[name]
        for days, count in row["_hist"].items():
            total["_hist"][days] += count
    for row in (*rows.values(), total):
        _finish(row)
    return {"period": when, "by": by, "rows": dict(rows), "total": total, "distribution": distribution}


def _summary_key(stmt, by: str):
    if by == "point":
        return stmt, MonitoringDaily.service_point_id
    if by == "organisation":
        return stmt, MonitoringDaily.organisation_id
    if by == "tier":
        return stmt.join(ServicePoint, ServicePoint.id == MonitoringDaily.service_point_id), ServicePoint.tier
    return stmt, MonitoringDaily.level


def _summary_figures(rows: dict, distribution: dict, when: Period, by: str) -> None:
    """Received, resolved and rated from the daily summary: a month is a few thousand rows of it."""
    m = MonitoringDaily
    in_period = (m.day >= when.start, m.day <= when.end)
    stars = (m.rated_1, m.rated_2, m.rated_3, m.rated_4, m.rated_5)
    stmt, key = _summary_key(select().select_from(m), by)
    sums = stmt.add_columns(key, *(func.sum(c) for c in (m.received, m.outside_radius, m.resolved, m.early,
                                                             m.on_time, m.late, *stars))) \
        .where(*in_period).group_by(key)
    for k, received, outside, resolved, early, on_time, late, *rated in db.session.execute(sums):
        rated = [int(r or 0) for r in rated]
        if not (received or resolved or any(rated)):
            continue  # every dossier of the group moved away (a transfer): no row, as from the raw rows
        row = rows[_key(k)]
        row.update(received=int(received), outside_radius=int(outside), resolved=int(resolved), early=int(early),
                   on_time=int(on_time), late=int(late), ratings=sum(rated),
                   _rating_sum=sum(star * count for star, count in enumerate(rated, start=1)))
        for star, count in enumerate(rated, start=1):
            distribution[star] += count
    each = func.json_each_text(m.working_days).table_valued("key", "value")
    stmt, key = _summary_key(select().select_from(m).join(each, true()), by)
    hist = stmt.add_columns(key, each.c.key, func.sum(cast(each.c.value, Integer))) \
        .where(*in_period, m.resolved != 0).group_by(key, each.c.key)
    for k, days, count in db.session.execute(hist):
        if count:
            rows[_key(k)]["_hist"][int(days)] += int(count)


def _raw_figures(rows: dict, distribution: dict, when: Period, by: str) -> None:
    """Received, resolved and rated from the dossiers, their resolutions and the ratings themselves."""
    start, before = when.utc_bounds
    stmt, key = _dossier_key(select().select_from(Dossier), by)
    received = stmt.add_columns(key, func.count(), func.sum(case((Dossier.outside_service_radius, 1), else_=0))) \
        .where(Dossier.received_at >= start, Dossier.received_at < before).group_by(key)
    for k, count, outside in db.session.execute(received):
        rows[_key(k)].update(received=count, outside_radius=int(outside or 0))

    stmt, key = _resolution_key(select().select_from(DossierResolution), by)
    resolved = stmt.add_columns(key, DossierResolution.outcome, DossierResolution.working_days, func.count()) \
        .where(DossierResolution.resolved_at >= start, DossierResolution.resolved_at < before) \
        .group_by(key, DossierResolution.outcome, DossierResolution.working_days)
    for k, outcome, days, count in db.session.execute(resolved):
        row = rows[_key(k)]
        row["resolved"] += count
        row[outcome] += count
        row["_hist"][days] += count

    stmt, key = _dossier_key(select().select_from(Feedback).join(Dossier, Dossier.id == Feedback.dossier_id), by)
    rated = stmt.add_columns(key, Feedback.rating, func.count()) \
        .where(Feedback.created_at >= start, Feedback.created_at < before).group_by(key, Feedback.rating)
    for k, rating, count in db.session.execute(rated):
        row = rows[_key(k)]
        row["ratings"] += count
        row["_rating_sum"] += rating * count
        distribution[rating] += count


def _finish(row: dict) -> None:
    hist, rating_sum = row.pop("_hist"), row.pop("_rating_sum")
    if row["resolved"]:
        row["on_time_rate"] = round(100 * (row["early"] + row["on_time"]) / row["resolved"], 1)
        row["avg_working_days"] = round(sum(d * c for d, c in hist.items()) / row["resolved"], 2)
        row["p90_working_days"] = percentile(hist, 0.9)
    if row["ratings"]:
        row["rating_avg"] = round(rating_sum / row["ratings"], 2)


def payments_by_method(when: Period) -> dict[str, dict]:
    """Method → settled payments of the period (by the time they were paid): count and amount."""
    start, before = when.utc_bounds
    rows = db.session.execute(select(Payment.method, func.count(), func.coalesce(func.sum(Payment.amount_vnd), 0))
                              .where(Payment.paid_at >= start, Payment.paid_at < before,
                                     Payment.status.in_(SETTLED)).group_by(Payment.method))
    return {_key(method): {"payments": count, "amount_vnd": int(amount)} for method, count, amount in rows}


def sipas(when: Period) -> dict[str, dict]:
    """The SIPAS criteria over the period's ratings: criterion → answers and average (None when unanswered)."""
    start, before = when.utc_bounds
    columns = [getattr(Feedback, name) for name in SIPAS]
    stmt = select(*(func.count(c) for c in columns), *(func.avg(c) for c in columns)) \
        .where(Feedback.created_at >= start, Feedback.created_at < before)
    values = db.session.execute(stmt).one()
    return {name: {"answers": int(values[i] or 0),
                   "average": round(float(values[len(SIPAS) + i]), 2) if values[len(SIPAS) + i] is not None else None}
            for i, name in enumerate(SIPAS)}


def comments(when: Period, limit: int = 20) -> list[dict]:
    """The period's latest ratings that came with a comment."""
    start, before = when.utc_bounds
    rows = db.session.execute(
        select(Feedback.rating, Feedback.comment, Feedback.created_at, Dossier.number, ServicePoint.code)
        .join(Dossier, Dossier.id == Feedback.dossier_id)
        .join(ServicePoint, ServicePoint.id == Dossier.service_point_id)
        .where(Feedback.created_at >= start, Feedback.created_at < before, Feedback.comment.is_not(None),
               Feedback.comment != "")
        .order_by(Feedback.created_at.desc()).limit(limit))
    return [{"rating": r, "comment": c, "at": at, "number": n, "point": p} for r, c, at, n, p in rows]


def daily_series(when: Period, raw: bool = False) -> dict[str, list[int]]:
    """Received and resolved on each day of the period (for the chart): from the daily summary where it is
    kept, else one grouped query per table."""
    index = {d.isoformat(): i for i, d in enumerate(when.days())}
    out = {"received": [0] * len(index), "resolved": [0] * len(index), "late": [0] * len(index)}
    if summarised() and not raw:
        m = MonitoringDaily
        for day, received, resolved, late in db.session.execute(
                select(m.day, func.sum(m.received), func.sum(m.resolved), func.sum(m.late))
                .where(m.day >= when.start, m.day <= when.end).group_by(m.day)):
            if (i := index.get(day.isoformat())) is not None:
                out["received"][i], out["resolved"][i], out["late"][i] = int(received), int(resolved), int(late)
        return out
    start, before = when.utc_bounds
    received_day = _local_day(Dossier.received_at)
    for day, count in db.session.execute(select(received_day, func.count())
                                         .where(Dossier.received_at >= start, Dossier.received_at < before)
                                         .group_by(received_day)):
        if (i := index.get(str(day)[:10])) is not None:
            out["received"][i] = count
    resolved_day = _local_day(DossierResolution.resolved_at)
    for day, outcome, count in db.session.execute(
            select(resolved_day, DossierResolution.outcome, func.count())
            .where(DossierResolution.resolved_at >= start, DossierResolution.resolved_at < before)
            .group_by(resolved_day, DossierResolution.outcome)):
        if (i := index.get(str(day)[:10])) is not None:
            out["resolved"][i] += count
            if outcome == "late":
                out["late"][i] += count
    return out


def _local_day(column):
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("Asia/Ho_Chi_Minh", column), literal_column("'YYYY-MM-DD'"))
    return func.date(column, "+7 hours")  # SQLite: ISO text; Vietnam keeps UTC+7 all year


# ---------------------------------------------------------------- the network today

def network_today(now: datetime | None = None) -> list[dict]:
    """Every service point with today's load against its daily capacity and its overdue dossiers now."""
    now = now or utcnow()
    today_period = Period(to_local(now).date(), to_local(now).date())
    if summarised():
        m = MonitoringDaily
        loads = dict(db.session.execute(select(m.service_point_id, func.sum(m.received))
                                        .where(m.day == today_period.start).group_by(m.service_point_id)).all())
    else:
        start, before = today_period.utc_bounds
        loads = dict(db.session.execute(select(Dossier.service_point_id, func.count())
                                        .where(Dossier.received_at >= start, Dossier.received_at < before)
                                        .group_by(Dossier.service_point_id)).all())
    overdue = dict(db.session.execute(select(Dossier.service_point_id, func.count())
                                      .where(Dossier.status.in_(OPEN_STATUSES), Dossier.deadline_at < now)
                                      .group_by(Dossier.service_point_id)).all())
    points = db.session.execute(select(ServicePoint.id, ServicePoint.code, ServicePoint.name, ServicePoint.tier,
                                       ServicePoint.lat, ServicePoint.lon, ServicePoint.daily_capacity)
                                .order_by(ServicePoint.code)).all()
    out = []
    for pid, code, name, tier, lat, lon, capacity in points:
        load = int(loads.get(pid, 0))
        out.append({"id": pid, "code": code, "name": name, "tier": _key(tier), "lat": lat, "lon": lon,
                    "capacity": capacity, "load": load, "overdue": int(overdue.get(pid, 0)),
                    "load_percent": round(100 * load / capacity, 1) if capacity else None})
    return out
