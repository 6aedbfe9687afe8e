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
from sqlalchemy import BigInteger, DateTime, String, text, update
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.timeutil import utcnow

SERVICE_POINTS = "service_points"
PROCEDURES = "procedures"
ACCESS = "access"  # API keys revoked, organisations or users deactivated
T = TypeVar("T")


class ReferenceVersion(db.Model):
    __tablename__ = "reference_versions"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# Plain SQL: read on every request, it skips the ORM's per-statement work.
_ALL_VERSIONS = text("SELECT name, version FROM reference_versions")


def _all_versions() -> dict[str, int]:
    memo = g.get("_reference_versions") if has_app_context() else None
    if memo is None:
        memo = dict(db.session.execute(_ALL_VERSIONS).tuples().all())
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


class VersionedMap(Generic[T]):
    """A bounded per-process mapping that empties itself when the named version changes."""

    def __init__(self, name: str, max_entries: int = 10_000):
        self.name, self.max_entries = name, max_entries
        self._version: int | None = None
        self._entries: dict[str, T] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> T | None:
        version = current(self.name)
        with self._lock:
            if self._version != version:
                self._version, self._entries = version, {}
            return self._entries.get(key)

    def put(self, key: str, value: T) -> None:
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = value


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
