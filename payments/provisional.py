"""VietQR at the counter: the citizen shows the bank's confirmation, the agent marks it provisional.

What Vietnamese counters do while the statement is not in yet: the agent records the bank's
reference from the citizen's banking app. The payment stays open (nothing is booked in the
ledger, no receipt is issued) until finance imports the statement and its line matches; then
``payments.bank`` confirms it as for any transfer. A provisional transfer with no matching line
after PROVISIONAL_TRANSFER_DAYS is shown to finance, as are lines that name it with another amount.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.accounts import Principal
from core.errors import Conflict, Forbidden
from core.extensions import db
from core.messages import Text
from core.roles import Role
from core.settings import settings
from core.timeutil import as_utc, utcnow
from core.uow import unit_of_work
from dossiers import service as dossiers
from dossiers.models import Dossier
from payments import repository
from payments.models import Method, Payment
from payments.service import OPEN, SETTLED


@unit_of_work()
def mark(principal: Principal, number: str, bank_reference: str) -> Payment:
    """Record the bank's confirmation the citizen showed; provisional, never money received."""
    if principal.role is not Role.AGENT:
        raise Forbidden(Text("Chỉ đại lý ghi nhận chuyển khoản tại quầy.",
                             "Only agents record transfers at the counter."))
    dossier = dossiers.get(principal, number)
    payment = repository.payment_for_dossier(dossier.id, lock=True)
    if payment is None or payment.method is not Method.VIETQR:
        raise Conflict(Text("Hồ sơ chưa chọn thanh toán bằng VietQR.", "The dossier is not being paid by VietQR."))
    if payment.status in SETTLED:
        return payment  # confirmed already: the statement's word stands
    if payment.status not in OPEN:
        raise Conflict(Text("Khoản thanh toán đã bị hủy.", "The payment was cancelled."))
    payment.provisional_bank_reference = " ".join(bank_reference.split())
    payment.provisional_by = principal.label
    payment.provisional_at = utcnow()
    return payment


def state(payment: Payment) -> str | None:
    """None (never marked), ``provisional`` (marked, waiting for the statement) or ``confirmed``."""
    if payment.provisional_at is None:
        return None
    if payment.status in SETTLED:
        return "confirmed"
    return "provisional" if payment.status in OPEN else None


def view(payment: Payment) -> dict | None:
    current = state(payment)
    if current is None:
        return None
    return {"state": current, "bank_reference": payment.provisional_bank_reference,
            "marked_by": payment.provisional_by, "marked_at": payment.provisional_at,
            "confirmed_bank_reference": payment.bank_reference if current == "confirmed" else None,
            "overdue": current == "provisional" and as_utc(payment.provisional_at) <= _overdue_before()}


def _overdue_before():
    return utcnow() - timedelta(days=settings().provisional_transfer_days)


def overdue(limit: int = 200) -> list[dict]:
    """Provisional transfers whose statement line has not come in time: for finance to chase."""
    rows = db.session.execute(
        select(Payment, Dossier.number).join(Dossier, Dossier.id == Payment.dossier_id)
        .where(Payment.provisional_at.is_not(None), Payment.provisional_at <= _overdue_before(),
               Payment.status.in_(OPEN)).order_by(Payment.provisional_at).limit(limit))
    return [{"number": number, "amount_vnd": int(p.amount_vnd), "transfer_reference": p.transfer_reference,
             "bank_reference": p.provisional_bank_reference, "marked_by": p.provisional_by,
             "marked_at": p.provisional_at} for p, number in rows]
