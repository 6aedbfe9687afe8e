"""SMS use cases: one message per dossier event, sent once, its delivery followed, purged in time.

- ``dossier_event`` (the subscriptions in ``notify/jobs.py``: ``dossiers.status_changed`` through
  ``sms_event_for``, ``payments.paid``, ``courier.attempt_failed``, ``courier.returned_to_branch``,
  ``dossiers.apologised``: the apology for lateness with the new date, once per apology):
  checks the message does not exist yet
  (``dedupe_key`` = ``"<dossier>:<event>[:<n>]"``), renders the template with a new tracking
  link, stores it ``created`` and enqueues ``notify.send_sms`` in the same transaction.
- ``send`` (outbox ``notify.send_sms``): per-phone rate limit (over it, the message is put
  back in the outbox for when a slot frees up: deferred, never dropped), ``sending``, the
  provider's call outside any transaction, then the provider's id. A provider error is
  retried through the outbox (the handler raises, the outbox backs off); a permanent error,
  or the last attempt, marks the message ``failed``.
- ``record_receipt``: delivery receipts. ``delivered`` and ``failed`` are final: a later
  receipt that would move them is ignored, and recorded (``sms_receipts``) like every other.
- ``purge``: phone numbers and bodies of final messages (delivered, failed) older than
  ``SMS_RETENTION_DAYS`` are nulled; a message still created or sending keeps them until it is final.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import uuid
from datetime import datetime, time, timedelta, timezone

from flask import current_app
from sqlalchemy.exc import IntegrityError

from core.extensions import db
from core.messages import Text
from core.outbox import enqueue
from core.timeutil import LOCAL_TZ, as_utc, to_local, utcnow
from core.uow import commit_point, unit_of_work
from courier import service as courier
from dossiers import service as dossiers
from dossiers.models import DeliveryMethod, Dossier, Status
from notify import providers, repository, templates
from notify.errors import BadReceipt, BadReceiptSignature
from notify.models import FINAL, SmsMessage, SmsReceipt, SmsStatus
from payments import service as payments
from tracking import service as tracking

log = logging.getLogger(__name__)

EVENT_TOPIC = "notify.dossier_event"  # rows written before the subscriptions (still run, never written)
SEND_TOPIC = "notify.send_sms"
PURGE_TOPIC = "notify.purge"
SIGNATURE_HEADER = "X-SMS-Signature"
# The events a dossier's SMS is sent for (the payload's "event"; templates may have variants of them).
EVENTS = frozenset({"received", "paid", "result_ready", "out_for_delivery", "delivered", "attempt_failed",
                    "returned_to_branch", "apology", "supplement_requested"})
RATE_WINDOW = timedelta(hours=1)
PURGE_LOCAL_TIME = time(2, 0)  # the nightly purge runs at 02:00 in Hanoi
# A message that would arrive after the dossier went past it is not sent.
SUPERSEDED_BY = {"out_for_delivery": {Status.DELIVERED, Status.CLOSED, Status.COLLECTED},
                 # a new date once the result is ready (or the dossier refused, cancelled) would only mislead
                 "apology": {Status.RESULT_READY, Status.OUT_FOR_DELIVERY, Status.DELIVERED, Status.COLLECTED,
                             Status.CLOSED, Status.REJECTED, Status.CANCELLED}}


class SmsRetry(RuntimeError):
    """The provider failed in a way worth trying again: the outbox retries the send with backoff."""


# ---------------------------------------------------------------- the provider

def provider() -> providers.SmsProvider:
    """The configured provider, one per app and configuration (its HTTP session keeps connections)."""
    app = current_app._get_current_object()
    config = app.config
    key = tuple(str(config.get(name)) for name in ("SMS_PROVIDER", "SMS_HTTP_URL", "SMS_HTTP_API_KEY", "SMS_SENDER",
                                                   "SMS_HTTP_TIMEOUT_S", "SMS_DEV_RECEIPT_DELAY_S"))
    cached = app.extensions.get("sms_provider")
    if cached is None or cached[0] != key:
        cached = app.extensions["sms_provider"] = (key, providers.build(config))
    return cached[1]


# ---------------------------------------------------------------- a dossier's event → one message

def sms_event_for(change: dict) -> str | None:
    """The SMS a ``dossiers.status_changed`` event makes, if any: registered (``received``), the
    result ready for the first time (from processing; not again after a failed delivery, which has
    its own message), out for delivery, delivered."""
    before, after = change.get("from_status"), change.get("to_status")
    if before is None:
        return "received"
    if after == Status.RESULT_READY.value:
        return "result_ready" if before == Status.PROCESSING.value else None
    if after in (Status.OUT_FOR_DELIVERY.value, Status.DELIVERED.value):
        return after
    if after == Status.SUPPLEMENT_REQUESTED.value:
        return "supplement_requested"
    return None


def _courier_summary(dossier_id: int) -> dict | None:
    return courier.delivery_summary(dossier_id)


def _entries(dossier: Dossier, status: Status) -> int:
    return sum(1 for event in dossier.events if event.to_status == status.value)


def _dedupe_key(dossier: Dossier, event: str, extra: dict) -> str:
    """``"<dossier>:<event>"``, with the attempt for the events that come once per delivery attempt."""
    suffix = None
    if event == "apology":  # one per apology: a second new date is a second message
        suffix = extra.get("apology_id")
    elif event == "supplement_requested":  # one per request: a second request is a second message
        suffix = _entries(dossier, Status.SUPPLEMENT_REQUESTED)
    elif event == "out_for_delivery":
        suffix = extra.get("attempt") or _entries(dossier, Status.OUT_FOR_DELIVERY)
    elif event == "attempt_failed":
        suffix = extra.get("attempt")
        if not suffix:
            summary = _courier_summary(dossier.id) or {}
            failed = sum(1 for a in summary.get("attempts") or () if a.get("outcome") == "failed")
            suffix = failed or _entries(dossier, Status.OUT_FOR_DELIVERY)
    return f"{dossier.id}:{event}" + (f":{suffix}" if suffix else "")


def _when(value) -> datetime | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return as_utc(value)


def _values(dossier: Dossier, event: str, extra: dict, now: datetime) -> tuple[str, dict]:
    """The template to use and its values; issues the tracking link (in the caller's transaction)."""
    template = event
    values: dict = {"number": dossier.number, "link": tracking.issue_link(dossier.id, "sms")}
    if event == "paid":
        summary = payments.public_summary(dossier.id)
        values["amount"] = summary["amount_vnd"] if summary else None
    elif event == "result_ready":
        if dossier.delivery_method is DeliveryMethod.COURIER:
            template = "result_ready_courier"
        else:
            values["point"] = dossiers.receiving_point(dossier).name
    elif event == "returned_to_branch":
        values["point"] = extra.get("point") or dossiers.receiving_point(dossier).name
    elif event == "apology":
        new_deadline = _when(extra.get("new_deadline")) or as_utc(dossier.deadline_at)
        values["date"] = to_local(new_deadline).date()
    elif event in ("out_for_delivery", "attempt_failed"):
        slot = _when(extra.get("slot"))
        if slot is None:
            summary = _courier_summary(dossier.id) or {}
            slot = _when(summary.get("estimated_delivery"))
        values["slot"] = slot if slot is not None and slot > now else None
    return template, values


def dossier_event(dossier_id: int, event: str, **extra) -> int | None:
    """Create the SMS for a dossier's event, once; returns its id (None: nothing to send)."""
    if event not in EVENTS:
        log.warning("no SMS for event %r (dossier %s)", event, dossier_id)
        return None
    keys: list[str] = []
    try:
        with unit_of_work():
            return _create(dossier_id, event, extra, keys)
    except IntegrityError:  # a concurrent run created it first (or raced on the purge's key: try again)
        existing = repository.by_dedupe_key(keys[0]) if keys else None
        if existing is None:
            raise
        return existing.id


def _later_apology(dossier: Dossier, event: str, extra: dict) -> bool:
    """An apology's new date that another apology has since replaced: only the latest date is sent."""
    promised = _when(extra.get("new_deadline")) if event == "apology" else None
    return promised is not None and promised != as_utc(dossier.deadline_at)


def _create(dossier_id: int, event: str, extra: dict, keys: list[str]) -> int | None:
    dossier = dossiers.by_id(dossier_id)
    if dossier is None:
        return None
    key = _dedupe_key(dossier, event, extra)
    keys.append(key)
    existing = repository.by_dedupe_key(key)
    if existing is not None:  # already created: nothing to do
        return existing.id
    if dossier.status in SUPERSEDED_BY.get(event, ()) or _later_apology(dossier, event, extra):
        return None
    now = utcnow()
    template, values = _values(dossier, event, extra, now)
    body = templates.render(template, **values)
    sms = SmsMessage(dossier_id=dossier.id, event=event, dedupe_key=key, reference=f"sms_{uuid.uuid4().hex}",
                     phone=dossier.citizen_phone, body=body, septets=templates.septets(body),
                     status=SmsStatus.CREATED, attempts=0, created_at=now)
    db.session.add(sms)
    db.session.flush()
    enqueue(SEND_TOPIC, {"sms_id": sms.id}, dedupe_key=f"sms:{sms.id}")
    schedule_purge(now)
    db.session.flush()
    return sms.id


# ---------------------------------------------------------------- sending

def _rate_limited_until(sms: SmsMessage, now: datetime) -> datetime | None:
    """When the phone gets a free slot, if it has had ``SMS_RATE_LIMIT_PER_HOUR`` messages in the last hour."""
    limit = int(current_app.config["SMS_RATE_LIMIT_PER_HOUR"])
    if limit <= 0:
        return None
    repository.lock_phone(sms.phone)
    times = sorted(as_utc(t) if t else now for t in repository.recent_sends(sms.phone, now - RATE_WINDOW, sms.id))
    if len(times) < limit:
        return None
    frees_at = times[len(times) - limit] + RATE_WINDOW  # by then, one fewer than the limit is in the window
    return max(frees_at, now + timedelta(seconds=1))


def _max_attempts() -> int:
    config = current_app.config
    return max(1, min(int(config["SMS_MAX_ATTEMPTS"]), int(config.get("OUTBOX_MAX_ATTEMPTS", 8))))


def send(sms_id: int) -> str:
    """Hand one message to the provider; returns what happened: sent, deferred, failed or skipped.

    A failure worth retrying is recorded, then raised (``SmsRetry``) for the outbox to back off.
    """
    with unit_of_work():
        outcome, retry = _send(sms_id)
    if retry is not None:
        raise retry
    return outcome


def _send(sms_id: int) -> tuple[str, SmsRetry | None]:
    now = utcnow()
    sms = repository.by_id(sms_id, lock=True)
    if sms is None or sms.status in FINAL or sms.provider_message_id is not None:
        return "skipped", None
    if sms.phone is None or sms.body is None:  # purged before it could be sent
        sms.status, sms.failed_at, sms.last_error = SmsStatus.FAILED, now, "purged before sending"
        return "failed", None
    if sms.status is SmsStatus.CREATED:
        frees_at = _rate_limited_until(sms, now)
        if frees_at is not None:
            enqueue(SEND_TOPIC, {"sms_id": sms.id}, due_at=frees_at)
            log.info("SMS %s deferred by the rate limit until %s", sms.id, frees_at.isoformat())
            return "deferred", None
        sms.status = SmsStatus.SENDING
    # Still 'sending' without a provider id: an earlier try failed or died; the same reference makes it one SMS.
    sender = provider()
    sms.attempts += 1
    sms.provider = sender.name
    phone, body, reference = sms.phone, sms.body, sms.reference
    commit_point("notify.before_sms_send")
    try:
        provider_id = sender.send(phone, body, reference)
    except providers.ProviderError as exc:
        return _send_failed(sms_id, exc)
    # Should PostgreSQL crash before this commit reaches the disk, the message is 'sending' without a
    # provider id again, as if this process had died: the retry sends the same reference, which the
    # provider deduplicates. So this commit need not wait for the disk (the one before the call does).
    repository.commit_without_waiting_for_disk()
    # One UPDATE stores the provider's id under the row's lock (unless a concurrent try stored one)
    # and says whether receipts came before it; only then is the row loaded to apply them.
    stored, early_receipts = repository.record_sent(sms_id, provider_id, utcnow())
    if stored and early_receipts:
        _apply_early_receipts(repository.by_id(sms_id, lock=True))
    return "sent", None


def _send_failed(sms_id: int, exc: providers.ProviderError) -> tuple[str, SmsRetry | None]:
    sms = repository.by_id(sms_id, lock=True)
    if sms is None or sms.status in FINAL or sms.provider_message_id is not None:
        return "skipped", None
    sms.last_error = str(exc)[:2000]
    if not exc.retryable or sms.attempts >= _max_attempts():
        sms.status, sms.failed_at = SmsStatus.FAILED, utcnow()
        log.warning("SMS %s failed after %s attempt(s): %s", sms_id, sms.attempts, exc)
        return "failed", None
    retry = SmsRetry(f"SMS {sms_id}: attempt {sms.attempts} failed: {exc}")
    retry.__cause__ = exc
    return "retry", retry


# ---------------------------------------------------------------- delivery receipts

def _apply(sms: SmsMessage, status: str, error: str | None, now: datetime) -> str:
    """Move ``sms`` by one receipt: applied, duplicate, or ignored (a final status never moves)."""
    if sms.status in FINAL:
        return "duplicate" if sms.status.value == status else "ignored"
    if status == "sending":
        if sms.status is SmsStatus.SENDING:
            return "duplicate"
        sms.status = SmsStatus.SENDING
    elif status == "delivered":
        sms.status, sms.delivered_at = SmsStatus.DELIVERED, now
    else:
        sms.status, sms.failed_at = SmsStatus.FAILED, now
        sms.last_error = (error or "the provider reported a failure")[:2000]
    return "applied"


def _apply_early_receipts(sms: SmsMessage) -> None:
    for receipt in repository.unmatched_receipts(sms.provider_message_id):
        receipt.sms_id = sms.id
        receipt.outcome = _apply(sms, receipt.status, receipt.error, as_utc(receipt.received_at))


@unit_of_work()
def record_receipt(provider_message_id: str, status: str, error: str | None = None) -> str:
    """One delivery receipt, recorded; returns its outcome (applied, duplicate, ignored, unknown)."""
    if status not in ("sending", "delivered", "failed"):
        raise ValueError(f"unknown SMS status {status!r}")
    now = utcnow()
    sms = repository.by_provider_id(provider_message_id, lock=True)
    outcome = "unknown" if sms is None else _apply(sms, status, error, now)
    db.session.add(SmsReceipt(sms_id=sms.id if sms else None, provider_message_id=provider_message_id,
                              status=status, error=error, outcome=outcome, received_at=now))
    if outcome == "ignored":
        log.warning("SMS %s: %r receipt after the final status %r ignored", sms.id, status, sms.status.value)
    return outcome


def signature(raw_body: bytes, secret: str) -> str:
    """``X-SMS-Signature``: ``sha256=`` and the hex HMAC-SHA256 of the raw body keyed with ``SMS_WEBHOOK_SECRET``."""
    return "sha256=" + hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()


def receive_receipt(raw_body: bytes, signature_header: str | None) -> str:
    """A provider's receipt callback: the signature is checked before the body is read."""
    secret = str(current_app.config.get("SMS_WEBHOOK_SECRET") or "")
    given = (signature_header or "").strip()
    if not given.startswith("sha256="):
        given = "sha256=" + given
    if not secret or not hmac.compare_digest(signature(raw_body, secret).encode(), given.lower().encode()):
        raise BadReceiptSignature(Text("Thiếu chữ ký X-SMS-Signature hoặc chữ ký không khớp.",
                                       "The X-SMS-Signature header is missing or does not match the body."))
    try:
        provider_id, status, error = provider().parse_receipt(json.loads(raw_body))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError included; RecursionError: nested too deep
        raise BadReceipt(Text("Nội dung không phải một báo cáo gửi SMS hợp lệ.",
                              f"The body is not a valid delivery receipt: {exc}")) from exc
    return record_receipt(provider_id, status, error)


# ---------------------------------------------------------------- retention

def _next_purge_time(after: datetime) -> datetime:
    local = to_local(after)
    at = datetime.combine(local.date(), PURGE_LOCAL_TIME, tzinfo=LOCAL_TZ)
    if at <= local:
        at += timedelta(days=1)
    return at.astimezone(timezone.utc)


def schedule_purge(after: datetime) -> None:
    """A purge at the next 02:00 (Hanoi) after ``after``; one per night whoever asks (in the caller's transaction)."""
    due = _next_purge_time(after)
    enqueue(PURGE_TOPIC, {}, due_at=due, dedupe_key=f"{PURGE_TOPIC}:{to_local(due).date().isoformat()}")


@unit_of_work()
def purge(older_than: datetime | None = None, now: datetime | None = None) -> int:
    """Null the phone and body of final messages created before ``older_than`` (default: the retention
    period); unsent ones (created, sending) are left for a later night."""
    now = now or utcnow()
    cutoff = older_than or now - timedelta(days=float(current_app.config["SMS_RETENTION_DAYS"]))
    count = repository.purge_before(cutoff, now)
    if count:
        log.info("purged the phone and body of %s SMS message(s) created before %s", count, cutoff.isoformat())
    return count


@unit_of_work()
def purge_and_reschedule(now: datetime | None = None) -> int:
    """The nightly purge; schedules the next one while some message still holds personal data."""
    now = now or utcnow()
    count = purge(now=now)
    oldest = repository.oldest_unpurged()
    if oldest is not None:
        retention = timedelta(days=float(current_app.config["SMS_RETENTION_DAYS"]))
        schedule_purge(max(as_utc(oldest) + retention, now))
    return count


# ---------------------------------------------------------------- the development outbox

_LINK = re.compile(r"https?://\S+/t/[A-Za-z0-9_-]+")


def dev_outbox(limit: int = 200) -> list[dict]:
    """The newest messages first, as ``/dev/sms`` shows them."""
    rows = []
    for sms in repository.newest(limit):
        link = _LINK.search(sms.body or "")
        rows.append({
            "id": sms.id, "dossier_id": sms.dossier_id, "event": sms.event, "status": sms.status.value,
            "phone": sms.phone, "body": sms.body, "septets": sms.septets,
            "characters": len(sms.body) if sms.body is not None else None, "link": link.group(0) if link else None,
            "provider": sms.provider, "provider_message_id": sms.provider_message_id, "attempts": sms.attempts,
            "last_error": sms.last_error,
            **{name: as_utc(value) if value else None
               for name, value in (("created_at", sms.created_at), ("sent_at", sms.sent_at),
                                   ("delivered_at", sms.delivered_at), ("failed_at", sms.failed_at),
                                   ("purged_at", sms.purged_at))},
        })
    return rows
