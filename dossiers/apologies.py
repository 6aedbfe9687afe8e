"""The apology for lateness: a late (or soon late) dossier gets a reason and a new date.

Decree 61/2018/NĐ-CP (art. 19) and Circular 01/2018/TT-VPCP (form 04, "Phiếu xin lỗi và hẹn lại ngày trả
kết quả"): when a dossier will miss its deadline, the agency apologises in writing, gives the reason and
sets a new date, and tells the citizen. One unit of work: the apology row, the dossier's new deadline
(the new date's end of office hours, as every deadline), a timeline event, and ``dossiers.apologised``
published for the citizen's SMS (``notify``). A refusal changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from core import outbox
from core.accounts import Principal
from core.calendar import is_public_holiday, is_working_day
from core.errors import Conflict, Forbidden, InvalidInput
from core.extensions import db
from core.messages import Text
from core.models import User
from core.roles import Role
from core.timeutil import LOCAL_TZ, as_utc, to_local, utcnow
from core.uow import unit_of_work
from dossiers import service
from dossiers.deadlines import OFFICE_CLOSES
from dossiers.events import APOLOGISED, apologised
from dossiers.models import DossierApology, DossierEvent, Status

REASON_MAX = 2000
# The result is not ready yet: afterwards the deadline was met or missed, and there is nothing to set again.
OPEN = frozenset({Status.RECEIVED, Status.ROUTED, Status.ACCEPTED, Status.PROCESSING,
                  Status.SUPPLEMENT_REQUESTED})


class ApologyNotOpen(Conflict):
    code = "apology_not_open"
    title = Text("Không thể hẹn lại ngày trả kết quả", "A new date cannot be set")


def _error(field: str, vi: str, en: str) -> dict:
    return {"field": field, "location": "json", "message_vi": vi, "message_en": en}


def problems(reason: str | None, new_date: date | None, deadline: datetime, today: date) -> list[dict]:
    """What is wrong with an apology's reason and new date (empty: nothing), each in both languages."""
    found = []
    reason = (reason or "").strip()
    if not reason:
        found.append(_error("reason", "Cần ghi rõ lý do chậm trả kết quả.", "The reason for the delay is required."))
    elif len(reason) > REASON_MAX:
        found.append(_error("reason", f"Lý do tối đa {REASON_MAX} ký tự.",
                            f"The reason may have at most {REASON_MAX} characters."))
    if new_date is None:
        found.append(_error("new_date", "Cần chọn ngày hẹn trả kết quả mới.", "The new date is required."))
        return found
    due = to_local(deadline).date()
    shown = new_date.strftime("%d/%m/%Y")
    if new_date <= today:
        found.append(_error("new_date", f"Ngày hẹn mới ({shown}) phải sau hôm nay.",
                            f"The new date ({shown}) must be after today."))
    if new_date <= due:
        found.append(_error("new_date", f"Ngày hẹn mới ({shown}) phải sau hạn hiện tại ({due:%d/%m/%Y}).",
                            f"The new date ({shown}) must be after the current deadline ({due:%d/%m/%Y})."))
    if not is_working_day(new_date):
        vi, en = (("ngày lễ", "a public holiday") if is_public_holiday(new_date) and new_date.weekday() < 5
                  else ("ngày nghỉ cuối tuần", "a weekend day"))
        found.append(_error("new_date", f"Ngày hẹn mới ({shown}) là {vi}: hãy chọn một ngày làm việc.",
                            f"The new date ({shown}) is {en}: choose a working day."))
    return found


def new_deadline(new_date: date) -> datetime:
    """The new date's end of office hours, in UTC, as every deadline is."""
    return as_utc(datetime.combine(new_date, OFFICE_CLOSES, tzinfo=LOCAL_TZ))


@unit_of_work()
def apologise(principal: Principal, number: str, reason: str | None, new_date: date | None) -> DossierApology:
    """Record the apology and move the deadline to ``new_date`` (branch officers of the point, admin)."""
    if principal.role not in (Role.BRANCH_OFFICER, Role.ADMIN):
        raise Forbidden(Text("Chỉ cán bộ chi nhánh hoặc quản trị viên được hẹn lại ngày trả kết quả.",
                             "Only branch officers and administrators set a new date."))
    dossier = service.get(principal, number, for_update=True)
    if dossier.status not in OPEN:
        status = dossier.status.value
        raise ApologyNotOpen(Text(f"Hồ sơ {number} đã có kết quả hoặc đã kết thúc (trạng thái {status}).",
                                  f"Dossier {number} already has its result or is closed (status {status})."),
                             current_status=status)
    now = utcnow()
    found = problems(reason, new_date, dossier.deadline_at, to_local(now).date())
    if found:
        raise InvalidInput(Text("; ".join(e["message_vi"] for e in found), "; ".join(e["message_en"] for e in found)),
                           errors=found)
    reason = reason.strip()
    old, new = as_utc(dossier.deadline_at), new_deadline(new_date)
    apology = DossierApology(dossier=dossier, reason=reason, old_deadline=old, new_deadline=new,
                             officer=principal.label, officer_name=_name_of(principal), at=now)
    db.session.add(apology)
    dossier.deadline_at = new
    dossier.events.append(DossierEvent(
        at=now, actor=principal.label, actor_role=principal.role.value, from_status=dossier.status.value,
        to_status=dossier.status.value,
        reason=(f"Xin lỗi, hẹn lại ngày trả kết quả {new_date:%d/%m/%Y} (hạn cũ {to_local(old):%d/%m/%Y}) / "
                f"Apology, new date {new_date:%d/%m/%Y} (was {to_local(old):%d/%m/%Y}): {reason}")))
    db.session.flush()
    outbox.publish(APOLOGISED, apologised(dossier.id, apology.id, new, now))
    return apology


def _name_of(principal: Principal) -> str | None:
    user = db.session.get(User, principal.user_id) if principal.user_id is not None else None
    return user.full_name if user is not None else None


def apologies_of(dossier_id: int) -> list[DossierApology]:
    """A dossier's apologies, oldest first."""
    return list(db.session.scalars(select(DossierApology).where(DossierApology.dossier_id == dossier_id)
                                   .order_by(DossierApology.id)))


def for_dossier(principal: Principal, number: str) -> list[DossierApology]:
    """The apologies of a dossier the caller may see (scoped as every read: else a 404)."""
    return apologies_of(service.get(principal, number).id)
