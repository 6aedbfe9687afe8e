"""The branch officer's workspace: work queues, one dossier's facts, and the branch's actions.

Queues are read set-based and index-friendly at a year of Hanoi (4 million dossiers): a tab is a range of
``ix_dossiers_queue`` (service_point_id, status, deadline_at, id), or of ``ix_dossiers_status_deadline``
(status, deadline_at, id) for an officer of every point, in deadline order; the page's ids are read from the
index alone and only its rows from the table; the counts of every tab are ONE grouped query over the active
statuses only (the closed millions are never read). Phone and CCCD are found by their blind indexes.

Every action goes through ``dossiers.service.transition`` (the API's one way to move a dossier), with the
version the officer saw (optimistic locking: a dossier changed since is a 409 and nothing moves). The
back office audits who did what (``backoffice.service``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, select

from core import pii
from core.accounts import Principal
from core.errors import Conflict, invalid
from core.extensions import db
from core.messages import Text
from core.roles import Role
from core.timeutil import LOCAL_TZ, as_utc, to_local, utcnow
from core.uow import unit_of_work
from dossiers import service
from dossiers.deadlines import OFFICE_CLOSES, add_working_days
from dossiers.lifecycle import TERMINAL, allowed_next
from dossiers.models import DeliveryMethod, Dossier, DossierEvent, Status
from geo import service as geo

S = Status
# The statuses whose deadline runs (a supplement request pauses it; a result ready has met it).
RUNNING = (S.RECEIVED, S.ROUTED, S.ACCEPTED, S.PROCESSING)
ACTIVE = (*RUNNING, S.SUPPLEMENT_REQUESTED, S.RESULT_READY, S.OUT_FOR_DELIVERY)
TAB_STATUSES: dict[str, tuple[Status, ...]] = {
    "new": (S.RECEIVED, S.ROUTED),
    "accepted": (S.ACCEPTED,),
    "processing": (S.PROCESSING,),
    "supplement": (S.SUPPLEMENT_REQUESTED,),
    "result_ready": (S.RESULT_READY,),
    "overdue": RUNNING,
    "due_soon": RUNNING,
}
TABS = tuple(TAB_STATUSES)
# Before the result is ready a dossier may go to another point.
TRANSFERABLE = frozenset({S.RECEIVED, S.ROUTED, S.ACCEPTED, S.PROCESSING, S.SUPPLEMENT_REQUESTED})


@dataclass(frozen=True)
class QueueQuery:
    tab: str = "new"
    procedure_id: int | None = None
    organisation_id: int | None = None
    status: Status | None = None
    q: str = ""
    page: int = 1
    page_size: int = 25


@dataclass
class QueuePage:
    query: QueueQuery
    items: list[Dossier]
    total: int
    counts: dict[str, int]
    now: datetime
    due_by: datetime
    pages: int = field(init=False)

    def __post_init__(self):
        self.pages = max(1, -(-self.total // self.query.page_size))


def due_bound(now: datetime) -> datetime:
    """The end of the next working day's office hours: a deadline before it is due within one working day."""
    day = add_working_days(to_local(now).date(), 1)
    return as_utc(datetime.combine(day, OFFICE_CLOSES, tzinfo=LOCAL_TZ))


def _criteria(principal: Principal, query: QueueQuery) -> list:
    """The WHERE of the caller's scope, the filters and the search (not the tab)."""
    where = []
    scoped = service.scoped(principal).whereclause
    if scoped is not None:
        where.append(scoped)
    if query.procedure_id:
        where.append(Dossier.procedure_id == query.procedure_id)
    if query.organisation_id:
        where.append(Dossier.organisation_id == query.organisation_id)
    found = service.query_criteria(query.q)
    if "cccd" in found:
        where.append(Dossier.citizen_id_number_hash == pii.blind_index("cccd", found["cccd"]))
    elif "phone" in found:
        where.append(Dossier.citizen_phone_hash == pii.blind_index("phone", found["phone"]))
    elif "number" in found:
        where.append(Dossier.number.startswith(found["number"]))
    return where


def _tab_criteria(tab: str, now: datetime, due_by: datetime) -> list:
    where = [Dossier.status.in_(TAB_STATUSES[tab])]
    if tab == "overdue":
        where.append(Dossier.deadline_at < now)
    elif tab == "due_soon":
        where += [Dossier.deadline_at >= now, Dossier.deadline_at <= due_by]
    return where


def counts(principal: Principal, query: QueueQuery, now: datetime | None = None) -> dict[str, int]:
    """Every tab's count in one grouped query over the active statuses (the filters and search applied)."""
    now = now or utcnow()
    due_by = due_bound(now)
    running = Dossier.status.in_(RUNNING)
    stmt = (select(Dossier.status, func.count(),
                   func.sum(case((running & (Dossier.deadline_at < now), 1), else_=0)),
                   func.sum(case((running & (Dossier.deadline_at >= now) & (Dossier.deadline_at <= due_by), 1),
                                 else_=0)))
            .where(*_criteria(principal, query), Dossier.status.in_(ACTIVE))
            .group_by(Dossier.status))
    result = dict.fromkeys(TABS, 0)
    for status, total, overdue, due_soon in db.session.execute(stmt):
        for tab, statuses in TAB_STATUSES.items():
            if tab not in ("overdue", "due_soon") and status in statuses:
                result[tab] += total
        result["overdue"] += int(overdue or 0)
        result["due_soon"] += int(due_soon or 0)
    return result


def queue(principal: Principal, query: QueueQuery) -> QueuePage:
    """One page of a tab, by deadline (then id), with every tab's count."""
    if query.tab not in TAB_STATUSES:
        raise invalid("tab", f"Must be one of: {', '.join(TABS)}.", location="query")
    now = utcnow()
    due_by = due_bound(now)
    tab_counts = counts(principal, query, now)
    where = _criteria(principal, query) + _tab_criteria(query.tab, now, due_by)
    if query.status is not None:
        where.append(Dossier.status == query.status)
        total = db.session.scalar(select(func.count()).select_from(Dossier).where(*where)) or 0
    else:
        total = tab_counts[query.tab]
    # The page's ids first, from the index alone (``ix_dossiers_queue`` ends with the id), then its rows: the
    # sort never reads the tab's other dossiers from the table.
    page_ids = (select(Dossier.id).where(*where).order_by(Dossier.deadline_at, Dossier.id)
                .limit(query.page_size).offset((max(1, query.page) - 1) * query.page_size))
    items = list(db.session.scalars(
        select(Dossier).where(Dossier.id.in_(page_ids.scalar_subquery())).order_by(Dossier.deadline_at, Dossier.id)))
    return QueuePage(query, items, total, tab_counts, now, due_by)


def deadline_state(dossier: Dossier, now: datetime | None = None) -> str:
    """``paused``, ``overdue``, ``due_soon``, ``met`` (result ready or later) or ``running``."""
    now = now or utcnow()
    if dossier.status is S.SUPPLEMENT_REQUESTED:
        return "paused"
    if dossier.status not in RUNNING:
        return "met"
    deadline = as_utc(dossier.deadline_at)
    if deadline < now:
        return "overdue"
    return "due_soon" if deadline <= due_bound(now) else "running"


# ---------------------------------------------------------------- actions

def _locked(principal: Principal, number: str, version: int | None) -> Dossier:
    dossier = service.get(principal, number, for_update=True)
    service.check_version(dossier, version)
    return dossier


def move(principal: Principal, number: str, target: Status, version: int | None,
         reason: str | None = None) -> Dossier:
    """Accept, start processing, resume after a supplement, reject, hand over, collect, close: one move."""
    return service.transition(principal, number, target, reason, version)


SUPPLEMENT_NOTE = "Ghi chú:"  # the officer's note in a supplement reason (form 02 reads it back as its "Lý do")


def supplement_reason(documents: list[str], note: str | None) -> str:
    """One line per document asked for, then the note: the supplement request form (02) lists the lines
    of this reason as its numbered items."""
    lines = [d.strip() for d in documents if d.strip()]
    note = " ".join((note or "").split())
    if note:
        lines.append(f"{SUPPLEMENT_NOTE} {note}")
    return "\n".join(lines)


def request_supplement(principal: Principal, number: str, version: int | None, documents: list[str],
                       note: str | None) -> Dossier:
    """Ask the citizen for documents: the deadline pauses (``paused_at``), the citizen gets an SMS
    (notify's subscriber of the status change); the move back to processing resumes it."""
    if not [d for d in documents if d.strip()] and not (note or "").strip():
        raise invalid("documents", "Name the documents to supply, or write a note.", location="form")
    return service.transition(principal, number, S.SUPPLEMENT_REQUESTED, supplement_reason(documents, note),
                              version)


def result_ready(principal: Principal, number: str, version: int | None, filename: str | None = None,
                 stream=None, on_paper_note: str | None = None) -> Dossier:
    """Record the result: its document uploaded (kind ``result``), or a note that it is on paper."""
    note = (on_paper_note or "").strip()
    if stream is None and not note:
        raise invalid("result_file", "Upload the result, or note that it is on paper.", location="form")
    with unit_of_work():
        _locked(principal, number, version)
        reason = "Kết quả đã có / Result ready"
        if stream is not None:
            document = service.add_document(principal, number, "result", filename or "result", stream)
            reason += f" — {document.filename}"
        if note:
            reason += f" — bản giấy / on paper: {note}"
        return service.transition(principal, number, S.RESULT_READY, reason, version)


def transfer(principal: Principal, number: str, version: int | None, point_code: str, reason: str) -> Dossier:
    """Send the dossier to another service point, with a reason; its status and deadline stay."""
    reason = (reason or "").strip()
    if not reason:
        raise invalid("reason", "A reason is required for a transfer.", location="form")
    with unit_of_work():
        dossier = _locked(principal, number, version)
        if principal.role not in (Role.BRANCH_OFFICER, Role.ADMIN):
            raise invalid("point", "Only branch officers transfer dossiers.", location="form")
        if dossier.status not in TRANSFERABLE:
            raise Conflict(Text(f"Hồ sơ ở trạng thái {dossier.status.value} không thể chuyển điểm.",
                                f"A dossier that is {dossier.status.value} cannot be transferred."),
                           current_status=dossier.status.value)
        target = geo.get_point(point_code)
        if target.id == dossier.service_point_id:
            raise invalid("point", "The dossier is already at this point.", location="form")
        source = geo.point_by_id(dossier.service_point_id)
        now = utcnow()
        dossier.events.append(DossierEvent(
            at=now, actor=principal.label, actor_role=principal.role.value, from_status=dossier.status.value,
            to_status=dossier.status.value,
            reason=f"Chuyển từ {source.code} đến {target.code} / Transferred from {source.code} to {target.code}: "
                   f"{reason}"))
        routing = dict(dossier.routing or {})
        routing["transfers"] = [*routing.get("transfers", []), {
            "at": now.isoformat(), "from": source.code, "to": target.code, "reason": reason, "by": principal.label}]
        dossier.routing = routing
        dossier.service_point_id = target.id
        dossier.assigned_user_id = None
        dossier.updated_at = now
        db.session.flush()
        return dossier


def assign(principal: Principal, number: str, version: int | None, user_id: int | None) -> Dossier:
    """Assign the dossier to one officer (None: unassign)."""
    with unit_of_work():
        dossier = _locked(principal, number, version)
        if dossier.status in TERMINAL:
            raise Conflict(Text("Hồ sơ đã kết thúc.", "The dossier is closed."), current_status=dossier.status.value)
        dossier.assigned_user_id = user_id
        dossier.updated_at = utcnow()
        db.session.flush()
        return dossier


def offered_moves(dossier: Dossier) -> list[Status]:
    """The legal next statuses a branch officer may choose (cancellation is the agent's)."""
    return [s for s in allowed_next(dossier.status, dossier.delivery_method) if s is not S.CANCELLED]


def is_courier(dossier: Dossier) -> bool:
    return dossier.delivery_method is DeliveryMethod.COURIER


def supplement_wait(dossier: Dossier, now: datetime | None = None) -> int | None:
    """Working days the deadline has waited so far (None when not paused)."""
    if dossier.paused_at is None:
        return None
    return service.paused_working_days(dossier.paused_at, now or utcnow())

