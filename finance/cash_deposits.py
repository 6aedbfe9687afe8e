"""Agents' cash deposits confirmed from the centre's bank statement.

A bank-deposit handover carries the bank's reference of the deposit. A credit line of an imported
statement confirms it when its ``bank_reference`` is that reference, or its description names it:
the line is linked (``CashHandover.bank_line_id``) and its outcome becomes ``cash_deposit``. The
statement may come first (its lines wait, ``unmatched``, until the handover is recorded:
``match_recorded``) or the handover (matched when the import's event arrives: ``match_import``).
A line that names a deposit for another amount is ``cash_mismatch`` and an exception item
(``bank_unmatched``, both sides recorded); a corrected handover that matches it clears the item.
Lines VietQR matching explained are never looked at, nor those that name a gateway payout
(``po_…``): the payout reconciliation claims those.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from core.extensions import db
from core.timeutil import as_utc
from finance import exceptions
from finance.cash_holdings import standing_handovers
from finance.models import CashHandover, ExceptionKind, HandoverMethod
from payments.models import BankStatementLine

CLAIMABLE = ("unmatched", "cash_mismatch")  # outcomes a deposit may still claim
_PAYOUT = re.compile(r"(?<![A-Za-z0-9])po_[A-Za-z0-9]+")
SYSTEM = "system:cash-deposits"


def _names(reference: str, line: BankStatementLine) -> bool:
    ref = reference.upper()
    if line.bank_reference.upper() == ref:
        return True
    pattern = rf"(?<![A-Z0-9]){re.escape(ref)}(?![A-Z0-9])"
    return bool(re.search(pattern, (line.description or "").upper()))


def _claimable(line: BankStatementLine) -> bool:
    return line.outcome in CLAIMABLE and not _PAYOUT.search(line.description or "") and line.amount_vnd > 0


def _mismatch_key(line: BankStatementLine) -> str:
    return f"cash_deposit:{line.bank_reference}"


def _taken(line_ids: list[int]) -> set[int]:
    """The lines a standing handover already holds."""
    if not line_ids:
        return set()
    return set(db.session.scalars(select(CashHandover.bank_line_id).where(
        CashHandover.bank_line_id.in_(line_ids), standing_handovers())))


def _apply(handover: CashHandover, line: BankStatementLine) -> str:
    """Link the line to the deposit when the amounts agree; otherwise flag both. The outcome."""
    if int(line.amount_vnd) == int(handover.amount_vnd):
        handover.bank_line_id = line.id
        line.outcome = "cash_deposit"
        exceptions.clear([_mismatch_key(line)], "The deposit's handover now matches the statement line.",
                         actor=SYSTEM, details={"handover_id": handover.id, "bank_line_id": line.id})
        return "cash_deposit"
    line.outcome = "cash_mismatch"
    exceptions.raise_items([exceptions.Found(
        kind=ExceptionKind.BANK_UNMATCHED, dedupe_key=_mismatch_key(line),
        amount_vnd=abs(int(line.amount_vnd) - int(handover.amount_vnd)), occurred_at=as_utc(line.booked_at),
        organisation_id=handover.organisation_id, agent_point_id=handover.agent_point_id,
        ours={"cash_handover_id": handover.id, "reference": handover.reference,
              "amount_vnd": int(handover.amount_vnd), "handed_over_on": handover.handed_over_on.isoformat(),
              "note": "cash deposit recorded for another amount"},
        theirs={"bank_line_id": line.id, "bank_reference": line.bank_reference, "amount_vnd": int(line.amount_vnd),
                "booked_at": as_utc(line.booked_at).isoformat(), "description": line.description})], actor=SYSTEM)
    return "cash_mismatch"


def match_import(import_id: int) -> dict:
    """The lines of one statement import that confirm recorded deposits (the import's event handler)."""
    lines = [line for line in db.session.scalars(
        select(BankStatementLine).where(BankStatementLine.import_id == import_id,
                                        BankStatementLine.outcome.in_(CLAIMABLE))
        .order_by(BankStatementLine.id).with_for_update()) if _claimable(line)]
    waiting = list(db.session.scalars(select(CashHandover).where(
        CashHandover.method == HandoverMethod.BANK_DEPOSIT, CashHandover.bank_line_id.is_(None),
        standing_handovers()).order_by(CashHandover.id).with_for_update(of=CashHandover)))
    taken = _taken([line.id for line in lines])
    counts = {"cash_deposit": 0, "cash_mismatch": 0}
    for line in lines:
        if line.id in taken:
            continue
        handover = next((h for h in waiting if h.bank_line_id is None and _names(h.reference, line)), None)
        if handover is not None:
            counts[_apply(handover, line)] += 1
    return counts


def match_recorded(handover: CashHandover) -> str | None:
    """A deposit recorded after its statement was imported: the waiting line that confirms it, if any."""
    ref = handover.reference.upper()
    candidates = db.session.scalars(select(BankStatementLine).where(
        BankStatementLine.outcome.in_(CLAIMABLE),
        (func.upper(BankStatementLine.bank_reference) == ref)
        | func.upper(BankStatementLine.description).contains(ref, autoescape=True))
        .order_by(BankStatementLine.id).with_for_update())
    lines = [line for line in candidates if _claimable(line) and _names(handover.reference, line)]
    taken = _taken([line.id for line in lines])
    line = next((line for line in lines if line.id not in taken), None)
    return _apply(handover, line) if line is not None else None


def release(handover: CashHandover) -> None:
    """A reversed deposit lets go of its statement line: unexplained again, until a corrected handover claims it."""
    if handover.bank_line_id is None:
        return
    line = db.session.get(BankStatementLine, handover.bank_line_id, with_for_update=True)
    if line is not None and line.outcome == "cash_deposit":
        line.outcome = "unmatched"


def line_references(line_ids: set[int]) -> dict[int, str]:
    if not line_ids:
        return {}
    return {line_id: reference for line_id, reference in db.session.execute(
        select(BankStatementLine.id, BankStatementLine.bank_reference).where(BankStatementLine.id.in_(line_ids)))}
