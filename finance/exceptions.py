"""Raising and clearing exception items: the one way any reconciliation puts a mismatch in the queue.

``raise_items`` takes many at once (a nightly run finds thousands) and inserts only those whose
``dedupe_key`` is new, in one statement per batch: a mismatch found again by the next run is the
same item, not a second one. Each new item gets its ``detected`` action. ``clear`` closes open
items the reconciliation now finds matched (a statement line that arrived late), with a
``cleared`` action that says why; resolving by hand is the queue's service (finance.queue).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, select, update

from core.extensions import db
from core.timeutil import utcnow
from finance.models import (
    ExceptionAction,
    ExceptionKind,
    ExceptionStatus,
    FinanceException,
    FinanceExceptionAction,
)

SYSTEM_ACTOR = "system:reconciliation"
BATCH = 1000


@dataclass(frozen=True)
class Found:
    """A mismatch as a reconciliation found it."""

    kind: ExceptionKind
    dedupe_key: str
    amount_vnd: int
    occurred_at: datetime
    ours: dict = field(default_factory=dict)
    theirs: dict = field(default_factory=dict)
    dossier_id: int | None = None
    organisation_id: int | None = None
    agent_point_id: int | None = None


def raise_items(found: Iterable[Found], actor: str = SYSTEM_ACTOR) -> int:
    """Insert the items not already in the queue (open or resolved); how many were new."""
    new = 0
    batch: list[Found] = []
    for item in found:
        batch.append(item)
        if len(batch) >= BATCH:
            new += _raise_batch(batch, actor)
            batch = []
    if batch:
        new += _raise_batch(batch, actor)
    return new


def _raise_batch(batch: list[Found], actor: str) -> int:
    unique = {item.dedupe_key: item for item in batch}
    known = set(db.session.scalars(select(FinanceException.dedupe_key)
                                   .where(FinanceException.dedupe_key.in_(list(unique)))))
    fresh = [item for key, item in unique.items() if key not in known]
    if not fresh:
        return 0
    now = utcnow()
    rows = [{"kind": item.kind, "dedupe_key": item.dedupe_key, "amount_vnd": int(item.amount_vnd),
             "occurred_at": item.occurred_at, "detected_at": now, "ours": item.ours, "theirs": item.theirs,
             "dossier_id": item.dossier_id, "organisation_id": item.organisation_id,
             "agent_point_id": item.agent_point_id, "status": ExceptionStatus.OPEN} for item in fresh]
    ids = db.session.scalars(insert(FinanceException).returning(FinanceException.id), rows).all()
    db.session.execute(insert(FinanceExceptionAction), [
        {"exception_id": item_id, "action": ExceptionAction.DETECTED, "reason": None, "details": {},
         "actor": actor, "at": now} for item_id in ids])
    return len(ids)


def clear(dedupe_keys: Iterable[str], reason: str, actor: str = SYSTEM_ACTOR, details: dict | None = None) -> int:
    """Resolve the open items among ``dedupe_keys`` that the reconciliation now finds matched."""
    keys = list(dedupe_keys)
    if not keys:
        return 0
    now = utcnow()
    ids = db.session.scalars(update(FinanceException)
                             .where(FinanceException.dedupe_key.in_(keys),
                                    FinanceException.status == ExceptionStatus.OPEN)
                             .values(status=ExceptionStatus.RESOLVED, resolved_at=now)
                             .returning(FinanceException.id)).all()
    if ids:
        db.session.execute(insert(FinanceExceptionAction), [
            {"exception_id": item_id, "action": ExceptionAction.CLEARED, "reason": reason,
             "details": details or {}, "actor": actor, "at": now} for item_id in ids])
    return len(ids)


def open_keys(kind: ExceptionKind) -> set[str]:
    """The dedupe keys of the open items of one kind (a run clears those it no longer finds)."""
    return set(db.session.scalars(select(FinanceException.dedupe_key).where(
        FinanceException.kind == kind, FinanceException.status == ExceptionStatus.OPEN)))
