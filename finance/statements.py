"""Agent statements: live figures for any period and scope, and issued (frozen, signed, numbered) statements.

A period is a Hanoi day, an ISO week (Monday to Sunday), a calendar month, or any range of days;
a scope is the whole centre, one agent organisation or one agent point. ``preview`` reads the
figures live (``statement_queries``); ``issue`` freezes them:

* under the row lock of the series' counter (``SELECT … FOR UPDATE``), which also serialises issues,
  so the overlap check and the numbering cannot race; the number is the counter's next (a rollback
  gives it back: gap-free, where a sequence would skip);
* a period that overlaps a statement already issued for the scope is refused (409), nothing written;
* the lines are copied set-based (INSERT … SELECT), the figures summed from the copied lines, and the
  whole signed with the e-receipts' Ed25519 key: canonical JSON of the figures, the period, the scope
  and a SHA-256 digest of the lines. On PostgreSQL a trigger refuses any change to a sealed statement.

A payment or refund committed after the statement of its period was issued is not lost: it is carried
forward to the next statement issued for the scope, as a correction line.
"""

from __future__ import annotations

import base64
import hashlib
import json
from calendar import monthrange
from datetime import date, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from core.accounts import Principal
from core.errors import Conflict, Forbidden, NotFound
from core.extensions import db
from core.messages import Text
from core.roles import Role
from core.timeutil import as_utc, utcnow
from core.uow import unit_of_work
from finance import statement_queries as q
from finance.queue import local_today, refused
from finance.statement_models import Statement, StatementCounter
from finance.treasury import Period, period
from payments import receipting, receipts

FINANCE_ROLES = (Role.FINANCE, Role.ADMIN)
SERIES = "BK"  # bảng kê: one gap-free series for every scope
FORMAT_VERSION = 1
PERIOD_KINDS = ("day", "week", "month", "custom")
PAGE_MAX = 500


def check(principal: Principal) -> None:
    if principal.role not in FINANCE_ROLES:
        raise Forbidden(Text("Chỉ bộ phận tài chính xem và phát hành bảng kê.",
                             "Only finance staff see and issue statements."))


# ---------------------------------------------------------------- periods and scopes

def period_of(kind: str | None, on: date | None = None, start: date | None = None, end: date | None = None,
              location: str = "query") -> Period:
    """The period asked: a day, the ISO week or the month of ``on`` (today if none), or ``start``–``end``.

    A custom period that ends before it starts is refused (422, Vietnamese and English)."""
    kind = kind or ("custom" if start or end else "month")
    if kind not in PERIOD_KINDS:
        raise refused("period", "Kỳ phải là ngày, tuần, tháng hoặc tùy chọn.",
                      "The period is a day, a week, a month or custom.", location)
    if kind == "custom":
        return period(start, end)
    on = on or start or local_today()
    if kind == "day":
        return Period(on, on)
    if kind == "week":
        monday = on - timedelta(days=on.weekday())
        return Period(monday, monday + timedelta(days=6))
    return Period(on.replace(day=1), on.replace(day=monthrange(on.year, on.month)[1]))


def scope_of(organisation: str | None = None, agent_point: str | None = None, location: str = "query") -> q.Scope:
    """The whole centre, an organisation (by code) or an agent point (by code); an unknown code is refused."""
    if agent_point:
        found = q.point_scope(agent_point.strip())
        if found is None:
            raise refused("agent_point", f"Không có điểm đại lý mã {agent_point}.",
                          f"No agent point has the code {agent_point}.", location)
        owner = q.organisation_scope(organisation.strip()) if organisation else None
        if organisation and (owner is None or owner.id != found.organisation_id):
            raise refused("agent_point", f"Điểm đại lý {agent_point} không thuộc tổ chức {organisation}.",
                          f"The agent point {agent_point} is not {organisation}'s.", location)
        return found
    if organisation:
        found = q.organisation_scope(organisation.strip())
        if found is None:
            raise refused("organisation", f"Không có tổ chức đại lý mã {organisation}.",
                          f"No agent organisation has the code {organisation}.", location)
        return found
    return q.centre()


# ---------------------------------------------------------------- live figures

def preview(principal: Principal, scope: q.Scope, when: Period) -> dict:
    """The period's figures for the scope as the ledger has them now, and the statements already issued."""
    check(principal)
    figures = q.live_figures(scope, when)
    figures["period"]["dossiers_registered"] = figures["total"]["dossiers_registered"] = \
        q.dossiers_registered(scope, when)
    figures["corrections"]["dossiers_registered"] = 0
    issued = [summary(s) for s in q.overlapping(scope, when)]
    return {"scope": scope.view(), "from": when.start, "to": when.end, "figures": figures, "issued": issued,
            "issuable": not issued and when.end < local_today()}


def _page_args(page: int | None, size: int | None) -> tuple[int, int]:
    return max(1, page or 1), min(PAGE_MAX, max(1, size or 50))


def _with_entries(lines: list[dict]) -> list[dict]:
    entries = q.transaction_entries([line["ledger_transaction_id"] for line in lines])
    for line in lines:
        line["entries"] = entries.get(line["ledger_transaction_id"], [])
        line["booked_at"] = as_utc(line["booked_at"])
    return lines


def _drill(rows, figure: str, page: int | None, size: int | None, dossiers: tuple | None) -> dict:
    page, size = _page_args(page, size)
    if figure == "dossiers":
        if dossiers is None:
            raise refused("figure", "Bảng kê đã phát hành liệt kê các bút toán, không liệt kê hồ sơ tiếp nhận.",
                          "An issued statement lists its ledger lines, not the dossiers registered.")
        total, items = q.registered_page(*dossiers, page=page, size=size)
        for item in items:
            item["received_at"] = as_utc(item["received_at"])
        return {"figure": figure, "total": total, "page": page, "page_size": size, "dossiers": items, "lines": []}
    if figure not in q.FIGURES:
        raise refused("figure", "Không có số liệu này trong bảng kê.", "The statement has no such figure.", "query")
    total, lines = q.lines_page(rows, figure, page=page, size=size)
    return {"figure": figure, "total": total, "page": page, "page_size": size, "lines": _with_entries(lines),
            "dossiers": []}


def preview_lines(principal: Principal, scope: q.Scope, when: Period, figure: str, page: int | None = None,
                  size: int | None = None) -> dict:
    """The dossiers and ledger entries behind one figure of the live statement."""
    check(principal)
    return _drill(q.line_rows(scope, when), figure, page, size, (scope, when))


# ---------------------------------------------------------------- issued statements

def number_text(row: Statement) -> str:
    return f"{row.series}-{row.number:06d}"


def summary(row: Statement) -> dict:
    return {"id": row.id, "number": number_text(row), "from": row.period_start, "to": row.period_end,
            "scope_key": row.scope_key, "issued_at": as_utc(row.issued_at), "issued_by": row.issued_by,
            "net_vnd": (row.figures or {}).get("total", {}).get("net_vnd")}


def _next_number() -> int:
    """The series' next number, the counter row locked FOR UPDATE until the issuing transaction ends."""
    dialect = db.session.get_bind().dialect.name
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(make(StatementCounter).values(series=SERIES, last_number=0).on_conflict_do_nothing())
    counter = db.session.scalars(select(StatementCounter).where(StatementCounter.series == SERIES)
                                 .with_for_update()).one()
    counter.last_number += 1
    db.session.flush()
    return counter.last_number


def _signing_key():
    return receipting.signing_key()


def _dumps(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")


def _lines_digest(statement_id: int) -> str:
    digest = hashlib.sha256()
    for row in q.stored_digest_rows(statement_id):
        digest.update(_dumps(list(row)) + b"\n")
    return digest.hexdigest()


def canonical(row: Statement, scope: q.Scope, figures: dict, lines_sha256: str) -> bytes:
    """Exactly what is signed: sorted keys, no spaces, UTF-8; the times ISO-8601 UTC."""
    return _dumps({"v": FORMAT_VERSION, "series": row.series, "number": row.number, "scope": scope.view(),
                   "from": row.period_start.isoformat(), "to": row.period_end.isoformat(), "figures": figures,
                   "lines_sha256": lines_sha256, "issued_at": as_utc(row.issued_at).isoformat(),
                   "issued_by": row.issued_by})


def already_issued(found: list[Statement]) -> Conflict:
    numbers = ", ".join(number_text(s) for s in found)
    return Conflict(Text(f"Kỳ này đã có bảng kê phát hành ({numbers}); bảng kê đã phát hành không thay đổi. "
                         "Khoản điều chỉnh muộn sẽ vào bảng kê kỳ sau.",
                         f"A statement is already issued for this period ({numbers}); an issued statement never "
                         "changes. A late correction goes on the next one."))


@unit_of_work()
def issue(principal: Principal, scope: q.Scope, when: Period) -> dict:
    """Freeze the period's statement for the scope: numbered, its lines stored, signed. 409 if already issued."""
    check(principal)
    if when.end >= local_today():
        raise refused("to", "Chỉ phát hành bảng kê khi kỳ đã kết thúc (đến hết hôm qua).",
                      "A statement is issued once its period is over (up to yesterday at the latest).")
    number = _next_number()  # the lock: from here on no other statement is being issued
    found = q.overlapping(scope, when)
    if found:
        raise already_issued(found)
    row = Statement(series=SERIES, number=number, scope_key=scope.key,
                    organisation_id=scope.organisation_id if scope.kind != "centre" else None,
                    agent_point_id=scope.id if scope.kind == "point" else None,
                    period_start=when.start, period_end=when.end, figures={}, issued_at=utcnow().replace(microsecond=0),
                    issued_by=principal.label, canonical="", signature="", key_id="")
    db.session.add(row)
    db.session.flush()
    q.store_lines(row.id, scope, when)
    figures = q.sum_rows(q.stored_rows(row.id))
    figures["period"]["dossiers_registered"] = figures["total"]["dossiers_registered"] = \
        q.dossiers_registered(scope, when)
    figures["corrections"]["dossiers_registered"] = 0
    figures = json.loads(_dumps(figures))
    body = canonical(row, scope, figures, _lines_digest(row.id))
    key = _signing_key()
    signature = base64.urlsafe_b64encode(key.sign(body)).decode("ascii")
    # The one change a statement ever sees: sealed (signed) once, right after its lines; never again.
    db.session.execute(update(Statement).where(Statement.id == row.id, Statement.signature == "").values(
        figures=figures, canonical=body.decode("utf-8"), signature=signature, key_id=receipts.key_id(key)))
    db.session.expire(row)
    return view(row)


def _get(statement_id: int) -> Statement:
    row = db.session.get(Statement, statement_id)
    if row is None or not row.signature:
        raise NotFound(Text("Không có bảng kê này.", "No such statement."))
    return row


def is_genuine(row: Statement) -> bool:
    try:
        signature = base64.urlsafe_b64decode(row.signature.encode("ascii"))
        _signing_key().public_key().verify(signature, row.canonical.encode("utf-8"))
    except Exception:  # noqa: BLE001 - any failure means not genuine
        return False
    return json.loads(row.canonical).get("figures") == row.figures


def view(row: Statement) -> dict:
    scope = q.scope_of_statement(row)
    return {**summary(row), "series": row.series, "sequence": row.number, "scope": scope.view(),
            "figures": row.figures, "canonical": row.canonical, "signature": row.signature, "key_id": row.key_id,
            "alg": "Ed25519", "genuine": is_genuine(row)}


def get(principal: Principal, statement_id: int) -> dict:
    check(principal)
    return view(_get(statement_id))


def statement_row(principal: Principal, statement_id: int) -> Statement:
    check(principal)
    return _get(statement_id)


def statement_lines(principal: Principal, statement_id: int, figure: str, page: int | None = None,
                    size: int | None = None) -> dict:
    check(principal)
    row = _get(statement_id)
    return _drill(q.stored_rows(row.id), figure, page, size, None)


def all_lines(statement_id: int) -> list[dict]:
    """Every line of an issued statement (the exports)."""
    total, lines = q.lines_page(q.stored_rows(statement_id), "all", page=1, size=10**9)
    return lines


def listing(principal: Principal, scope: q.Scope | None = None, page: int | None = None,
            size: int | None = None) -> dict:
    check(principal)
    page, size = _page_args(page, size)
    query = select(Statement).where(Statement.signature != "")
    if scope is not None:
        query = query.where(Statement.scope_key == scope.key)
    total = db.session.scalar(select(db.func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(query.order_by(Statement.number.desc()).limit(size).offset((page - 1) * size))
    items = []
    for row in rows:
        items.append({**summary(row), "scope": q.scope_of_statement(row).view()})
    return {"total": int(total), "page": page, "page_size": size, "items": items}
