"""A dossier's resolution: when its result is first ready, how long it took in working days and
whether it was early, on time or late. Written by the status change (``dossiers.service._move``),
in the same transaction, on PostgreSQL and SQLite alike; read by the monitoring figures.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from core.calendar import is_working_day
from core.extensions import db
from core.timeutil import as_utc, to_local
from dossiers.enums import Status
from dossiers.models import Dossier, DossierResolution

RESOLVED = Status.RESULT_READY  # a dossier is resolved when its result is first ready


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when resolved the day it came in)."""
    days, current = 0, start
    while current < end:
        current += timedelta(days=1)
        if is_working_day(current):
            days += 1
    return days


def outcome(resolved_at: datetime, deadline_at: datetime) -> str:
    if as_utc(resolved_at) > as_utc(deadline_at):
        return "late"
    return "early" if to_local(resolved_at).date() < to_local(deadline_at).date() else "on_time"


def record(dossier: Dossier, at: datetime) -> None:
    """The dossier's resolution at ``at``, once: a result ready again (after a failed delivery) keeps the first."""
    if db.session.get(DossierResolution, dossier.id) is not None:
        return
    db.session.add(DossierResolution(
        dossier_id=dossier.id, service_point_id=dossier.service_point_id, organisation_id=dossier.organisation_id,
        level=dossier.procedure.level.value, received_at=dossier.received_at, deadline_at=dossier.deadline_at,
        resolved_at=at, working_days=working_days_between(to_local(dossier.received_at).date(), to_local(at).date()),
        outcome=outcome(at, dossier.deadline_at)))
