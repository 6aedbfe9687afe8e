"""Service points: the centre's branches, reception points and commune points."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models import enum_column
from core.timeutil import utcnow


class Tier(enum.StrEnum):
    BRANCH = "branch"
    DISTRICT_POINT = "district_point"
    COMMUNE_POINT = "commune_point"


class CoordPrecision(enum.StrEnum):
    """How precisely a point's coordinates place its office, best first."""

    BUILDING = "building"  # the building itself
    STREET = "street"  # a point on its street, the house not placed
    WARD_CENTRE = "ward_centre"  # the centre of the (pre-2025) ward holding the address
    UNIT_CENTRE = "unit_centre"  # the centre of the 2025 commune or ward
    DISTRICT_MEAN = "district_mean"  # the mean of a former district's ward centres
    UNKNOWN = "unknown"


class ServicePoint(db.Model):
    __tablename__ = "service_points"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    tier: Mapped[Tier] = mapped_column(enum_column(Tier, "service_point_tier"))
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(400))
    unit_code: Mapped[str | None] = mapped_column(String(16))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    coord_source: Mapped[str] = mapped_column(String(400))
    coord_precision: Mapped[CoordPrecision] = mapped_column(
        enum_column(CoordPrecision, "coord_precision"), default=CoordPrecision.UNKNOWN,
        server_default=CoordPrecision.UNKNOWN.value)
    # Where the address (and so the position) was found: a public page, when there is one.
    source_url: Mapped[str | None] = mapped_column(String(500))
    # "24/7" or an OpenStreetMap-style rule such as "Mo-Fr 08:00-17:00; Sa 08:00-12:00".
    opening_hours: Mapped[str] = mapped_column(String(200))
    # Procedure levels received here: "province" and/or "commune" (geo.points_import.LEVELS).
    levels: Mapped[list[str]] = mapped_column(JSON)
    daily_capacity: Mapped[int] = mapped_column(Integer)
    # The branch a reception or commune point reports to (its branch lead sees its dossiers); the
    # nearest branch when the points are imported, unless set otherwise. None for a branch.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("service_points.id"), index=True)
    active_from: Mapped[date | None] = mapped_column(Date)
    active_to: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    def is_active_on(self, day: date) -> bool:
        return (self.active_from is None or self.active_from <= day) and (
            self.active_to is None or day <= self.active_to
        )
