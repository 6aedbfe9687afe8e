"""Background entry points of the reconciliation: the nightly run, and payouts matched on statement import."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from core import outbox
from core.periodic import periodic
from core.timeutil import to_local
from core.uow import unit_of_work
from finance import cash_deposits, recon
from payments.bank import STATEMENT_IMPORTED


@periodic("finance.nightly_reconcile", at=time(2, 0))
def nightly_reconcile(occurrence: datetime) -> None:
    """At 02:00 Hanoi time, the previous local day (the occurrence says which night, even when run late)."""
    day = to_local(occurrence).date() - timedelta(days=1)
    recon.reconcile(day, day, actor="system:nightly")


@outbox.subscriber(STATEMENT_IMPORTED, name="finance.recon_bank_lines")
def bank_lines_on_statement(payload: dict) -> None:
    """The lines VietQR left: agents' cash deposits first (finance.cash_deposits), then gateway payouts; what
    neither explains goes to the queue. One subscriber, so the order holds: a deposit is never queued as unmatched."""
    import_id = int(payload["import_id"])
    with unit_of_work():
        cash_deposits.match_import(import_id)
    recon.match_bank_lines(import_id)
