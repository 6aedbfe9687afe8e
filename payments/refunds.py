"""Refunds by finance or admin: full or partial, with a reason, never more than was paid.

The amount is reserved on the payment (under its row lock) in the same commit that stores
the refund and its Idempotency-Key, before the gateway is asked; two finance officers
refunding at once cannot take back more than was paid. The ledger gets a reversing
transaction per refund, once. Card payments are refunded through the gateway; VietQR and
cash refunds are paid back by the centre's bank or the agent, and recorded here.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from core.accounts import Principal
from core.errors import Conflict, Forbidden, InvalidInput
from core.extensions import db
from core.messages import Text
from core.outbox import enqueue
from core.roles import Role
from core.uow import commit_point, unit_of_work
from payments import ledger, receipting, repository
from payments.client import gateway
from payments.errors import APIConnectionError, APIError, GatewayError, RateLimitError
from payments.models import Method, Payment, PaymentStatus, Refund
from payments.service import SETTLED, _dossier_and_payment, organisation

log = logging.getLogger(__name__)

COMPONENTS = ("state_fee", "service_fee", "courier_fee")
_SOURCE = {Method.CARD: ledger.Account.GATEWAY_CLEARING, Method.VIETQR: ledger.Account.BANK,
           Method.CASH: ledger.Account.CASH_AT_AGENTS}


def refundable(payment: Payment) -> dict[str, int]:
    """What is left to give back, per component."""
    left = dict(payment.components())
    for refund in payment.refunds:
        if refund.status != "failed":
            for name, amount in (refund.components or {}).items():
                left[name] -= int(amount)
    return left


def allocate(left: dict[str, int], amount: int) -> dict[str, int]:
    """Split ``amount`` over the components in proportion to what is left of each (largest remainder)."""
    total = sum(left.values())
    if amount > total:
        raise ValueError("more than is left")
    shares = {name: amount * value // total if total else 0 for name, value in left.items()}
    remainders = sorted(left, key=lambda name: (-(amount * left[name] % total) if total else 0, COMPONENTS.index(name)))
    short = amount - sum(shares.values())
    for name in remainders:
        if short == 0:
            break
        if shares[name] < left[name]:
            shares[name] += 1
            short -= 1
    return {name: value for name, value in shares.items() if value}


def create(principal: Principal, number: str, amount_vnd: int | None, reason: str, idempotency_key: str) -> Refund:
    """Reserve the amount with its key, ask the gateway, record its answer; a refusal is recorded, then raised."""
    with unit_of_work():
        refund, refused = _create(principal, number, amount_vnd, reason, idempotency_key)
    if refused is not None:
        raise refused
    return refund


def _create(principal: Principal, number: str, amount_vnd: int | None, reason: str,
            idempotency_key: str) -> tuple[Refund, Conflict | None]:
    if principal.role not in (Role.FINANCE, Role.ADMIN):
        raise Forbidden(Text("Chỉ cán bộ tài chính hoặc quản trị được hoàn tiền.",
                             "Only finance staff or administrators may refund."))
    key = f"refund-{principal.api_key_id}-{idempotency_key}"
    _dossier, payment = _dossier_and_payment(principal, number, lock=True)
    existing = next((r for r in payment.refunds if r.idempotency_key == key), None)
    if existing is not None:  # a retried request: the same refund, carried on if it is still pending
        if existing.status != "pending":
            return existing, None
        commit_point("payments.before_refund")
        return _send(existing.id)
    if payment.status not in SETTLED:
        raise Conflict(Text("Khoản này chưa được thanh toán; không có gì để hoàn.",
                            "This payment has not been paid; there is nothing to refund."))
    left = refundable(payment)
    remaining = sum(left.values())
    amount = remaining if amount_vnd is None else amount_vnd
    if remaining <= 0:
        raise Conflict(Text("Khoản này đã được hoàn hết.", "This payment is already refunded in full."))
    if amount <= 0 or amount > remaining:
        left_text = f"{remaining:,}".replace(",", ".")
        raise InvalidInput(Text(f"amount_vnd: Số tiền hoàn tối đa là phần còn lại: {left_text} ₫.",
                                f"amount_vnd: A refund may be at most what is left: {remaining} VND."),
                           errors=[{"field": "amount_vnd", "location": "json", "remaining_vnd": remaining,
                                    "message_vi": f"Số tiền hoàn tối đa là phần còn lại: {left_text} ₫.",
                                    "message_en": f"A refund may be at most what is left: {remaining} VND."}])
    refund = Refund(payment_id=payment.id, amount_vnd=amount, components=allocate(left, amount), reason=reason,
                    status="pending", idempotency_key=key, requested_by=principal.label)
    db.session.add(refund)
    payment.refunded_vnd = int(payment.refunded_vnd) + amount
    commit_point("payments.before_refund")  # reserved, with its key, before the gateway is asked
    return _send(refund.id)


def _send(refund_id: int, *, background: bool = False) -> tuple[Refund, Conflict | None]:
    """Ask the gateway (after the caller's ``payments.before_refund`` commit point); the refund, and the
    gateway's refusal when it refused (recorded in the caller's transaction, for the caller to raise)."""
    refund = db.session.get(Refund, refund_id)
    payment = refund.payment
    if payment.method is Method.CARD:
        try:
            answer = gateway().create_refund(payment_intent=payment.gateway_intent_id, amount=int(refund.amount_vnd),
                                             idempotency_key=refund.idempotency_key, reason="requested_by_customer",
                                             metadata={"refund": str(refund.id), "reason": refund.reason[:450]})
        except (APIConnectionError, APIError, RateLimitError) as exc:
            if background:
                raise  # the outbox retries this message with backoff
            # Unknown outcome: the same key is retried in the background until the gateway answers.
            enqueue("payments.retry_refund", {"refund_id": refund.id}, dedupe_key=f"retry_refund:{refund.id}")
            log.warning("refund %s pending: %s", refund.id, exc)
            return refund, None
        except GatewayError as exc:
            return _fail(refund.id, exc)
        return apply_refund(refund.id, answer), None
    return apply_refund(refund.id, {"id": None, "status": "succeeded"}), None


def _fail(refund_id: int, exc: GatewayError) -> tuple[Refund, Conflict]:
    payment = repository.payment_by_id(db.session.get(Refund, refund_id).payment_id, lock=True)
    refund = db.session.get(Refund, refund_id)
    if refund.status == "pending":
        refund.status = "failed"
        payment.refunded_vnd = int(payment.refunded_vnd) - int(refund.amount_vnd)
    return refund, Conflict(Text(f"Cổng thanh toán từ chối hoàn tiền: {exc.message}",
                                 f"The gateway refused the refund: {exc.message}"))


@unit_of_work()
def apply_refund(refund_id: int, answer: dict) -> Refund:
    """Record the gateway's (or the bank's) answer once: the reversing entries and the refund receipt."""
    payment = repository.payment_by_id(db.session.get(Refund, refund_id).payment_id, lock=True)
    refund = db.session.get(Refund, refund_id)
    if answer.get("id") and not refund.gateway_refund_id:
        refund.gateway_refund_id = answer["id"]
    status = answer.get("status")
    if refund.status == "pending" and status == "succeeded":
        refund.status = "succeeded"
        agent = organisation(payment.organisation_id).code
        entry = ledger.payment(f"refund-{refund.id}", refund.components, received_in=_SOURCE[payment.method],
                               agent=agent).reversed("refund", f"refund-{refund.id}")
        repository.book(entry, dossier_id=payment.dossier_id, memo=refund.reason[:500])
        payment.status = PaymentStatus.REFUNDED if payment.refunded_vnd >= payment.amount_vnd else \
            PaymentStatus.PARTIALLY_REFUNDED
        receipting.issue_for_refund(payment, refund, issuer_code=agent if payment.method is Method.CASH else None)
    elif refund.status == "pending" and status in ("failed", "canceled"):
        refund.status = "failed"
        payment.refunded_vnd = int(payment.refunded_vnd) - int(refund.amount_vnd)
    return refund


def retry(refund_id: int) -> None:
    """The outbox's retry of a refund whose outcome was unknown: the same key again."""
    with unit_of_work():
        refund = db.session.get(Refund, refund_id)
        refused = None
        if refund is not None and refund.status == "pending":
            commit_point("payments.before_refund")
            _refund, refused = _send(refund_id, background=True)
    if refused is not None:
        raise refused


def by_gateway_id(gateway_refund_id: str) -> Refund | None:
    return db.session.scalars(select(Refund).where(Refund.gateway_refund_id == gateway_refund_id)).one_or_none()


def by_metadata(metadata: dict) -> Refund | None:
    """Our refund named in the gateway refund's metadata (its webhook may outrun our API answer)."""
    ident = str(metadata.get("refund") or "")
    return db.session.get(Refund, int(ident)) if ident.isdigit() else None
