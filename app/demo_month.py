"""A realistic demo month: dossiers taken at every demo agent point over the days before today, paid,
processed and handed back, all through the platform's own use cases, at the times they happen.

``generate(days=30)`` plans the month from a seeded ``random.Random`` (app/demo_plan.py: the same seed and
day give the same month), then plays the plan in time order with the platform's clock frozen at each
step (``core.timeutil.use_clock(FrozenClock(...))``, as the tests' ``clock`` fixture does), and puts the
system clock back afterwards:

- each dossier is registered by its point's agent user (``dossiers.service.register``, the principal from
  ``core.accounts.principal_for``), at a location near the point, a few far away (outside the radius),
  with its scanned request form attached (``dossiers.service.add_document``; app/demo_documents.py);
- it is paid through ``payments.service``: card through the gateway (the embedded sandbox; a few declined
  first), VietQR confirmed from a bank statement that finance imports the next working morning
  (``payments.bank.import_statement``, a few lines with a wrong amount, one without a reference), or cash
  at the counter; cancelled and rejected paid dossiers, and a few late deliveries, are refunded
  (``payments.refunds``);
- the branch moves it on (``dossiers.service.transition`` as the point's officer, else the supervisor):
  accepted, processing, sometimes a supplement, result ready (early, on time, late, or not yet: overdue),
  then collected at the counter or out for delivery and delivered;
- the citizen rates most results (``tracking.service.give_feedback``), mostly 4–5, a few 1–2 with comments.

Side effects (the outbox): what a past month's jobs would have done is not replayed. The gateway's fee of
each card charge is booked when it happens (``payments.gateway_fee``, run at once under the frozen clock);
the sandbox gateway's webhooks are not sent for the month (the API answers were applied, as the portal
does), and at the end its daily payout pays the card takings out (booked by ``payments.record_payout``).
The citizens' SMS and the courier bookings of results already handed over are marked done when the
month ends, so starting the app sends no SMS and books no courier for month-old events. Only the courier
bookings of results still waiting for their courier stay pending: they run when the app starts, as they
would on that day. While the month plays no outbox runner thread starts (``OUTBOX_THREAD`` held off: the
in-process gateway's requests would start one, working by the frozen clock).

The sandbox gateway dates its own objects (charges, balance transactions, the payout) by the system's
clock, not the platform's: on the gateway's side the month's card payments are of the day it was loaded.

Speed: ~700 dossiers and ~6,000 use cases; on SQLite each commit skips the wait for the disk while the
month is written (``_bulk_load``).

Idempotent: dossiers carry ``agent_reference`` ``demo-month-NNNN``; when one exists nothing is added.
"""

from __future__ import annotations

import heapq
import io
import logging
import random
import time as wallclock
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta

from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import event, func, select, update

from app import demo_documents, demo_plan
from app.demo_plan import Plan
from core import accounts, outbox
from core.errors import DomainError
from core.extensions import db
from core.outbox import OutboxMessage
from core.timeutil import FrozenClock, as_utc, to_local, use_clock, utcnow
from core.uow import unit_of_work
from dossiers import service as dossiers
from dossiers.models import DeliveryMethod, Dossier, DossierEvent, Procedure, Status
from dossiers.schemas import DossierCreateSchema
from payments import bank, refunds
from payments import service as payments
from payments.client import gateway
from payments.errors import PaymentDeclined
from payments.models import Method, Payment, PaymentStatus, Refund
from tracking import service as tracking
from tracking.models import Feedback

log = logging.getLogger(__name__)

MARKER = demo_plan.MARKER
FINANCE_EMAIL = "taichinh@demo.hanoi.vn"
SUPERVISOR_EMAIL = "canbo.giamsat@demo.hanoi.vn"
COURIER_TOPIC = "courier@dossiers.status_changed"
GATEWAY_FEE_TOPIC = "payments.gateway_fee"  # run as the charge happens: the gateway's fee is in the ledger


def generate(days: int = 30, *, seed: int = 2026, volume: float = 1.0, now: datetime | None = None) -> dict:
    """Play the demo month ending ``now`` (default: the system's now); the summary, with ``month_start``."""
    existing = _month_start_of_existing()
    if existing is not None:
        return {**summary(existing), "created": 0}
    started = wallclock.perf_counter()
    now = as_utc(now or utcnow())
    plans = demo_plan.plan_month(days, seed=seed, volume=volume, now=now, procedures=_procedures())
    month_start = to_local(now).date() - timedelta(days=days)
    first_message = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
    previous = use_clock(FrozenClock(now))
    try:
        with _bulk_load(), quiet_side_effects():
            player = _Player(plans, now)
            player.play()
            _payout()
            _settle_outbox(first_message)
    finally:
        use_clock(previous)
        db.session.remove()
    registered = sum(1 for plan in plans if plan.number is not None)
    result = {**summary(month_start), "created": registered, "skipped": player.skipped,
              "seconds": round(wallclock.perf_counter() - started, 1)}
    log.info("demo month: %s", result)
    return result


# ---------------------------------------------------------------- playing the plan

class _Player:
    """Runs every planned action at its time, in time order. Actions planned after ``now`` are left undone:
    the month ends there, with dossiers in every state. A step the dossier's state no longer allows (a
    payment that failed, a cancelled dossier) is counted in ``skipped`` and the plan goes on."""

    def __init__(self, plans: list[Plan], now: datetime):
        self.plans, self.now = plans, now
        self.queue: list[tuple[datetime, int, str, Plan | None]] = []
        self.counter = 0
        self.principals: dict[str, accounts.Principal] = {}
        self.transfers: list[tuple[datetime, Plan, int]] = []  # VietQR transfers made, waiting for the statement
        self.statement_rng = random.Random(len(plans))
        self.skipped: dict[str, int] = {}
        for plan in plans:
            self.push(plan.received_at, "register", plan)
        for day in demo_plan.statement_days(plans, now):
            self.push(day, "statement", None)

    def push(self, at: datetime, kind: str, plan: Plan | None) -> None:
        if at <= self.now:
            self.counter += 1
            heapq.heappush(self.queue, (at, self.counter, kind, plan))

    def principal(self, email: str) -> accounts.Principal:
        found = self.principals.get(email)
        if found is None:
            found = self.principals[email] = accounts.principal_for(accounts.get_user(email))
        return found

    def officer(self, plan: Plan) -> accounts.Principal:
        return self.principal(demo_plan.OFFICERS.get(plan.service_point_code, SUPERVISOR_EMAIL))

    def play(self) -> None:
        clock = FrozenClock(self.now)
        use_clock(clock)
        while self.queue:
            at, _, kind, plan = heapq.heappop(self.queue)
            clock.set(at)
            try:
                getattr(self, f"_{kind}")(plan)
            except (DomainError, ValidationError) as exc:  # a step the dossier's state no longer allows
                self.skipped[kind] = self.skipped.get(kind, 0) + 1
                log.info("demo month: %s of %s skipped: %s", kind, plan.reference if plan else "-",
                         getattr(exc, "title", exc))

    # -- the agent

    def _register(self, plan: Plan) -> None:
        data = DossierCreateSchema().load(plan.body)
        agent = self.principal(plan.agent_email)
        dossier = dossiers.register(agent, data, plan.reference).dossier
        plan.number, plan.service_point_code = dossier.number, dossier.routing["chosen"]["service_point_code"]
        plan.deadline_at = as_utc(dossier.deadline_at)
        procedure = dossier.procedure
        form = demo_documents.request_form(  # made once per procedure (cached)
            procedure.code, procedure.name, tuple(procedure.required_documents or ()))
        dossiers.add_document(agent, plan.number, "application_form", "to-khai.pdf", io.BytesIO(form))
        for at, kind in demo_plan.lifecycle(plan):
            self.push(at, kind, plan)

    def _cancel(self, plan: Plan) -> None:
        dossiers.transition(self.principal(plan.agent_email), plan.number, Status.CANCELLED, plan.cancel_reason)
        self._refund_later(plan)

    def _pay(self, plan: Plan) -> None:
        agent = self.principal(plan.agent_email)
        if plan.method == "cash":
            payments.record_cash(agent, plan.number)
        elif plan.method == "vietqr":
            payments.start(agent, plan.number, Method.VIETQR)
            if plan.transfer_after is not None:
                self.push(utcnow() + plan.transfer_after, "transfer", plan)
        else:
            payments.start(agent, plan.number, Method.CARD)
            for attempt, card in enumerate(plan.cards, start=1):
                try:
                    payments.confirm_card(agent, plan.number, card, f"{plan.reference}-{attempt}")
                    break
                except PaymentDeclined:  # recorded; the citizen tries another card
                    continue
            outbox.run_due(topic=GATEWAY_FEE_TOPIC)

    def _transfer(self, plan: Plan) -> None:
        payment = payments.get(self.principal(plan.agent_email), plan.number)[1]
        if payment.status in payments.OPEN and payment.method is Method.VIETQR:
            self.transfers.append((utcnow(), plan, int(payment.amount_vnd)))

    # -- finance

    def _statement(self, _plan: None) -> None:
        """The centre's bank statement of the days since the last one, imported by finance."""
        lines, self.transfers = self.transfers, []
        if not lines:
            return
        content = demo_plan.statement_csv(lines, self.statement_rng)
        bank.import_statement(self.principal(FINANCE_EMAIL), f"saoke-{to_local(utcnow()):%Y%m%d}.csv", content)

    def _refund(self, plan: Plan) -> None:
        payment = payments.get(self.principal(FINANCE_EMAIL), plan.number)[1]
        if payment.status not in payments.SETTLED:
            return
        amount = None if plan.refund == "full" else int(payment.courier_fee_vnd) or None
        refunds.create(self.principal(FINANCE_EMAIL), plan.number, amount, plan.refund_reason,
                       f"{plan.reference}-refund")

    # -- the branch

    def _move(self, plan: Plan, target: Status, reason: str | None = None) -> Dossier:
        return dossiers.transition(self.officer(plan), plan.number, target, reason)

    def _accept(self, plan: Plan) -> None:
        self._move(plan, Status.ACCEPTED)

    def _process(self, plan: Plan) -> None:
        self._move(plan, Status.PROCESSING)

    def _supplement(self, plan: Plan) -> None:
        self._move(plan, Status.SUPPLEMENT_REQUESTED, plan.supplement_reason)

    def _resume(self, plan: Plan) -> None:
        self._move(plan, Status.PROCESSING, "Công dân đã bổ sung hồ sơ / The citizen supplied the documents")

    def _reject(self, plan: Plan) -> None:
        self._move(plan, Status.REJECTED, plan.reject_reason)
        self._refund_later(plan)

    def _result(self, plan: Plan) -> None:
        self._move(plan, Status.RESULT_READY)
        for at, kind in demo_plan.handover(plan, utcnow()):
            self.push(at, kind, plan)

    def _out(self, plan: Plan) -> None:
        self._move(plan, Status.OUT_FOR_DELIVERY, "Bưu tá nhận kết quả tại điểm / The courier took the result")

    def _deliver(self, plan: Plan) -> None:
        self._move(plan, Status.DELIVERED, "Đã giao tận tay công dân / Handed to the citizen")
        self._after_handover(plan)

    def _collect(self, plan: Plan) -> None:
        self._move(plan, Status.COLLECTED, "Công dân nhận kết quả tại quầy / Collected at the counter")
        self._after_handover(plan)

    def _after_handover(self, plan: Plan) -> None:
        if plan.rating is not None:
            self.push(demo_plan.waking(utcnow() + plan.rating_after), "rate", plan)
        if plan.refund == "partial":
            self._refund_later(plan)

    def _refund_later(self, plan: Plan) -> None:
        """Finance refunds on a later working day (after the morning's bank statement)."""
        self.push(demo_plan.next_work_time(utcnow(), demo_plan.WORK_MINUTES + plan.rng_minutes(30, 300)),
                  "refund", plan)

    # -- the citizen

    def _rate(self, plan: Plan) -> None:
        dossier_id = dossiers.get(self.officer(plan), plan.number).id
        tracking.give_feedback(dossier_id, plan.rating, plan.comment)


def _payout() -> None:
    """The embedded sandbox gateway pays the card takings out to the centre's bank (its daily payout, run
    now), booked in the ledger by the use case the ``payout.paid`` webhook job calls. With a real gateway
    (``PAYMENT_GATEWAY_URL``) payouts are its own business: nothing is asked.

    The sandbox dates its objects by the system's clock, not the platform's: the payout is of its day."""
    if current_app.config.get("PAYMENT_GATEWAY_URL"):
        return
    answer = gateway().request("POST", "/_sandbox/payouts/run", {},
                               idempotency_key=f"{MARKER}payout-{wallclock.time():.0f}")
    if answer.get("payout"):
        payments.record_payout(answer["payout"])


def _settle_outbox(first_message: int) -> None:
    """What a past month's jobs would have done is done: its SMS and courier bookings are marked done
    (nothing is sent when the app starts), except the bookings of results still waiting for a courier."""
    waiting = select(Dossier.id).where(Dossier.agent_reference.like(f"{MARKER}%"),
                                       Dossier.status == Status.RESULT_READY,
                                       Dossier.delivery_method == DeliveryMethod.COURIER)
    keep = {str(i) for i in db.session.scalars(waiting)}
    rows = db.session.execute(select(OutboxMessage.id, OutboxMessage.topic, OutboxMessage.payload).where(
        OutboxMessage.id > first_message, OutboxMessage.status == "pending")).all()
    done = [row.id for row in rows
            if not (row.topic == COURIER_TOPIC and str((row.payload or {}).get("dossier_id")) in keep)]
    with unit_of_work():
        for start in range(0, len(done), 500):
            db.session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(done[start:start + 500]))
                               .values(status="done", finished_at=OutboxMessage.due_at)
                               .execution_options(synchronize_session=False))


# ---------------------------------------------------------------- what the month holds

def _procedures() -> list[demo_plan.Procedure]:
    active = select(Procedure).where(Procedure.is_active.is_(True)).order_by(Procedure.code)
    return [demo_plan.Procedure(p.code, p.level.value, int(p.processing_days)) for p in db.session.scalars(active)]


def _month_start_of_existing() -> date | None:
    first = db.session.scalar(select(func.min(Dossier.received_at)).where(Dossier.agent_reference.like(f"{MARKER}%")))
    return None if first is None else to_local(as_utc(first)).date()


def summary(month_start: date) -> dict:
    """The demo month's figures, from the rows (the same after a second load)."""
    demo = Dossier.agent_reference.like(f"{MARKER}%")
    now = utcnow()
    count = lambda *where: db.session.scalar(select(func.count()).select_from(Dossier).where(demo, *where))  # noqa: E731
    days = {to_local(as_utc(at)).date() for at in db.session.scalars(select(Dossier.received_at).where(demo))}
    methods = dict(db.session.execute(
        select(Payment.method, func.count()).join(Dossier, Dossier.id == Payment.dossier_id)
        .where(demo, Payment.status.in_(payments.SETTLED)).group_by(Payment.method)).tuples().all())
    ratings = dict(db.session.execute(
        select(Feedback.rating, func.count()).join(Dossier, Dossier.id == Feedback.dossier_id).where(demo)
        .group_by(Feedback.rating)).tuples().all())
    refunded = db.session.scalar(select(func.count()).select_from(Refund).join(Payment).join(
        Dossier, Dossier.id == Payment.dossier_id).where(demo, Refund.status == "succeeded"))
    open_statuses = [s for s in Status if s not in demo_plan.RESULT_GIVEN]
    answered = db.session.execute(
        select(Dossier.deadline_at, func.min(DossierEvent.at))
        .join(DossierEvent, DossierEvent.dossier_id == Dossier.id)
        .where(demo, DossierEvent.to_status == Status.RESULT_READY.value)
        .group_by(Dossier.id, Dossier.deadline_at)).all()
    late = sum(1 for deadline, ready in answered if as_utc(ready) > as_utc(deadline))
    return {
        "month_start": month_start,
        "dossiers": count(),
        "days": len(days),
        "by_status": {s.value: n for s, n in db.session.execute(
            select(Dossier.status, func.count()).where(demo).group_by(Dossier.status)).tuples().all()},
        "paid_by_method": {str(getattr(m, "value", m)): n for m, n in methods.items()},
        "refunds": refunded,
        "results_on_time": len(answered) - late,
        "results_late": late,
        "outside_radius": count(Dossier.outside_service_radius.is_(True)),
        "overdue": count(Dossier.status.in_(open_statuses), Dossier.deadline_at < now),
        "ratings": {int(r): n for r, n in sorted(ratings.items())},
    }


# ---------------------------------------------------------------- running fast enough on SQLite

@contextmanager
def _bulk_load() -> Iterator[None]:
    """On SQLite the month's few thousand transactions run without waiting for the disk at each commit
    (``synchronous=OFF``: the file stays consistent unless the machine itself fails during the load; a
    new ``make run`` rebuilds it). PostgreSQL is left as it is."""
    engine = db.engine
    if engine.dialect.name != "sqlite":
        yield
        return

    def fast(dbapi_connection, _record) -> None:
        dbapi_connection.execute("PRAGMA synchronous=OFF")

    db.session.remove()
    engine.dispose()
    event.listen(engine, "connect", fast)
    try:
        yield
    finally:
        db.session.remove()
        event.remove(engine, "connect", fast)
        engine.dispose()  # later connections are back to the defaults


@contextmanager
def quiet_side_effects() -> Iterator[None]:
    """While the month plays: the sandbox gateway sends no webhooks (the payments are applied from its
    answers, as the portal does), and its in-process requests start no outbox runner thread (the month's
    outbox is settled by ``_settle_outbox``, not run by a thread reading the frozen clock)."""
    config = current_app.config
    quiet = {"SANDBOX_GATEWAY_WEBHOOK_URL": "", "OUTBOX_THREAD": False}
    before = {key: (key in config, config.get(key)) for key in quiet}
    config.update(quiet)
    try:
        yield
    finally:
        for key, (had, value) in before.items():
            if had:
                config[key] = value
            else:
                config.pop(key, None)


__all__ = ["MARKER", "PaymentStatus", "generate", "summary"]
