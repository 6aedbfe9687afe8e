"""Service-point queries."""

from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from geo.models import ServicePoint


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



def ids_under(point_id: int) -> list[int]:
    """The point and the points whose parent it is (a branch and its reception points)."""
    return [point_id, *db.session.scalars(select(ServicePoint.id).where(ServicePoint.parent_id == point_id))]
