"""Background entry points of the cash handover: the morning's overdue sweep, and deposits from a statement."""

from __future__ import annotations

from datetime import datetime, time

from core.outbox import subscriber
from core.periodic import periodic
from core.timeutil import to_local
from core.uow import unit_of_work
from finance import cash, cash_deposits
from payments.bank import STATEMENT_IMPORTED


@periodic("finance.cash_overdue", at=time(7, 0))
def cash_overdue(occurrence: datetime) -> dict:
    """Every morning: cash held past its due date raised in the exception queue, cash handed over cleared."""
    return cash.sweep_overdue(to_local(occurrence).date())


@subscriber(STATEMENT_IMPORTED, name="finance.cash_deposits")
def statement_imported(payload: dict) -> None:
    """The deposits the new statement's lines confirm (lines already explained are left alone)."""
    with unit_of_work():
        cash_deposits.match_import(int(payload["import_id"]))
