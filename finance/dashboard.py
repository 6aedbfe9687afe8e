"""The figures behind the finance charts: daily collections by method, cash held by agents, exceptions by age.

Plain values out (labels and series), drawn by ``core.charts`` in the reports' views. Collections are
grouped by the local day (Asia/Ho_Chi_Minh, UTC+7 all year) in SQL; the cash agents hold is the
ledger's ``cash_at_agents`` balance per party (the agent organisation), whoever books the handovers.
"""

from __future__ import annotations

from sqlalchemy import func, literal_column, select

from core.extensions import db
from core.models import Organisation
from finance import queue
from finance.treasury import Period
from payments import ledger
from payments import service as payments
from payments.models import Method, Payment, PaymentStatus

SETTLED = (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)


def _local_day(column):
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("Asia/Ho_Chi_Minh", column), literal_column("'YYYY-MM-DD'"))
    return func.date(column, "+7 hours")  # SQLite: ISO text; Vietnam keeps UTC+7 all year


def daily_collections(when: Period) -> dict[str, list[int]]:
    """Method → the amount collected on each day of the period (settled payments, by the day they were paid)."""
    start, before = when.utc_bounds
    day = _local_day(Payment.paid_at)
    rows = db.session.execute(select(day, Payment.method, func.sum(Payment.amount_vnd))
                              .where(Payment.paid_at >= start, Payment.paid_at < before, Payment.status.in_(SETTLED))
                              .group_by(day, Payment.method)).all()
    index = {d.isoformat(): i for i, d in enumerate(when.days())}
    series = {method.value: [0] * len(index) for method in Method}
    for local_day, method, total in rows:
        position = index.get(str(local_day)[:10])
        if position is not None:
            series[Method(method).value][position] += int(total)
    return series


def cash_by_agent() -> list[tuple[str, str, int]]:
    """(organisation code, name, cash held) for every agent holding cash, most first."""
    held = [(row["party"], row["balance_vnd"]) for row in payments.balances()
            if row["account"] == ledger.Account.CASH_AT_AGENTS.value and row["party"] and row["balance_vnd"] > 0]
    names = dict(db.session.execute(select(Organisation.code, Organisation.name)
                                    .where(Organisation.code.in_([code for code, _ in held]))).all()) if held else {}
    return sorted(((code, names.get(code, code), amount) for code, amount in held), key=lambda r: (-r[2], r[0]))


def exceptions_by_age() -> dict[str, list[int]]:
    """Kind → open items in each age bucket (queue.BUCKET_KEYS order); kinds with none left out."""
    counts = queue.open_by_age_and_kind()
    return {kind: [per[b] for b in queue.BUCKET_KEYS] for kind, per in counts.items() if any(per.values())}
