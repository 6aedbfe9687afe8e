"""The official forms filled from a dossier and its records, for the officer who prints them.

The dossier comes through ``dossiers.service.get``, scoped as every read is (an officer bound to a point
sees only its dossiers: another point's is a 404). A form that does not apply yet is a 404 too: no
supplement requested, no refusal recorded, no apology given. Form 02 is filled from the latest
SUPPLEMENT_REQUESTED event's reason (one item a line; a "Ghi chú: …" line is its reason), form 03 from the
REJECTED event's reason, each signed by the officer who made that move (else the one printing); form 04
from the latest apology (``dossiers.apologies``), or the one asked for.
"""

from __future__ import annotations

from backoffice.official_forms import (
    FORMS,
    Apology,
    DossierFacts,
    OfficialForm,
    ReceiptSlip,
    Refusal,
    SupplementRequest,
)
from core import accounts
from core.accounts import Principal
from core.errors import NotFound
from core.messages import Text
from core.timeutil import as_utc
from dossiers import apologies
from dossiers import service as dossiers
from dossiers.enums import DeliveryMethod, Status
from dossiers.workspace import SUPPLEMENT_NOTE as NOTE


def _not_applicable(number: str, form: str) -> NotFound:
    return NotFound(Text(f"Hồ sơ {number} chưa có phiếu này ({form}).",
                         f"Dossier {number} has no such form yet ({form})."))


def _national(phone: str | None) -> str | None:
    """``+84912345678`` → ``0912345678``, as people write a Vietnamese mobile number."""
    return "0" + phone[3:] if phone and phone.startswith("+84") else phone


def facts(dossier, officer_name: str | None) -> DossierFacts:
    point = dossiers.receiving_point(dossier)
    if dossier.delivery_method is DeliveryMethod.COURIER:
        delivery = f"Nhận qua dịch vụ bưu chính tại địa chỉ: {dossier.delivery_address or ''}".strip()
    else:
        delivery = f"{point.name}, {point.address}"
    return DossierFacts(
        number=dossier.number, citizen_name=dossier.citizen_name, procedure_name=dossier.procedure.name,
        processing_days=dossier.procedure.processing_days, received_at=as_utc(dossier.received_at),
        deadline_at=as_utc(dossier.deadline_at), point_name=point.name, point_address=point.address,
        citizen_address=dossier.citizen_address, citizen_phone=_national(dossier.citizen_phone),
        citizen_email=dossier.citizen_email,
        documents=tuple(f"{doc.filename} ({doc.kind})" for doc in dossier.documents),
        delivery=delivery, officer_name=officer_name)


def _actor_name(label: str | None) -> str | None:
    """The name of the officer behind an event's actor label (``user:<email>``), if it is one."""
    if not label or not label.startswith("user:"):
        return None
    try:
        return accounts.get_user(label.removeprefix("user:").split(" ", 1)[0]).full_name
    except NotFound:
        return None


def _latest_event(dossier, status: Status):
    found = [event for event in dossier.events if event.to_status == status.value
             and event.from_status != status.value]
    return found[-1] if found else None


def available(dossier) -> set[str]:
    """The forms ``build`` fills for this dossier (any other is a 404): the receipt always, the supplement
    request once one was made, the refusal once refused, the apology once one was given."""
    forms = {"receipt"}
    if _latest_event(dossier, Status.SUPPLEMENT_REQUESTED) is not None:
        forms.add("supplement")
    if _latest_event(dossier, Status.REJECTED) is not None:
        forms.add("refusal")
    if apologies.apologies_of(dossier.id):
        forms.add("apology")
    return forms


def build(principal: Principal, number: str, form: str, officer_name: str | None = None,
          apology_id: int | None = None) -> OfficialForm:
    """The form ``form`` (receipt, supplement, refusal, apology) of dossier ``number``, filled."""
    if form not in FORMS:
        raise _not_applicable(number, form)
    dossier = dossiers.get(principal, number)
    d = facts(dossier, officer_name)
    if form == "receipt":
        return ReceiptSlip(d).render()
    if form == "supplement":
        event = _latest_event(dossier, Status.SUPPLEMENT_REQUESTED)
        if event is None:
            raise _not_applicable(number, form)
        lines = [line.strip(" -•\t") for line in (event.reason or "").splitlines() if line.strip(" -•\t")]
        # The workspace writes the officer's note last, as "Ghi chú: …" (dossiers.workspace.supplement_reason):
        # it is the form's "Lý do" (why), the other lines its items.
        notes = [line.removeprefix(NOTE).strip() for line in lines if line.startswith(NOTE)]
        items = tuple(line for line in lines if not line.startswith(NOTE))
        return SupplementRequest(d, as_utc(event.at), items, reason="; ".join(notes) or None,
                                 officer_name=_actor_name(event.actor)).render()
    if form == "refusal":
        event = _latest_event(dossier, Status.REJECTED)
        if event is None:
            raise _not_applicable(number, form)
        return Refusal(d, as_utc(event.at), event.reason or "", officer_name=_actor_name(event.actor)).render()
    records = apologies.apologies_of(dossier.id)
    if apology_id is not None:
        records = [a for a in records if a.id == apology_id]
    if not records:
        raise _not_applicable(number, form)
    apology = records[-1]
    at, old = as_utc(apology.at), as_utc(apology.old_deadline)
    unit = dossiers.receiving_point(dossier).code
    return Apology(d, serial=apology.id, unit_code=unit, at=at, reason=apology.reason, old_deadline=old,
                   new_deadline=as_utc(apology.new_deadline), officer_name=apology.officer_name or officer_name,
                   late_already=at > old).render()
