"""Gateway reconciliation, the use case: fetch the gateway's side of a period, match it against the
ledger in set-based SQL, link payouts to the bank statement, and record the run.

``reconcile`` is what the page, the API, ``flask finance reconcile`` and the nightly job call. A
period is given as local (Hanoi) dates, both included. The fetch and the matching are one
transaction (a run that fails leaves the queue as it was); the run's row is written before and
after, in its own transactions, so a failed run is listed with its error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from core.accounts import Principal
from core.errors import Forbidden, InvalidInput, NotFound
from core.extensions import db
from core.messages import Text
from core.roles import Role
from core.timeutil import LOCAL_TZ, as_utc, to_local, utcnow
from core.uow import unit_of_work
from finance import recon_fetch, recon_sql
from finance.recon_bank import bank_cutoff
from finance.recon_bank import match_bank_lines as _match_bank_lines
from finance.recon_models import GatewayPayout, GatewayTransaction, ReconciliationRun
from payments.client import gateway
from payments.gateway import GatewayClient

log = logging.getLogger(__name__)

MAX_DAYS = 92  # a quarter: longer periods are reconciled in parts


def bounds(period_from: date, period_to: date) -> tuple[datetime, datetime]:
    """The UTC instants of a local period: [the first day's midnight, the day after the last's)."""
    start = datetime.combine(period_from, time(0), tzinfo=LOCAL_TZ)
    end = datetime.combine(period_to + timedelta(days=1), time(0), tzinfo=LOCAL_TZ)
    return as_utc(start), as_utc(end)


def check_period(period_from: date | None, period_to: date | None) -> None:
    if period_from is None or period_to is None:
        raise InvalidInput(Text("Cần nhập ngày bắt đầu và ngày kết thúc của kỳ đối soát.",
                                "Give the first and the last day of the period to reconcile."))
    if period_to < period_from:
        raise InvalidInput(Text(f"Kỳ đối soát kết thúc ({period_to:%d/%m/%Y}) trước khi bắt đầu "
                                f"({period_from:%d/%m/%Y}).",
                                f"The period ends ({period_to:%Y-%m-%d}) before it starts ({period_from:%Y-%m-%d})."))
    if (period_to - period_from).days >= MAX_DAYS:
        raise InvalidInput(Text(f"Kỳ đối soát dài tối đa {MAX_DAYS} ngày; hãy chia thành nhiều kỳ.",
                                f"A reconciliation period is at most {MAX_DAYS} days; split it."))


def _may_reconcile(principal: Principal | None) -> str:
    if principal is None:
        return "system:nightly"
    if principal.role not in (Role.FINANCE, Role.ADMIN):
        raise Forbidden(Text("Chỉ cán bộ tài chính được chạy đối soát.", "Only finance staff run reconciliations."))
    return principal.label or principal.role.value


def reconcile(period_from: date, period_to: date, *, principal: Principal | None = None, actor: str | None = None,
              client: GatewayClient | None = None, server_filters: bool = True, payouts: bool = True,
              progress: Callable[[str, int], None] | None = None) -> dict:
    """Reconcile a period; returns the run as a dict. ``progress(stage, n)`` is told as work gets done."""
    check_period(period_from, period_to)
    who = actor or _may_reconcile(principal)
    tell = progress or (lambda stage, n: None)
    with unit_of_work():
        run = ReconciliationRun(period_from=period_from, period_to=period_to, status="running", actor=who[:300],
                                counts={})
        db.session.add(run)
        db.session.flush()
        run_id = run.id
    start, end = bounds(period_from, period_to)
    try:
        with unit_of_work():
            fetched = recon_fetch.fetch(client or gateway(), start - recon_sql.SLACK, end + recon_sql.SLACK,
                                        server_filters=server_filters, payouts=payouts,
                                        progress=lambda n: tell("fetch", n))
            bank = _match_bank_lines()
            tell("bank", 1)
            now = utcnow()
            found = recon_sql.match(start, end, now=now, bank_cutoff=bank_cutoff(to_local(now).date()), actor=who,
                                    step=lambda name: tell("match", 1))
            run = db.session.get(ReconciliationRun, run_id)
            run.status, run.finished_at = "succeeded", utcnow()
            run.counts = {"fetched": fetched, "bank": bank, **found}
    except Exception as exc:
        log.exception("reconciliation %s of %s–%s failed", run_id, period_from, period_to)
        with unit_of_work():
            run = db.session.get(ReconciliationRun, run_id)
            run.status, run.finished_at, run.error = "failed", utcnow(), f"{type(exc).__name__}: {exc}"[:2000]
        raise
    return as_dict(db.session.get(ReconciliationRun, run_id))


def match_bank_lines(import_id: int | None = None) -> dict:
    """Link the unexplained credit lines of a statement import (or all) to the payouts they are, in its own
    transaction (joins the caller's when there is one)."""
    with unit_of_work():
        return _match_bank_lines(import_id)


def as_dict(run: ReconciliationRun) -> dict:
    return {"id": run.id, "period_from": run.period_from, "period_to": run.period_to, "status": run.status,
            "started_at": run.started_at, "finished_at": run.finished_at, "actor": run.actor,
            "counts": run.counts or {}, "error": run.error}


def runs(limit: int = 50) -> list[dict]:
    return [as_dict(r) for r in db.session.scalars(select(ReconciliationRun)
                                                   .order_by(ReconciliationRun.id.desc()).limit(limit))]


def get_run(run_id: int) -> dict:
    run = db.session.get(ReconciliationRun, run_id)
    if run is None:
        raise NotFound(Text(f"Không có lượt đối soát {run_id}.", f"No reconciliation run {run_id}."))
    return as_dict(run)


def payout_summary(limit: int = 50) -> list[dict]:
    """The latest payouts: their amount, what their transactions add up to, and their bank line."""
    totals = (select(GatewayTransaction.payout_id, func.count().label("n"), func.sum(GatewayTransaction.net)
                     .label("net")).where(GatewayTransaction.payout_id.is_not(None),
                                          GatewayTransaction.type != "payout")
              .group_by(GatewayTransaction.payout_id).subquery())
    rows = db.session.execute(select(GatewayPayout, totals.c.n, totals.c.net)
                              .outerjoin(totals, totals.c.payout_id == GatewayPayout.id)
                              .order_by(GatewayPayout.created.desc()).limit(limit))
    out = []
    for payout, n, net in rows:
        net = int(net or 0)
        out.append({"id": payout.id, "amount": int(payout.amount), "arrival_date": payout.arrival_date,
                    "status": payout.status, "transactions": int(n or 0), "transactions_net": net,
                    "sum_matches": net == int(payout.amount), "bank_line_id": payout.bank_line_id,
                    "in_bank": payout.bank_line_id is not None})
    return out
