"""Payment use cases: quotes, one payment per dossier, card, VietQR and cash, gateway state.

One transaction per use case. Every gateway call happens after a commit that stored its
Idempotency-Key, so a crash or a timeout leaves a key to retry with, never a second
charge. The gateway's word is final: ``apply_intent`` takes a PaymentIntent as the gateway
returned it (from the API answer, or fetched again for a webhook) and moves the payment
forward under its row lock; booking and receipts happen once, whoever gets there first.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date

from flask import current_app
from sqlalchemy import select

from core import outbox
from core.accounts import Principal
from core.errors import Conflict, Forbidden, InvalidInput, NotFound, invalid
from core.extensions import db
from core.messages import Text
from core.models import Organisation, Role
from core.outbox import enqueue
from core.settings import settings
from core.timeutil import to_local, utcnow
from core.uow import commit_point, unit_of_work
from dossiers import service as dossiers
from dossiers.models import DeliveryMethod, Dossier
from payments import fees, ledger, receipting, repository, vietqr
from payments.client import gateway
from payments.errors import CardError, GatewayError, GatewayUnavailable, PaymentDeclined
from payments.models import CardAttempt, LedgerTransaction, Method, Payment, PaymentStatus, ServiceFeeRule

log = logging.getLogger(__name__)

PAID = outbox.declare_event("payments.paid")  # a dossier's fee is paid (the citizen's SMS subscribes in notify/)

SETTLED = (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)
OPEN = (PaymentStatus.AWAITING, PaymentStatus.REQUIRES_ACTION, PaymentStatus.PROCESSING)


# ---------------------------------------------------------------- fees

def _rules(organisation_id: int) -> list[fees.ServiceFeeRule]:
    return [fees.ServiceFeeRule(r.effective_from, int(r.flat_vnd), r.percent, int(r.minimum_vnd),
                                None if r.maximum_vnd is None else int(r.maximum_vnd))
            for r in repository.fee_rules(organisation_id)]


def delivery_km(dossier: Dossier) -> float | None:
    """How far the courier carries the result: the receiving point to the delivery address.

    Measured at registration (``routing["delivery"]``, dossiers.service). Dossiers registered before that
    carry only the distance from the citizen's location to the point, which stands in for it."""
    if dossier.delivery_method is not DeliveryMethod.COURIER:
        return None
    routing = dossier.routing or {}
    leg = routing.get("delivery") or routing.get("chosen") or {}
    return float(leg.get("distance_km") or 0.0)


def quote_for(dossier: Dossier) -> fees.Quote:
    day: date = to_local(dossier.received_at).date()
    return fees.quote(int(dossier.fee_vnd), _rules(dossier.organisation_id), day, delivery_km(dossier),
                      cap_vnd=settings().service_fee_cap_vnd)


def quote(principal: Principal, number: str) -> dict:
    dossier = dossiers.get(principal, number)
    payment = repository.payment_for_dossier(dossier.id)
    price = _price_of(payment) if payment else quote_for(dossier)
    return {"dossier_number": dossier.number, **price.components(), "total_vnd": price.total_vnd,
            "currency": "vnd", "fixed": payment is not None, "delivery_km": delivery_km(dossier)}


def _price_of(payment: Payment) -> fees.Quote:
    return fees.Quote(int(payment.state_fee_vnd), int(payment.service_fee_vnd), int(payment.courier_fee_vnd))


def organisation(organisation_id: int) -> Organisation:
    return db.session.get(Organisation, organisation_id)


# ---------------------------------------------------------------- reading

def _dossier_and_payment(principal: Principal, number: str, *, lock: bool = False) -> tuple[Dossier, Payment]:
    dossier = dossiers.get(principal, number)
    payment = repository.payment_for_dossier(dossier.id, lock=lock)
    if payment is None:
        raise NotFound(Text(f"Hồ sơ {number} chưa có khoản thanh toán.", f"Dossier {number} has no payment yet."))
    return dossier, payment


def get(principal: Principal, number: str) -> tuple[Dossier, Payment]:
    return _dossier_and_payment(principal, number)


def public_summary(dossier_id: int) -> dict | None:
    """What the citizen's tracking page shows: the status, the amount and the receipts' links."""
    payment = repository.payment_for_dossier(dossier_id)
    if payment is None:
        return None
    return {"status": payment.status, "method": payment.method, "amount_vnd": int(payment.amount_vnd),
            "refunded_vnd": int(payment.refunded_vnd),
            "receipts": [{"label": f"{r.series}/{r.number:07d}", "kind": r.kind, "document": r.document,
                          "url": receipting.verify_url(r.verify_token)} for r in receipting.of_dossier(dossier_id)]}


def intake_summary(dossier: Dossier) -> dict:
    """What the intake receipt prints about money: the quote, and what was paid, how, and its e-receipts.

    ``paid_vnd`` is None while nothing has been collected (the receipt then says so).
    """
    payment = repository.payment_for_dossier(dossier.id)
    price = _price_of(payment) if payment else quote_for(dossier)
    paid = payment is not None and payment.status in SETTLED
    receipts = [{"document": r.document, "label": f"{r.series}/{r.number:07d}"}
                for r in receipting.of_dossier(dossier.id) if r.kind == "payment"]
    return {**price.components(), "total_vnd": price.total_vnd,
            "status": payment.status if payment else None,
            "paid_vnd": int(payment.amount_vnd) if paid else None,
            "refunded_vnd": int(payment.refunded_vnd) if paid else 0,
            "method": payment.method if paid else None,
            "paid_at": payment.paid_at if paid else None,
            "bank_reference": payment.bank_reference if paid else None,
            "receipts": receipts}


def vietqr_payload(payment: Payment) -> str:
    config = current_app.config
    return vietqr.build_payload(bank_bin=config["VIETQR_BANK_BIN"], account_number=config["VIETQR_ACCOUNT_NUMBER"],
                                amount_vnd=int(payment.amount_vnd), reference=payment.transfer_reference,
                                merchant_name=config["VIETQR_ACCOUNT_NAME"])


# ---------------------------------------------------------------- starting a payment

def _may_collect(principal: Principal, dossier: Dossier) -> None:
    if principal.role is Role.AGENT and principal.organisation_id != dossier.organisation_id:
        raise Forbidden(Text("Chỉ đại lý tiếp nhận hồ sơ mới được thu phí.",
                             "Only the agent that registered the dossier may collect its fees."))


@unit_of_work()
def start(principal: Principal, number: str, method: Method) -> Payment:
    """Fix the quote and choose how the citizen pays; again with another method switches it."""
    dossier = dossiers.get(principal, number, for_update=True)
    _may_collect(principal, dossier)
    payment = repository.payment_for_dossier(dossier.id, lock=True)
    if payment is None:
        price = quote_for(dossier)
        if price.total_vnd <= 0:
            raise Conflict(Text("Hồ sơ này không phải nộp phí.", "This dossier has nothing to pay."))
        payment = Payment(dossier_id=dossier.id, organisation_id=dossier.organisation_id, method=method,
                          status=PaymentStatus.AWAITING, state_fee_vnd=price.state_fee_vnd,
                          service_fee_vnd=price.service_fee_vnd, courier_fee_vnd=price.courier_fee_vnd,
                          amount_vnd=price.total_vnd, refunded_vnd=0,
                          intent_idempotency_key=f"pi-{uuid.uuid4()}",
                          transfer_reference=vietqr.reference_for(dossier.number), created_by=principal.label)
        db.session.add(payment)
        db.session.flush()
    elif payment.status in SETTLED:
        return payment
    elif payment.method is not method:
        if payment.method is Method.CARD and payment.gateway_intent_id:
            commit_point("payments.before_gateway_call")
            payment = _release_card(payment.id)
            if payment.status in SETTLED:
                return payment
            payment = repository.payment_by_id(payment.id, lock=True)
            # The cancelled intent is done with; a later card payment gets a new intent and key.
            payment.gateway_intent_id = payment.client_secret = payment.next_action_url = None
            payment.intent_idempotency_key = f"pi-{uuid.uuid4()}"
        payment.method = method
        payment.status = PaymentStatus.AWAITING
    if method is Method.CARD and not payment.gateway_intent_id:
        commit_point("payments.before_gateway_call")  # the intent's Idempotency-Key is stored first
        _create_intent(payment, dossier)
    return payment


def _metadata(payment: Payment, dossier: Dossier) -> dict[str, str]:
    return {"dossier": dossier.number, "organisation": organisation(payment.organisation_id).code,
            "payment_key": payment.intent_idempotency_key,
            **{name: str(amount) for name, amount in payment.components().items()}}


def _create_intent(payment: Payment, dossier: Dossier) -> None:
    try:
        intent = gateway().create_payment_intent(
            amount=int(payment.amount_vnd), idempotency_key=payment.intent_idempotency_key,
            metadata=_metadata(payment, dossier), description=f"{dossier.number} — {dossier.procedure.name}"[:1000])
    except GatewayError as exc:
        raise _unavailable(exc) from exc
    payment = repository.payment_by_id(payment.id, lock=True)
    if not payment.gateway_intent_id:
        payment.gateway_intent_id = intent["id"]
        payment.client_secret = intent.get("client_secret")


def _release_card(payment_id: int) -> Payment:
    """Before the citizen pays another way, the card intent is cancelled (unless it already succeeded)."""
    payment = repository.payment_by_id(payment_id)
    try:
        intent = gateway().cancel_payment_intent(payment.gateway_intent_id,
                                                 idempotency_key=f"{payment.intent_idempotency_key}:cancel",
                                                 cancellation_reason="abandoned")
    except GatewayError as exc:
        if exc.http_status != 400:
            raise _unavailable(exc) from exc
        intent = _retrieve_intent(payment.gateway_intent_id)  # e.g. it succeeded meanwhile
    return apply_intent(intent, keep_method_on_cancel=True)


def _retrieve_intent(intent_id: str) -> dict:
    """The intent as the gateway has it now; the gateway failing here is the agent's 503, not a 500."""
    try:
        return gateway().retrieve_payment_intent(intent_id)
    except GatewayError as exc:
        raise _unavailable(exc) from exc


def _unavailable(exc: GatewayError) -> GatewayUnavailable:
    log.warning("gateway call failed: %s", exc)
    return GatewayUnavailable(Text(
        "Cổng thanh toán đang không phản hồi. Hãy thử lại; không có khoản nào bị trừ hai lần.",
        "The payment gateway is not answering. Try again; nothing is charged twice."))


# ---------------------------------------------------------------- card

def confirm_card(principal: Principal, number: str, payment_method: str, attempt_key: str,
                 return_url: str | None = None) -> Payment:
    """Charge the card; ``attempt_key`` (the client's, per attempt) makes a retried request safe.

    A declined card is recorded (the attempt's outcome, the intent's state) and committed; the
    refusal is raised after.
    """
    with unit_of_work():
        payment, declined = _confirm_card(principal, number, payment_method, attempt_key, return_url)
    if declined is not None:
        raise declined
    return payment


def _confirm_card(principal: Principal, number: str, payment_method: str, attempt_key: str,
                  return_url: str | None) -> tuple[Payment | None, PaymentDeclined | None]:
    dossier, payment = _dossier_and_payment(principal, number)
    _may_collect(principal, dossier)
    if payment.status in SETTLED:
        return payment, None
    if payment.method is not Method.CARD:
        raise Conflict(Text("Khoản này không được thanh toán bằng thẻ; hãy chọn lại hình thức.",
                            "This payment is not by card; choose the method again."))
    if not payment.gateway_intent_id:
        commit_point("payments.before_gateway_call")
        _create_intent(payment, dossier)
        payment = repository.payment_by_id(payment.id)
    key = f"confirm-{payment.id}-{attempt_key}"
    attempt = db.session.scalars(select(CardAttempt).where(CardAttempt.idempotency_key == key)).one_or_none()
    if attempt is None:
        db.session.add(CardAttempt(payment_id=payment.id, idempotency_key=key, payment_method=payment_method,
                                   created_by=principal.label))
    elif attempt.payment_method != payment_method:
        raise invalid("attempt_key", "This attempt key was used with another card.")
    commit_point("payments.before_gateway_call")  # the key exists before the gateway is asked
    try:
        intent = gateway().confirm_payment_intent(payment.gateway_intent_id, idempotency_key=key,
                                                  payment_method=payment_method, return_url=return_url)
    except CardError as exc:
        _record_attempt(key, exc.decline_code or exc.code or "card_error")
        intent = (exc.body.get("error") or {}).get("payment_intent")
        if intent:
            apply_intent(intent)
        declined = PaymentDeclined(exc.explain(), decline_code=exc.decline_code)
        declined.__cause__ = exc
        return None, declined
    except GatewayError as exc:
        if exc.http_status == 400 and payment.gateway_intent_id:  # e.g. it succeeded meanwhile
            return apply_intent(_retrieve_intent(payment.gateway_intent_id)), None
        raise _unavailable(exc) from exc
    _record_attempt(key, intent.get("status"))
    return apply_intent(intent), None


def _record_attempt(key: str, outcome: str | None) -> None:
    attempt = db.session.scalars(select(CardAttempt).where(CardAttempt.idempotency_key == key)).one()
    attempt.outcome = (outcome or "")[:40]


@unit_of_work()
def refresh(principal: Principal, number: str) -> Payment:
    """Ask the gateway again (the portal polls while 3-D Secure runs in the citizen's hands)."""
    _dossier, payment = _dossier_and_payment(principal, number)
    if payment.gateway_intent_id and payment.status in OPEN:
        commit_point("payments.before_gateway_call")
        try:
            return apply_intent(gateway().retrieve_payment_intent(payment.gateway_intent_id))
        except GatewayError as exc:
            log.info("refresh of %s failed: %s", payment.gateway_intent_id, exc)
    return payment


_INTENT_STATUS = {
    "requires_payment_method": PaymentStatus.AWAITING,
    "requires_confirmation": PaymentStatus.AWAITING,
    "requires_action": PaymentStatus.REQUIRES_ACTION,
    "processing": PaymentStatus.PROCESSING,
    "requires_capture": PaymentStatus.PROCESSING,
    "canceled": PaymentStatus.CANCELED,
}


@unit_of_work()
def apply_intent(intent: dict, *, keep_method_on_cancel: bool = False) -> Payment:
    """Move the payment to what the gateway says, once. The webhook job and the API share it."""
    payment = _payment_of_intent(intent)
    if payment is None:
        raise NotFound(Text("Không có khoản thanh toán cho giao dịch này.", "No payment for this intent."))
    payment = repository.payment_by_id(payment.id, lock=True)
    if not payment.gateway_intent_id:
        payment.gateway_intent_id = intent["id"]
    status = intent.get("status")
    if status == "succeeded":
        _settle(payment, intent)
    elif payment.status in OPEN and payment.method is Method.CARD:
        payment.status = _INTENT_STATUS.get(status, payment.status)
        action = ((intent.get("next_action") or {}).get("redirect_to_url") or {}).get("url")
        payment.next_action_url = action if status == "requires_action" else None
        error = intent.get("last_payment_error") or {}
        if error:
            payment.last_error_code = (error.get("decline_code") or error.get("code") or "")[:60] or None
        if status == "canceled" and keep_method_on_cancel:
            payment.status = PaymentStatus.AWAITING
    return payment


def _payment_of_intent(intent: dict) -> Payment | None:
    """By the intent's id, or, when its webhook outran the API answer, by the key's dossier in metadata."""
    payment = repository.payment_by_intent(intent["id"])
    if payment is None:
        key = (intent.get("metadata") or {}).get("payment_key")
        payment = repository.payment_by_key(key) if key else None
        if payment is not None and payment.gateway_intent_id not in (None, intent["id"]):
            return None  # another intent for the same payment key: not ours to settle
    return payment


def _settle(payment: Payment, intent: dict) -> None:
    if payment.status in SETTLED:
        return
    if int(intent.get("amount_received") or intent.get("amount") or 0) != int(payment.amount_vnd):
        log.error("intent %s received %s, payment %s expects %s", intent["id"], intent.get("amount_received"),
                  payment.id, payment.amount_vnd)
    payment.method = Method.CARD
    _mark_paid(payment, ledger.Account.GATEWAY_CLEARING, reference=intent["id"])
    payment.next_action_url = None
    charge_id, txn_id = charge_reference(intent.get("latest_charge"))
    enqueue("payments.gateway_fee", {"payment_id": payment.id, "charge": charge_id, "balance_transaction": txn_id},
            dedupe_key=f"gateway_fee:{intent['id']}")


def charge_reference(latest_charge: str | dict | None) -> tuple[str | None, str | None]:
    """A PaymentIntent's ``latest_charge`` as (charge id, its balance transaction's id if given): Stripe gives
    the id unless expanded, some peers (localstripe) the charge object, whose ``balance_transaction`` may be
    an id or expanded too."""
    if isinstance(latest_charge, dict):
        txn = latest_charge.get("balance_transaction")
        return latest_charge.get("id"), (txn.get("id") if isinstance(txn, dict) else txn) or None
    return latest_charge or None, None


def _mark_paid(payment: Payment, received_in: ledger.Account, *, reference: str) -> None:
    """Paid: the status, the ledger and the receipt, in the caller's transaction (under the row lock)."""
    agent = organisation(payment.organisation_id).code
    payment.status = PaymentStatus.PAID
    payment.paid_at = utcnow()
    payment.last_error_code = None
    repository.book(ledger.payment(reference, payment.components(), received_in=received_in, agent=agent),
                    dossier_id=payment.dossier_id, memo=f"{payment.method.value} payment")
    receipting.issue_for_payment(payment, issuer_code=agent if payment.method is Method.CASH else None)
    outbox.publish(PAID, {"dossier_id": payment.dossier_id, "payment_id": payment.id,
                          "amount_vnd": int(payment.amount_vnd), "method": payment.method.value},
                   dedupe_key=str(payment.id))


@unit_of_work()
def record_gateway_fee(payment_id: int, charge_id: str | dict | None, txn_id: str | None = None) -> None:
    """The gateway's fee for a charge, booked once from its balance transaction: retrieved by its id when the
    charge named it, else listed by the charge (``source``)."""
    if isinstance(charge_id, dict):  # a job enqueued with the expanded charge
        charge_id, txn_id = charge_reference(charge_id)
    if not charge_id:
        return
    if txn_id:
        transactions = [gateway().retrieve_balance_transaction(txn_id)]
    else:
        transactions = list(gateway().list_balance_transactions(source=charge_id))
    for txn in transactions:
        fee = int(txn.get("fee") or 0)
        payment = repository.payment_by_id(payment_id, lock=True)
        if fee and not repository.is_booked("gateway_fee", txn["id"]):
            repository.book(ledger.gateway_fee(txn["id"], fee), dossier_id=payment.dossier_id,
                            memo=f"gateway fee on {charge_id}")
            payment.gateway_fee_vnd = (payment.gateway_fee_vnd or 0) + fee


@unit_of_work()
def record_payout(payout: dict) -> bool:
    """A gateway payout to the centre's bank, booked once (``payout.paid``)."""
    if payout.get("status") != "paid" or int(payout.get("amount") or 0) <= 0:
        return False
    return repository.book(ledger.payout(payout["id"], int(payout["amount"])), memo="gateway payout")


# ---------------------------------------------------------------- cash

@unit_of_work()
def record_cash(principal: Principal, number: str) -> Payment:
    """The agent took the cash: paid now, and the agent owes it to the centre until handed over."""
    if principal.role is not Role.AGENT:
        raise Forbidden(Text("Chỉ đại lý thu tiền mặt.", "Only agents collect cash."))
    payment = start(principal, number, Method.CASH)  # a nested unit: committed with this one
    if payment.status in SETTLED:
        if payment.method is not Method.CASH:
            raise Conflict(Text("Hồ sơ đã được thanh toán bằng hình thức khác.",
                                "The dossier is already paid another way."))
        return payment
    payment = repository.payment_by_id(payment.id, lock=True)
    if payment.status not in SETTLED:
        payment.collected_by = principal.label
        _mark_paid(payment, ledger.Account.CASH_AT_AGENTS, reference=f"cash-{payment.id}")
    return payment


def mark_transfer_paid(payment: Payment, bank_reference: str) -> None:
    """A VietQR transfer found on the bank statement (the caller holds the row lock and commits)."""
    payment.method = Method.VIETQR
    payment.bank_reference = bank_reference
    _mark_paid(payment, ledger.Account.BANK, reference=f"bank-{bank_reference}")


# ---------------------------------------------------------------- fee rules

@unit_of_work()
def set_fee_rule(principal: Principal, organisation_code: str, data: dict) -> dict:
    org = db.session.scalars(select(Organisation).where(Organisation.code == organisation_code)).one_or_none()
    if org is None:
        raise NotFound(Text(f"Không tìm thấy tổ chức {organisation_code}.",
                            f"Organisation {organisation_code} not found."))
    try:
        candidate = fees.ServiceFeeRule(data["effective_from"], data.get("flat_vnd", 0), data.get("percent", 0),
                                        data.get("minimum_vnd", 0), data.get("maximum_vnd"))
    except ValueError as exc:
        raise invalid("maximum_vnd", "The maximum is below the minimum.") from exc
    cap = settings().service_fee_cap_vnd
    highest = candidate.highest()
    if cap and (highest is None or highest > cap):
        raise InvalidInput(
            Text(f"Phí dịch vụ của đại lý không được vượt {cap:,} đồng mỗi hồ sơ trên phí nhà nước"
                 .replace(",", ".") + (": biểu phí theo tỷ lệ cần có mức tối đa." if highest is None else "."),
                 f"An agent's service fee may add at most {cap:,} VND per dossier on top of the state fee"
                 + (": a percentage rule needs a maximum." if highest is None else ".")),
            errors=[{"field": "maximum_vnd", "location": "json",
                     "message_vi": f"Tối đa {cap:,} đồng.".replace(",", "."), "message_en": f"At most {cap:,} VND."}])
    existing = db.session.scalars(select(ServiceFeeRule).where(
        ServiceFeeRule.organisation_id == org.id, ServiceFeeRule.effective_from == data["effective_from"])).first()
    if existing is not None:
        raise Conflict(Text("Đã có biểu phí có hiệu lực từ ngày này; hãy tạo phiên bản với ngày khác.",
                            "A fee rule already takes effect on that date; add a version with another date."))
    rule = ServiceFeeRule(organisation_id=org.id, created_by=principal.label, **data)
    db.session.add(rule)
    db.session.flush()
    return fee_rules(org.code)


@unit_of_work()
def ensure_fee_rule(organisation_code: str, data: dict, created_by: str) -> None:
    """Add the rule unless one already takes effect that day (demo data: safe to repeat)."""
    org = db.session.scalars(select(Organisation).where(Organisation.code == organisation_code)).one()
    exists = db.session.scalars(select(ServiceFeeRule).where(
        ServiceFeeRule.organisation_id == org.id, ServiceFeeRule.effective_from == data["effective_from"])).first()
    if exists is None:
        db.session.add(ServiceFeeRule(organisation_id=org.id, created_by=created_by, **data))


EXAMPLE_STATE_FEES = (0, 50_000, 200_000, 1_000_000)  # what the fee rules page shows the citizen pays on top


def fee_rules(organisation_code: str) -> dict:
    org = db.session.scalars(select(Organisation).where(Organisation.code == organisation_code)).one_or_none()
    if org is None:
        raise NotFound(Text(f"Không tìm thấy tổ chức {organisation_code}.",
                            f"Organisation {organisation_code} not found."))
    rules = repository.fee_rules(org.id)
    cap = settings().service_fee_cap_vnd or None
    today = to_local(utcnow()).date()
    current = fees.rule_on(_rules(org.id), today)
    return {"organisation": org.code, "rules": rules, "cap_vnd": cap,
            "on_top_today": fees.on_top(current, EXAMPLE_STATE_FEES, cap)}


# ---------------------------------------------------------------- what the API shows

def view(dossier: Dossier, payment: Payment) -> dict:
    """The payment as the agent and staff see it (plain values for the schema)."""
    config = current_app.config
    qr = None
    if payment.method is Method.VIETQR and payment.status in OPEN:
        payload = vietqr_payload(payment)
        qr = {"payload": payload, "svg": vietqr.qr_svg(payload), "reference": payment.transfer_reference,
              "bank_bin": config["VIETQR_BANK_BIN"], "account_number": config["VIETQR_ACCOUNT_NUMBER"],
              "account_name": config["VIETQR_ACCOUNT_NAME"]}
    links = [{"series": r.series, "number": r.number, "kind": r.kind, "document": r.document, "issued_at": r.issued_at,
              "url": receipting.verify_url(r.verify_token), "pdf_url": receipting.verify_url(r.verify_token) + ".pdf"}
             for r in receipting.of_dossier(dossier.id)]
    from payments import provisional  # builds on this module

    return {"dossier_number": dossier.number, "method": payment.method, "status": payment.status,
            "provisional": provisional.view(payment),
            **payment.components(), "amount_vnd": payment.amount_vnd, "refunded_vnd": payment.refunded_vnd,
            "currency": "vnd", "next_action_url": payment.next_action_url, "last_error_code": payment.last_error_code,
            "paid_at": payment.paid_at, "vietqr": qr, "receipts": links, "refunds": list(payment.refunds)}


def balances() -> list[dict]:
    return [{"account": account, "party": party, "balance_vnd": total}
            for account, party, total in repository.balances()]


def book_ledger(transaction: ledger.Transaction, *, dossier_id: int | None = None, memo: str | None = None) -> int:
    """Book a transaction another package builds with ``payments.ledger`` (a cash handover) once, in the caller's
    unit of work; the id of its ledger transaction (the one already booked, when it was)."""
    repository.book(transaction, dossier_id=dossier_id, memo=memo)
    return _booked_id(transaction)


def book_finance(transaction: ledger.Transaction, *, dossier_id: int | None = None, memo: str | None = None) -> int:
    """Book a transaction finance makes by hand (an adjustment, a treasury transfer); its ledger id.

    The caller's unit of work commits it; a (kind, reference) already booked is refused.
    """
    if not repository.book(transaction, dossier_id=dossier_id, memo=memo):
        raise Conflict(Text(f"Bút toán {transaction.reference} đã được ghi.",
                            f"The booking {transaction.reference} is already in the ledger."))
    return _booked_id(transaction)


def _booked_id(transaction: ledger.Transaction) -> int:
    return db.session.scalars(select(LedgerTransaction.id).where(
        LedgerTransaction.kind == transaction.kind, LedgerTransaction.reference == transaction.reference)).one()
