"""VietQR transfers confirmed from the centre's bank statement, by finance staff.

One statement file is one transaction: every credit line is matched by the reference the
citizen's bank carried from field 62/08 into the description. A line pays its dossier only
when the amount is exactly what is owed and the payment is still open; everything else is
kept for finance to look at (wrong amount, already paid, no reference). The same file twice,
or a bank transaction already booked from an earlier file, books nothing again.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from core import outbox
from core.accounts import Principal
from core.errors import Conflict, Forbidden, InvalidInput
from core.extensions import db
from core.messages import Text
from core.roles import Role
from core.timeutil import as_utc
from core.uow import unit_of_work
from dossiers.models import Dossier
from payments import repository, statements, vietqr
from payments.models import BankStatementImport, BankStatementLine, Payment
from payments.service import OPEN, mark_transfer_paid

# A statement file was imported (payload: ``import_id``): finance matches the lines VietQR did not
# (agents' cash deposits during the event, gateway payouts after them).
STATEMENT_IMPORTED = outbox.declare_event("payments.statement_imported")


@unit_of_work()
def import_statement(principal: Principal, filename: str, data: bytes) -> BankStatementImport:
    if principal.role not in (Role.FINANCE, Role.ADMIN):
        raise Forbidden(Text("Chỉ cán bộ tài chính được nhập sao kê.", "Only finance staff import bank statements."))
    digest = hashlib.sha256(data).hexdigest()
    if db.session.scalars(select(BankStatementImport).where(BankStatementImport.sha256 == digest)).first():
        raise Conflict(Text("Tệp sao kê này đã được nhập.", "This statement file was already imported."))
    try:
        lines = statements.parse_statement(data, filename)
    except statements.StatementError as exc:
        raise InvalidInput(Text(exc.vi, exc.en), errors=[{"field": "file", "location": "files",
                                                          "message_vi": exc.vi, "message_en": exc.en,
                                                          "line": exc.line_number}]) from exc
    known = set(db.session.scalars(select(BankStatementLine.bank_reference).where(
        BankStatementLine.bank_reference.in_([line.bank_reference for line in lines]))))
    record = BankStatementImport(filename=filename[:255], sha256=digest, imported_by=principal.label, summary={})
    db.session.add(record)
    db.session.flush()
    summary = {"credits": len(lines), "matched": 0, "unmatched": 0, "wrong_amount": 0, "already_paid": 0,
               "already_imported": 0, "matched_vnd": 0, "confirmed_provisional": 0}
    for line in lines:  # the parser returns the credits only (money in)
        if line.bank_reference in known:
            summary["already_imported"] += 1
            continue
        known.add(line.bank_reference)
        outcome, payment_id, was_provisional = _match(line)
        summary[outcome] += 1
        summary["confirmed_provisional"] += int(outcome == "matched" and was_provisional)
        if outcome == "matched":
            summary["matched_vnd"] += line.amount_vnd
        db.session.add(BankStatementLine(import_id=record.id, bank_reference=line.bank_reference,
                                         booked_at=as_utc(line.booked_at), amount_vnd=line.amount_vnd,
                                         description=line.description[:1000], payment_id=payment_id, outcome=outcome))
    record.summary = summary
    outbox.publish(STATEMENT_IMPORTED, {"import_id": record.id}, dedupe_key=str(record.id))
    return record


def _match(line: statements.StatementLine) -> tuple[str, int | None, bool]:
    """The line's outcome, its payment, and whether that payment had been marked provisional at the counter
    (a matched line confirms it; any other outcome leaves it provisional, in front of finance)."""
    reference = vietqr.find_reference(line.description)
    payment = repository.payment_by_transfer_reference(reference) if reference else None
    if payment is None:
        return "unmatched", None, False
    payment = repository.payment_by_id(payment.id, lock=True)
    was_provisional = payment.provisional_at is not None
    if payment.status not in OPEN:
        return "already_paid", payment.id, was_provisional
    if line.amount_vnd != payment.amount_vnd:
        return "wrong_amount", payment.id, was_provisional
    mark_transfer_paid(payment, line.bank_reference)
    return "matched", payment.id, was_provisional


def lines_needing_attention(limit: int = 200) -> list[BankStatementLine]:
    explained = ("matched", "cash_deposit")  # a VietQR transfer, an agent's cash deposit (finance.cash)
    return list(db.session.scalars(select(BankStatementLine).where(BankStatementLine.outcome.notin_(explained))
                                   .order_by(BankStatementLine.id.desc()).limit(limit)))


def recent_imports(limit: int = 20) -> list[BankStatementImport]:
    return list(db.session.scalars(select(BankStatementImport).order_by(BankStatementImport.id.desc()).limit(limit)))


def dossiers_of_lines(lines: list[BankStatementLine]) -> dict[int, tuple[str, int]]:
    """Payment id → (its dossier's number, what it expects), for the lines that name a payment."""
    ids = {line.payment_id for line in lines if line.payment_id is not None}
    if not ids:
        return {}
    rows = db.session.execute(select(Payment.id, Dossier.number, Payment.amount_vnd)
                              .join(Dossier, Dossier.id == Payment.dossier_id).where(Payment.id.in_(ids)))
    return {payment_id: (number, int(amount)) for payment_id, number, amount in rows}
