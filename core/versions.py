"""Versions of reference data, for caches kept in each worker process.

Service points and the procedure catalogue change rarely and are read on every
dossier. Each worker keeps them in memory, keyed by a version number stored in the
database: a use case that changes them calls ``bump`` in its own transaction, and
every worker sees the new version on its next request (one small query per request,
memoised for the rest of it) and rebuilds. No restart, no stale worker.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Generic, TypeVar

from flask import g, has_app_context
from sqlalchemy import BigInteger, DateTime, String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.timeutil import utcnow

SERVICE_POINTS = "service_points"
PROCEDURES = "procedures"
T = TypeVar("T")


class ReferenceVersion(db.Model):
    __tablename__ = "reference_versions"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def _all_versions() -> dict[str, int]:
    memo = g.get("_reference_versions") if has_app_context() else None
    if memo is None:
        memo = dict(db.session.execute(select(ReferenceVersion.name, ReferenceVersion.version)).tuples().all())
        if has_app_context():
            g._reference_versions = memo
    return memo


def current(name: str) -> int:
    return _all_versions().get(name, 0)


def bump(name: str) -> None:
    """Mark ``name`` changed, inside the caller's transaction (the row exists from the migrations)."""
    db.session.execute(
        update(ReferenceVersion).where(ReferenceVersion.name == name)
        .values(version=ReferenceVersion.version + 1, changed_at=utcnow())
    )
    if has_app_context():
        g.pop("_reference_versions", None)


class VersionedCache(Generic[T]):
    """One value per process, rebuilt when the named version (or an extra key) changes."""

    def __init__(self, name: str, build: Callable[..., T]):
        self.name, self.build = name, build
        self._key: tuple | None = None
        self._value: T | None = None
        self._lock = threading.Lock()

    def get(self, *extra) -> T:
        key = (current(self.name), *extra)
        with self._lock:
            if self._key == key:
                return self._value  # type: ignore[return-value]
        value = self.build(*extra)
        with self._lock:
            self._key, self._value = key, value
        return value
