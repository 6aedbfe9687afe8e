"""Background entry point of the cash handover: the morning's overdue sweep (deposits: finance.recon_jobs)."""

from __future__ import annotations

from datetime import datetime, time

from core.periodic import periodic
from core.timeutil import to_local
from finance import cash


@periodic("finance.cash_overdue", at=time(7, 0))
def cash_overdue(occurrence: datetime) -> dict:
    """Every morning: cash held past its due date raised in the exception queue, cash handed over cleared."""
    return cash.sweep_overdue(to_local(occurrence).date())
