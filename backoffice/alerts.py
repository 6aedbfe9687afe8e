"""Quality alerts (the centre's quality-alert system for dossier handling): raised by a periodic job
(``backoffice.alert_jobs``, every 15 minutes, on the outbox), never on page load; listed in the monitoring
page and at GET /api/v1/alerts; acknowledged with a note (audited).

Four kinds, thresholds in settings:

- ``capacity``: a point whose dossiers received today pass ``ALERT_CAPACITY_PERCENT`` of its daily capacity
  (one alert per point and day);
- ``deadline``: an open dossier whose deadline falls on or before the next working day's end (one per dossier);
- ``on_time``: a point whose on-time rate this week (Monday to now) is under ``ALERT_ON_TIME_RATE_PERCENT``,
  with at least ``ALERT_ON_TIME_MIN_RESOLVED`` dossiers resolved (one per point and ISO week);
- ``low_rating``: a rating at or under ``ALERT_LOW_RATING`` (one per dossier).

De-duplicated: an alert's subject names what it is about (and the day or week for the point alerts); a
subject already alerted, open or acknowledged, is not raised again, and a partial unique index keeps one open
alert per kind and subject whatever happens.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from backoffice import monitoring
from backoffice.models import AdminAuditEvent, QualityAlert
from core.accounts import Principal
from core.calendar import is_working_day
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.extensions import db
from core.messages import Text
from core.roles import Role
from core.settings import settings
from core.timeutil import LOCAL_TZ, as_utc, to_local, utcnow
from core.uow import unit_of_work
from dossiers.models import OPEN_STATUSES, Dossier, DossierResolution
from geo.models import ServicePoint
from tracking.models import Feedback

KINDS = ("capacity", "deadline", "on_time", "low_rating")
MONITORING_ROLES = (Role.ADMIN, Role.LEADERSHIP)
NOTE_MAX = 1000
RATING_LOOKBACK = timedelta(days=7)


def _next_working_day_end(now: datetime) -> datetime:
    day = to_local(now).date() + timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return as_utc(datetime.combine(day, time(23, 59, 59), tzinfo=LOCAL_TZ))


def _candidates(now: datetime) -> list[dict]:
    cfg = settings()
    local = to_local(now)
    found = []
    for point in monitoring.network_today(now):
        if point["load_percent"] is not None and point["load_percent"] > cfg.alert_capacity_percent:
            found.append({"kind": "capacity", "subject": f"{point['code']}@{local.date().isoformat()}",
                          "service_point_code": point["code"],
                          "details": {"load": point["load"], "capacity": point["capacity"],
                                      "load_percent": point["load_percent"],
                                      "threshold_percent": cfg.alert_capacity_percent}})
    due = db.session.execute(
        select(Dossier.number, Dossier.deadline_at, ServicePoint.code)
        .join(ServicePoint, ServicePoint.id == Dossier.service_point_id)
        .where(Dossier.status.in_(OPEN_STATUSES), Dossier.deadline_at >= now,
               Dossier.deadline_at <= _next_working_day_end(now)))
    for number, deadline, code in due:
        found.append({"kind": "deadline", "subject": number, "dossier_number": number, "service_point_code": code,
                      "details": {"deadline_at": as_utc(deadline).isoformat()}})
    monday = local.date() - timedelta(days=local.weekday())
    week_start = as_utc(datetime.combine(monday, time(0), tzinfo=LOCAL_TZ))
    week = f"{local.isocalendar().year}-W{local.isocalendar().week:02d}"
    on_time = func.sum(func.cast(DossierResolution.outcome != "late", db.Integer))
    rows = db.session.execute(
        select(ServicePoint.code, func.count(), on_time)
        .join(ServicePoint, ServicePoint.id == DossierResolution.service_point_id)
        .where(DossierResolution.resolved_at >= week_start, DossierResolution.resolved_at <= now)
        .group_by(ServicePoint.code))
    for code, resolved, timely in rows:
        rate = round(100 * int(timely or 0) / resolved, 1)
        if resolved >= cfg.alert_on_time_min_resolved and rate < cfg.alert_on_time_rate_percent:
            found.append({"kind": "on_time", "subject": f"{code}@{week}", "service_point_code": code,
                          "details": {"resolved": resolved, "on_time": int(timely or 0), "rate_percent": rate,
                                      "threshold_percent": cfg.alert_on_time_rate_percent, "week": week}})
    low = db.session.execute(
        select(Dossier.number, Feedback.rating, Feedback.comment, ServicePoint.code)
        .join(Dossier, Dossier.id == Feedback.dossier_id)
        .join(ServicePoint, ServicePoint.id == Dossier.service_point_id)
        .where(Feedback.rating <= cfg.alert_low_rating, Feedback.created_at >= now - RATING_LOOKBACK))
    for number, rating, comment, code in low:
        found.append({"kind": "low_rating", "subject": number, "dossier_number": number, "service_point_code": code,
                      "details": {"rating": rating, "comment": comment}})
    return found


@unit_of_work()
def raise_alerts(now: datetime | None = None) -> dict[str, int]:
    """Raise the alerts due now that were never raised; the number raised per kind."""
    now = now or utcnow()
    candidates = _candidates(now)
    known = set(db.session.execute(select(QualityAlert.kind, QualityAlert.subject).where(
        QualityAlert.subject.in_({c["subject"] for c in candidates}))).all()) if candidates else set()
    raised = dict.fromkeys(KINDS, 0)
    for candidate in candidates:
        if (candidate["kind"], candidate["subject"]) in known:
            continue
        known.add((candidate["kind"], candidate["subject"]))
        db.session.add(QualityAlert(raised_at=now, **candidate))
        raised[candidate["kind"]] += 1
    return raised


def summary(alert: QualityAlert) -> str:
    """What the alert says, in the reader's language."""
    d = alert.details or {}
    if alert.kind == "capacity":
        return _("%(load)s dossiers today for a daily capacity of %(capacity)s (%(percent)s%%).",
                 load=d.get("load"), capacity=d.get("capacity"), percent=d.get("load_percent"))
    if alert.kind == "deadline":
        deadline = datetime.fromisoformat(d["deadline_at"]) if d.get("deadline_at") else None
        return _("Due %(when)s.", when=to_local(deadline).strftime("%d/%m/%Y %H:%M") if deadline else "—")
    if alert.kind == "on_time":
        return _("%(rate)s%% on time this week (%(on_time)s of %(resolved)s resolved).",
                 rate=d.get("rate_percent"), on_time=d.get("on_time"), resolved=d.get("resolved"))
    text = _("Rated %(rating)s of 5.", rating=d.get("rating"))
    return f"{text} {d['comment']}" if d.get("comment") else text


def _view(alert: QualityAlert) -> dict:
    return {"id": alert.id, "kind": alert.kind, "subject": alert.subject,
            "service_point_code": alert.service_point_code,
            "dossier_number": alert.dossier_number, "details": alert.details or {}, "raised_at": alert.raised_at,
            "acknowledged_at": alert.acknowledged_at, "acknowledged_by": alert.acknowledged_by, "note": alert.note,
            "status": "acknowledged" if alert.acknowledged_at else "open", "summary": summary(alert)}


def list_alerts(open_only: bool = True, kind: str | None = None, limit: int = 100) -> list[dict]:
    stmt = select(QualityAlert).order_by(QualityAlert.raised_at.desc(), QualityAlert.id.desc()).limit(limit)
    if open_only:
        stmt = stmt.where(QualityAlert.acknowledged_at.is_(None))
    if kind:
        stmt = stmt.where(QualityAlert.kind == kind)
    return [_view(a) for a in db.session.scalars(stmt)]


def _note_refused(vi: str, en: str) -> InvalidInput:
    return InvalidInput(Text(vi, en), errors=[{"field": "note", "location": "json", "message_vi": vi,
                                               "message_en": en}])


@unit_of_work()
def acknowledge(principal: Principal, alert_id: int, note: str) -> dict:
    """The alert acknowledged with a note of what was done (audited); an alert acknowledged already: 409."""
    if principal.role not in MONITORING_ROLES:
        raise Forbidden(Text("Chỉ lãnh đạo Trung tâm và quản trị viên xử lý cảnh báo.",
                             "Only the centre's leadership and administrators acknowledge alerts."))
    note = (note or "").strip()
    if not note:
        raise _note_refused("Ghi chú việc đã làm để xử lý cảnh báo.", "Write a note on what was done.")
    if len(note) > NOTE_MAX:
        raise _note_refused(f"Ghi chú tối đa {NOTE_MAX} ký tự.", f"A note is at most {NOTE_MAX} characters.")
    alert = db.session.get(QualityAlert, alert_id, with_for_update=True)
    if alert is None:
        raise NotFound(Text(f"Không có cảnh báo số {alert_id}.", f"No alert {alert_id}."))
    if alert.acknowledged_at is not None:
        raise Conflict(Text("Cảnh báo này đã được xử lý.", "This alert is acknowledged already."))
    alert.acknowledged_at, alert.acknowledged_by, alert.note = utcnow(), principal.label, note
    db.session.add(AdminAuditEvent(actor=principal.label, action="alert.acknowledge", target=alert.subject,
                                   details={"alert_id": alert.id, "kind": alert.kind, "note": note}))
    db.session.flush()
    return _view(alert)
