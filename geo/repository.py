"""Service-point queries."""

from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select

from core.extensions import db
from geo.models import ServicePoint


def active_points(day: date) -> list[ServicePoint]:
    stmt = (
        select(ServicePoint)
        .where(or_(ServicePoint.active_from.is_(None), ServicePoint.active_from <= day))
        .where(or_(ServicePoint.active_to.is_(None), ServicePoint.active_to >= day))
        .order_by(ServicePoint.code)
    )
    return list(db.session.scalars(stmt))


def list_points(tier: str | None = None, level: str | None = None) -> list[ServicePoint]:
    stmt = select(ServicePoint).order_by(ServicePoint.code)
    if tier:
        stmt = stmt.where(ServicePoint.tier == tier)
    points = list(db.session.scalars(stmt))
    return [p for p in points if level in p.levels] if level else points


def by_id(point_id: int) -> ServicePoint | None:
    return db.session.get(ServicePoint, point_id)


def by_code(code: str) -> ServicePoint | None:
    return db.session.scalar(select(ServicePoint).where(ServicePoint.code == code))

