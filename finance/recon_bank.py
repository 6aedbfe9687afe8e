"""Gateway payouts found on the centre's bank statement.

A credit line is a payout when its description names the payout's id (``po_…``), or else when its
amount equals exactly one unlinked payout's whose arrival date is within ±N working days
(``FINANCE_PAYOUT_BANK_DAYS``) of the line's date, and that payout has no other such line. The line's
outcome becomes ``payout`` and the payout keeps the line (``bank_line_id``). Only lines nothing else
explained are looked at (outcome ``unmatched``: not a VietQR transfer, not an agent's cash deposit).
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import select

from core.calendar import is_working_day
from core.extensions import db
from core.settings import settings
from core.timeutil import to_local
from finance.recon_models import GatewayPayout
from payments.models import BankStatementLine

PAYOUT_ID = re.compile(r"\bpo_[A-Za-z0-9]+")
OUTCOME = "payout"


def add_working_days(day: date, n: int) -> date:
    """``n`` working days after (n > 0) or before (n < 0) ``day``."""
    step = timedelta(days=1 if n >= 0 else -1)
    left = abs(n)
    while left:
        day += step
        if is_working_day(day):
            left -= 1
    return day


def within_working_days(a: date, b: date, n: int) -> bool:
    low, high = min(a, b), max(a, b)
    return add_working_days(low, n) >= high


def bank_cutoff(today: date) -> date:
    """The latest arrival date whose payout should be on the statement by ``today`` (N working days later)."""
    n = settings().finance_payout_bank_days
    day = today - timedelta(days=1)
    while add_working_days(day, n) >= today:
        day -= timedelta(days=1)
    return day


def match_bank_lines(import_id: int | None = None) -> dict:
    """Link unexplained credit lines (of one import, or all) to the payouts they are. Flushes, never commits."""
    query = select(BankStatementLine).where(BankStatementLine.outcome == "unmatched",
                                            BankStatementLine.amount_vnd > 0)
    if import_id is not None:
        query = query.where(BankStatementLine.import_id == import_id)
    lines = list(db.session.scalars(query.order_by(BankStatementLine.id).with_for_update()))
    if not lines:
        return {"by_id": 0, "by_amount": 0}
    payouts = {p.id: p for p in db.session.scalars(select(GatewayPayout).where(
        GatewayPayout.bank_line_id.is_(None), GatewayPayout.status == "paid").with_for_update())}
    by_id = by_amount = 0
    rest = []
    for line in lines:
        named = next((payouts[m] for m in PAYOUT_ID.findall(line.description or "") if m in payouts), None)
        if named is None:
            rest.append(line)
            continue
        _link(line, named)
        payouts.pop(named.id)
        by_id += 1
    days = settings().finance_payout_bank_days
    candidates: dict[int, list[GatewayPayout]] = {}
    for line in rest:
        day = to_local(line.booked_at).date()
        candidates[line.id] = [p for p in payouts.values() if int(p.amount) == int(line.amount_vnd)
                               and within_working_days(p.arrival_date, day, days)]
    claimed: dict[str, list[int]] = defaultdict(list)
    for line_id, found in candidates.items():
        for payout in found:
            claimed[payout.id].append(line_id)
    for line in rest:
        found = candidates[line.id]
        if len(found) == 1 and claimed[found[0].id] == [line.id]:
            _link(line, found[0])
            by_amount += 1
    db.session.flush()
    return {"by_id": by_id, "by_amount": by_amount}


def _link(line: BankStatementLine, payout: GatewayPayout) -> None:
    line.outcome = OUTCOME
    payout.bank_line_id = line.id
