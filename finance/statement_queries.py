"""The agent statements' figures, read set-based from the ledger (one query per figure set).

Every payment and refund is a ledger transaction carrying its dossier; its entries say everything
a statement needs: the account the money came into (or went back out of) gives the method —
``gateway_clearing`` card, ``bank`` VietQR, ``cash_at_agents`` cash — and the payables give the
components: ``treasury_payable`` the state fee, ``agent_payable`` the agent's service fee,
``courier_payable`` the courier fee. One row per ledger transaction (``line_rows``) is what a
statement is made of: summed up in SQL for the figures, listed page by page for the drill-down,
and copied by ``INSERT … SELECT`` into ``finance_statement_lines`` when a statement is issued.

A scope is the whole centre, one agent organisation (its points and its own API unit) or one agent
point (``dossiers.agent_point_id``). A period is a range of Hanoi days, compared in UTC.

Late corrections: a transaction booked (``booked_at``) inside the period of an issued statement of
the scope but not on it (it was committed after the statement was issued) is carried forward to the
next statement issued for the scope, as a correction line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, case, false, func, insert, literal, or_, select, true
from sqlalchemy.orm import aliased

from core.extensions import db
from core.models import AgentPoint, Organisation
from dossiers.models import Dossier
from finance.statement_models import Statement, StatementLine
from finance.treasury import Period
from payments import ledger
from payments.models import LedgerEntry, LedgerTransaction

A = ledger.Account
METHOD_OF_ACCOUNT = {A.GATEWAY_CLEARING.value: "card", A.BANK.value: "vietqr", A.CASH_AT_AGENTS.value: "cash"}
METHODS = ("card", "vietqr", "cash")
KINDS = ("payment", "refund")
# What a figure on the page drills down to: the lines behind it (``dossiers``: the dossiers registered).
FIGURES = ("all", "card", "vietqr", "cash", "collected", "refunds", "state_fee", "service_fee", "courier_fee", "net",
           "corrections")


@dataclass(frozen=True)
class Scope:
    kind: str  # centre | organisation | point
    id: int | None = None
    code: str | None = None
    name: str | None = None
    organisation_id: int | None = None  # a point's organisation

    @property
    def key(self) -> str:
        return {"centre": "centre", "organisation": f"org:{self.id}", "point": f"point:{self.id}"}[self.kind]

    def condition(self):
        """On ``Dossier``: the dossiers of the scope."""
        if self.kind == "organisation":
            return Dossier.organisation_id == self.id
        if self.kind == "point":
            return Dossier.agent_point_id == self.id
        return true()

    def view(self) -> dict:
        return {"kind": self.kind, "key": self.key, "id": self.id, "code": self.code, "name": self.name}


def centre() -> Scope:
    return Scope("centre")


def organisation_scope(code: str) -> Scope | None:
    org = db.session.scalars(select(Organisation).where(Organisation.code == code)).one_or_none()
    return None if org is None else Scope("organisation", org.id, org.code, org.name, org.id)


def point_scope(code: str) -> Scope | None:
    point = db.session.scalars(select(AgentPoint).where(AgentPoint.code == code)).one_or_none()
    return None if point is None else Scope("point", point.id, point.code, point.name, point.organisation_id)


def scope_of_statement(row: Statement) -> Scope:
    if row.agent_point_id is not None:
        point = db.session.get(AgentPoint, row.agent_point_id)
        return Scope("point", point.id, point.code, point.name, point.organisation_id)
    if row.organisation_id is not None:
        org = db.session.get(Organisation, row.organisation_id)
        return Scope("organisation", org.id, org.code, org.name, org.id)
    return centre()


def choices() -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    """The organisations (code, name) and agent points (code, name, organisation code) to choose a scope from."""
    orgs = db.session.execute(select(Organisation.code, Organisation.name).order_by(Organisation.code)).all()
    points = db.session.execute(select(AgentPoint.code, AgentPoint.name, Organisation.code)
                                .join(Organisation, Organisation.id == AgentPoint.organisation_id)
                                .order_by(Organisation.code, AgentPoint.code)).all()
    return [tuple(o) for o in orgs], [tuple(p) for p in points]


# ---------------------------------------------------------------- the lines

def frozen_ranges(scope: Scope, before: date | None = None) -> list[tuple[datetime, datetime]]:
    """The UTC ranges of the periods of the scope's issued statements (those starting before ``before``)."""
    query = select(Statement.period_start, Statement.period_end).where(Statement.scope_key == scope.key,
                                                                       Statement.signature != "")
    if before is not None:
        query = query.where(Statement.period_start < before)
    return [Period(start, end).utc_bounds for start, end in db.session.execute(query)]


def _on_issued_line(scope: Scope):
    issued = aliased(StatementLine)
    return select(issued.id).where(issued.scope_key == scope.key,
                                   issued.ledger_transaction_id == LedgerTransaction.id).exists()


def _selection(scope: Scope, when: Period, corrections: list[tuple[datetime, datetime]] | None):
    """The WHERE of the scope's payments and refunds booked in the period, or late; and the correction flag."""
    start, before = when.utc_bounds
    if corrections is None:
        corrections = frozen_ranges(scope, when.start)
    in_period = and_(LedgerTransaction.booked_at >= start, LedgerTransaction.booked_at < before)
    late = or_(*(and_(LedgerTransaction.booked_at >= lo, LedgerTransaction.booked_at < hi) for lo, hi in corrections)) \
        if corrections else false()
    where = (LedgerTransaction.kind.in_(KINDS), scope.condition(), or_(in_period, and_(late, ~_on_issued_line(scope))))
    return where, case((in_period, false()), else_=true())


def line_rows(scope: Scope, when: Period, *, corrections: list[tuple[datetime, datetime]] | None = None):
    """One row per payment or refund of the scope booked in the period, and the late corrections.

    ``corrections``: the frozen ranges before the period (``frozen_ranges``) whose transactions not on an
    issued statement are carried forward; None reads them. Columns: ledger_transaction_id, kind,
    reference, booked_at, dossier_id, method, amount_vnd (money in > 0, back out < 0), state_fee_vnd,
    service_fee_vnd, courier_fee_vnd, correction.
    """
    where, correction = _selection(scope, when, corrections)
    account, amount = LedgerEntry.account, LedgerEntry.amount_vnd
    received = tuple(METHOD_OF_ACCOUNT)

    def owed(name: A):
        return func.coalesce(func.sum(case((account == name.value, -amount), else_=0)), 0)

    method = func.max(case(*((account == acc, literal(m)) for acc, m in METHOD_OF_ACCOUNT.items()), else_=None))
    return (select(LedgerTransaction.id.label("ledger_transaction_id"), LedgerTransaction.kind.label("kind"),
                   LedgerTransaction.reference.label("reference"), LedgerTransaction.booked_at.label("booked_at"),
                   LedgerTransaction.dossier_id.label("dossier_id"), method.label("method"),
                   func.coalesce(func.sum(case((account.in_(received), amount), else_=0)), 0).label("amount_vnd"),
                   owed(A.TREASURY_PAYABLE).label("state_fee_vnd"), owed(A.AGENT_PAYABLE).label("service_fee_vnd"),
                   owed(A.COURIER_PAYABLE).label("courier_fee_vnd"), correction.label("correction"))
            .select_from(LedgerEntry)
            .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
            .join(Dossier, Dossier.id == LedgerTransaction.dossier_id)
            .where(*where)
            .group_by(LedgerTransaction.id, LedgerTransaction.kind, LedgerTransaction.reference,
                      LedgerTransaction.booked_at, LedgerTransaction.dossier_id))


OWED = {A.TREASURY_PAYABLE.value: "state_fee_vnd", A.AGENT_PAYABLE.value: "service_fee_vnd",
        A.COURIER_PAYABLE.value: "courier_fee_vnd"}


def live_figures(scope: Scope, when: Period) -> dict:
    """The figures of ``line_rows``, summed straight from the entries in one pass (no row per transaction).

    Every payment and refund has exactly one entry on the account the money came in by (or went back out
    of), so the lines are counted by those entries; the property tests hold it equal to ``sum_rows``."""
    where, correction = _selection(scope, when, None)
    result = db.session.execute(
        select(correction.label("correction"), LedgerTransaction.kind, LedgerEntry.account, func.count(),
               func.coalesce(func.sum(LedgerEntry.amount_vnd), 0))
        .select_from(LedgerEntry)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .join(Dossier, Dossier.id == LedgerTransaction.dossier_id)
        .where(*where)
        .group_by(correction, LedgerTransaction.kind, LedgerEntry.account)).all()
    out = {"period": empty_figures(), "corrections": empty_figures(), "total": empty_figures()}
    for is_correction, kind, account, count, amount in result:
        for part in ("corrections" if is_correction else "period", "total"):
            figures = out[part]
            method = METHOD_OF_ACCOUNT.get(account)
            if method is not None:
                figures["lines"] += int(count)
                if kind == "payment":
                    figures["collected"][method] += int(amount)
                else:
                    figures["refunded"][method] -= int(amount)
            elif account in OWED:
                figures[OWED[account]] -= int(amount)
    for figures in out.values():
        _finish(figures)
    return out


def stored_rows(statement_id: int):
    """The same columns as ``line_rows``, from an issued statement's lines."""
    line = StatementLine
    return (select(line.ledger_transaction_id, line.kind, LedgerTransaction.reference, line.booked_at,
                   line.dossier_id, line.method, line.amount_vnd, line.state_fee_vnd, line.service_fee_vnd,
                   line.courier_fee_vnd, line.correction)
            .join(LedgerTransaction, LedgerTransaction.id == line.ledger_transaction_id)
            .where(line.statement_id == statement_id))


# ---------------------------------------------------------------- the figures

MONEY = ("amount_vnd", "state_fee_vnd", "service_fee_vnd", "courier_fee_vnd")


def empty_figures() -> dict:
    return {"collected": {m: 0 for m in (*METHODS, "total")}, "refunded": {m: 0 for m in (*METHODS, "total")},
            "state_fee_vnd": 0, "service_fee_vnd": 0, "courier_fee_vnd": 0, "cash_net_vnd": 0, "net_vnd": 0,
            "lines": 0}


def _finish(figures: dict) -> dict:
    figures["collected"]["total"] = sum(figures["collected"][m] for m in METHODS)
    figures["refunded"]["total"] = sum(figures["refunded"][m] for m in METHODS)
    figures["cash_net_vnd"] = figures["collected"]["cash"] - figures["refunded"]["cash"]
    # The agent keeps its service fee out of the cash it took: what it owes the centre (> 0) or is owed (< 0).
    figures["net_vnd"] = figures["cash_net_vnd"] - figures["service_fee_vnd"]
    figures["net_direction"] = ("agent_owes_centre" if figures["net_vnd"] > 0 else
                                "centre_owes_agent" if figures["net_vnd"] < 0 else "settled")
    return figures


def sum_rows(rows) -> dict:
    """{"period": …, "corrections": …, "total": …} from ``rows`` (a selectable with ``line_rows``' columns)."""
    lines = rows.subquery()
    result = db.session.execute(
        select(lines.c.correction, lines.c.kind, lines.c.method, func.count(),
               *(func.coalesce(func.sum(lines.c[name]), 0) for name in MONEY))
        .group_by(lines.c.correction, lines.c.kind, lines.c.method)).all()
    out = {"period": empty_figures(), "corrections": empty_figures(), "total": empty_figures()}
    for correction, kind, method, count, amount, state, service, courier in result:
        for part in ("corrections" if correction else "period", "total"):
            figures = out[part]
            figures["lines"] += int(count)
            if method in METHODS:
                if kind == "payment":
                    figures["collected"][method] += int(amount)
                else:
                    figures["refunded"][method] -= int(amount)
            figures["state_fee_vnd"] += int(state)
            figures["service_fee_vnd"] += int(service)
            figures["courier_fee_vnd"] += int(courier)
    for figures in out.values():
        _finish(figures)
    return out


def dossiers_registered(scope: Scope, when: Period) -> int:
    start, before = when.utc_bounds
    return int(db.session.scalar(select(func.count(Dossier.id)).where(
        scope.condition(), Dossier.received_at >= start, Dossier.received_at < before)) or 0)


def registered_page(scope: Scope, when: Period, *, page: int, size: int) -> tuple[int, list[dict]]:
    start, before = when.utc_bounds
    where = (scope.condition(), Dossier.received_at >= start, Dossier.received_at < before)
    total = int(db.session.scalar(select(func.count(Dossier.id)).where(*where)) or 0)
    rows = db.session.execute(select(Dossier.id, Dossier.number, Dossier.received_at, Dossier.fee_vnd)
                              .where(*where).order_by(Dossier.received_at, Dossier.id)
                              .limit(size).offset((page - 1) * size)).all()
    return total, [{"dossier_id": r.id, "dossier_number": r.number, "received_at": r.received_at,
                    "fee_vnd": int(r.fee_vnd)} for r in rows]


def _figure_filter(lines, figure: str):
    c = lines.c
    return {
        "all": true(), "card": and_(c.kind == "payment", c.method == "card"),
        "vietqr": and_(c.kind == "payment", c.method == "vietqr"), "cash": c.method == "cash",
        "collected": c.kind == "payment", "refunds": c.kind == "refund", "state_fee": c.state_fee_vnd != 0,
        "service_fee": c.service_fee_vnd != 0, "courier_fee": c.courier_fee_vnd != 0,
        "net": or_(c.method == "cash", c.service_fee_vnd != 0), "corrections": c.correction == true(),
    }[figure]


def lines_page(rows, figure: str, *, page: int, size: int) -> tuple[int, list[dict]]:
    """The lines behind one figure, oldest first, with their dossiers' numbers."""
    lines = rows.subquery()
    where = _figure_filter(lines, figure)
    total = int(db.session.scalar(select(func.count()).select_from(lines).where(where)) or 0)
    found = db.session.execute(select(lines, Dossier.number.label("dossier_number"))
                               .outerjoin(Dossier, Dossier.id == lines.c.dossier_id).where(where)
                               .order_by(lines.c.booked_at, lines.c.ledger_transaction_id)
                               .limit(size).offset((page - 1) * size)).mappings().all()
    return total, [{**{k: row[k] for k in ("ledger_transaction_id", "kind", "reference", "booked_at", "dossier_id",
                                           "dossier_number", "method", "correction")},
                    **{k: int(row[k]) for k in MONEY}} for row in found]


def store_lines(statement_id: int, scope: Scope, when: Period) -> int:
    """Copy the statement's lines into ``finance_statement_lines`` (INSERT … SELECT); how many."""
    rows = line_rows(scope, when).subquery()
    columns = ("ledger_transaction_id", "dossier_id", "kind", "method", "booked_at", *MONEY, "correction")
    source = select(literal(statement_id), literal(scope.key), *(rows.c[name] for name in columns))
    result = db.session.execute(insert(StatementLine).from_select(["statement_id", "scope_key", *columns], source))
    return int(result.rowcount or 0)


def stored_digest_rows(statement_id: int):
    """The stored lines in a stable order, as tuples (what the signature's digest covers)."""
    line = StatementLine
    return db.session.execute(select(line.ledger_transaction_id, line.kind, line.method, line.amount_vnd,
                                     line.state_fee_vnd, line.service_fee_vnd, line.courier_fee_vnd, line.correction)
                              .where(line.statement_id == statement_id).order_by(line.ledger_transaction_id))


def overlapping(scope: Scope, when: Period) -> list[Statement]:
    return list(db.session.scalars(select(Statement).where(
        Statement.scope_key == scope.key, Statement.period_start <= when.end, Statement.period_end >= when.start)
        .order_by(Statement.period_start)))


def transaction_entries(transaction_ids: list[int]) -> dict[int, list[dict]]:
    """The ledger entries of the given transactions (the drill-down's last step)."""
    if not transaction_ids:
        return {}
    out: dict[int, list[dict]] = {}
    for row in db.session.execute(select(LedgerEntry.transaction_id, LedgerEntry.id, LedgerEntry.account,
                                         LedgerEntry.party, LedgerEntry.amount_vnd)
                                  .where(LedgerEntry.transaction_id.in_(transaction_ids))
                                  .order_by(LedgerEntry.id)):
        out.setdefault(row.transaction_id, []).append({"id": row.id, "account": row.account, "party": row.party,
                                                       "amount_vnd": int(row.amount_vnd)})
    return out


def busiest_point(when: Period) -> Scope | None:
    """The agent point that registered the most dossiers in the period (the demo's statement)."""
    start, before = when.utc_bounds
    found = db.session.execute(
        select(Dossier.agent_point_id, func.count(Dossier.id).label("n"))
        .where(Dossier.agent_point_id.is_not(None), Dossier.received_at >= start, Dossier.received_at < before)
        .group_by(Dossier.agent_point_id).order_by(func.count(Dossier.id).desc(), Dossier.agent_point_id)
        .limit(1)).first()
    if found is None:
        return None
    point = db.session.get(AgentPoint, found[0])
    return Scope("point", point.id, point.code, point.name, point.organisation_id)
