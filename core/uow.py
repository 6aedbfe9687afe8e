"""The unit of work: one transaction per use case, committed or rolled back in one place.

``with unit_of_work():`` (or ``@unit_of_work()`` on a function) commits when the block ends
normally and rolls back when any exception leaves it, so a use case that raises a domain
error half-way leaves nothing written and needs no rollback of its own. Units nest: only the
outermost one commits, so a use case that calls another commits once, at its end; an inner
one that fails rolls back the whole, once its exception reaches the outermost unit. (A
caller that catches an inner unit's exception and carries on keeps the inner writes in its
transaction: raise before writing, as the domain checks do, or ask for
``unit_of_work(savepoint=True)``, which rolls back only the inner part.)

A refusal that must leave a record (a wrong password counted, a wrong try at the phone's
digits) does its writes in the unit and raises after it ends.

Deliberate commits inside a use case, where the work so far must be durable before an
external call is made (and no row lock or transaction may stay open while it answers), go
through ``commit_point(name)``; every such point is listed with its reason in
``COMMIT_POINTS`` below, the one place to read them. Services never call
``session.commit()`` or ``session.rollback()`` themselves: tests/core/test_uow.py checks
the source and allows them only here and in the few infrastructure places it lists.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from core.extensions import db

_DEPTH = "uow_depth"

# Every deliberate commit inside a use case, and why it is there.
COMMIT_POINTS: dict[str, str] = {
    "payments.before_gateway_call": (
        "before the gateway creates, confirms, cancels or is asked about a card intent: the payment and the "
        "card attempt, with the intent's Idempotency-Key, must be durable before the first request, so that a "
        "retry after a timeout or a crash is the same request and never a second charge; and no row lock is "
        "held while the gateway answers"),
    "payments.before_refund": (
        "before the gateway is asked for a refund: the refund row, its Idempotency-Key and the amount "
        "reserved on the payment (refunded_vnd) must be durable first, so that a retry is the same refund and "
        "two officers cannot refund the same money"),
    "courier.before_carrier_call": (
        "before the carrier creates a shipment, schedules, cancels or is polled: the shipment and attempt "
        "with their idempotency keys are durable, and no transaction or row lock stays open while the carrier "
        "answers; what it answered is written afterwards under a fresh lock"),
    "notify.before_sms_send": (
        "before the SMS provider is called: the message is 'sending' with its attempt counted and its "
        "reference durable (the provider deduplicates on it), and no lock on the phone's row stays open "
        "while the provider answers"),
}


def _depth(session: Session) -> int:
    return session.info.get(_DEPTH, 0)


@contextmanager
def unit_of_work(savepoint: bool = False) -> Iterator[Session]:
    """The current use case's transaction: commit on success, roll back on any exception.

    Re-entrant: a nested unit joins the outer one (nothing is committed until the outermost
    ends). ``savepoint=True`` makes a nested unit a SAVEPOINT, rolled back alone if it fails.
    """
    session = db.session()
    depth = _depth(session)
    session.info[_DEPTH] = depth + 1
    nested = session.begin_nested() if savepoint and depth > 0 else None
    try:
        yield session
        if nested is not None:
            nested.commit()
        elif depth == 0:
            session.commit()
    except BaseException:
        if nested is not None:
            if nested.is_active:
                nested.rollback()
        elif depth == 0:
            session.rollback()
        raise
    finally:
        session.info[_DEPTH] = depth


def in_unit_of_work() -> bool:
    return _depth(db.session()) > 0


def commit_point(name: str) -> None:
    """Commit the work so far at one of the named ``COMMIT_POINTS``; the use case goes on in a new transaction.

    Everything loaded is expired, so what is read after the external call is read afresh (a
    row the call's answer is written to is locked and re-read, never trusted from before).
    """
    if name not in COMMIT_POINTS:
        raise LookupError(f"{name!r} is not a commit point: add it to core.uow.COMMIT_POINTS with its reason")
    session = db.session()
    if session.in_nested_transaction():
        raise RuntimeError(f"commit point {name!r} inside a savepoint unit of work")
    session.commit()
    session.expire_all()
