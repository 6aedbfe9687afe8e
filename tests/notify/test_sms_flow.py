"""A dossier's events → one SMS each, sent once through the dev outbox, delivered, rate-limited, purged."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import select, update

from core import outbox
from core.extensions import db
from core.timeutil import utcnow
from notify import service
from notify.models import SmsMessage, SmsStatus
from notify.templates import SEGMENT_SEPTETS, septets
from tests import factories
from tests.notify.conftest import pending, receipts, run_outbox, sms_rows

STATUS_SMS_TOPIC = "notify@dossiers.status_changed"  # notify's subscription to the dossiers' moves
LATER = timedelta(seconds=30)  # past the dev outbox's simulated receipt


def dossier_id(app, number: str) -> int:
    with app.app_context():
        from dossiers.models import Dossier
        return db.session.scalar(select(Dossier.id).where(Dossier.number == number))


def test_a_registered_dossier_gets_one_received_sms_with_a_working_tracking_link(app, client, agent_key):
    dossier = factories.create_dossier(client, agent_key)
    run_outbox(app)
    [sms] = sms_rows(app)
    assert (sms.event, sms.status, sms.phone) == ("received", SmsStatus.SENDING, "+84912345678")
    assert sms.body.startswith(f"Ho so {dossier['number']} da duoc tiep nhan. Theo doi: http")
    assert sms.body.isascii() and sms.septets == septets(sms.body) <= SEGMENT_SEPTETS
    assert sms.dedupe_key == f"{dossier_id(app, dossier['number'])}:received"
    link = sms.body.rsplit(" ", 1)[1]
    page = client.get(urlsplit(link).path)
    assert page.status_code == 200
    assert dossier["number"] in page.get_data(as_text=True)
    # The next night's purge is scheduled with it.
    assert [m.topic for m in pending(app, service.PURGE_TOPIC)] == [service.PURGE_TOPIC]


def test_the_same_event_twice_sends_one_sms(app, client, agent_key):
    dossier = factories.create_dossier(client, agent_key)
    run_outbox(app)
    ident = dossier_id(app, dossier["number"])
    with app.app_context():
        outbox.publish("dossiers.status_changed", {"dossier_id": ident, "from_status": None, "to_status": "routed",
                                                   "delivery_method": "collect", "at": utcnow().isoformat(),
                                                   "actor_role": "agent"})
        db.session.commit()
        assert service.dossier_event(ident, "received") == sms_rows(app)[0].id
    run_outbox(app)
    assert [(s.event, s.attempts) for s in sms_rows(app)] == [("received", 1)]
    with app.app_context():  # the send, run again, does nothing either
        assert service.send(sms_rows(app)[0].id) == "skipped"


def test_status_goes_created_sending_delivered_through_the_dev_provider(app, client, agent_key):
    dossier = factories.create_dossier(client, agent_key)
    with app.app_context():
        outbox.run_due(topic=STATUS_SMS_TOPIC)
    [sms] = sms_rows(app)
    assert sms.status is SmsStatus.CREATED and sms.provider_message_id is None
    run_outbox(app)
    [sms] = sms_rows(app)
    assert sms.status is SmsStatus.SENDING and sms.provider == "dev"
    assert sms.provider_message_id == f"dev-{sms.reference}" and sms.sent_at is not None
    run_outbox(app, now=utcnow() + LATER)
    [sms] = sms_rows(app)
    assert sms.status is SmsStatus.DELIVERED and sms.delivered_at is not None
    assert receipts(app) == [(sms.provider_message_id, "delivered", "applied")]
    assert dossier["number"] in sms.body


def test_final_statuses_never_go_back(app, client, agent_key):
    factories.create_dossier(client, agent_key)
    run_outbox(app)
    run_outbox(app, now=utcnow() + LATER)
    [sms] = sms_rows(app)
    pid = sms.provider_message_id
    with app.app_context():
        assert service.record_receipt(pid, "failed", "late") == "ignored"
        assert service.record_receipt(pid, "sending") == "ignored"
        assert service.record_receipt(pid, "delivered") == "duplicate"
        assert service.record_receipt("nobody-knows", "delivered") == "unknown"
    [sms] = sms_rows(app)
    assert sms.status is SmsStatus.DELIVERED and sms.failed_at is None and sms.last_error is None
    # A failed message stays failed whatever comes later.
    with app.app_context():
        db.session.execute(update(SmsMessage).values(status=SmsStatus.SENDING, delivered_at=None))
        db.session.commit()
        assert service.record_receipt(pid, "failed", "UNDELIV") == "applied"
        assert service.record_receipt(pid, "delivered") == "ignored"
        assert service.record_receipt(pid, "sending") == "ignored"
    [sms] = sms_rows(app)
    assert (sms.status, sms.last_error, sms.delivered_at) == (SmsStatus.FAILED, "UNDELIV", None)
    assert [r[2] for r in receipts(app)] == ["applied", "ignored", "ignored", "duplicate", "unknown", "applied",
                                             "ignored", "ignored"]


def test_a_receipt_that_comes_before_the_provider_id_is_applied_when_it_is_stored(app, client, agent_key):
    factories.create_dossier(client, agent_key)
    with app.app_context():
        outbox.run_due(topic=STATUS_SMS_TOPIC)
        [sms] = sms_rows(app)
        assert service.record_receipt(f"dev-{sms.reference}", "delivered") == "unknown"
        assert service.send(sms.id) == "sent"
    [sms] = sms_rows(app)
    assert sms.status is SmsStatus.DELIVERED
    assert receipts(app) == [(sms.provider_message_id, "delivered", "applied")]


def test_the_rate_limit_defers_the_sixth_sms_to_a_phone_within_an_hour(app, client, agent_key):
    assert app.config["SMS_RATE_LIMIT_PER_HOUR"] == 5
    for _ in range(6):
        factories.create_dossier(client, agent_key)  # the same citizen's phone each time
    run_outbox(app)
    rows = sms_rows(app)
    assert [s.status for s in rows] == [SmsStatus.SENDING] * 5 + [SmsStatus.CREATED]
    sixth = rows[5]
    [deferred] = [m for m in pending(app, service.SEND_TOPIC) if m.payload == {"sms_id": sixth.id}]
    first_sent = min(s.sent_at for s in rows[:5])
    assert timedelta(minutes=59) < deferred.due_at.replace(tzinfo=None) - first_sent.replace(tzinfo=None) \
        <= timedelta(hours=1, seconds=2)
    # Nothing changes until then (the dev receipts arrive meanwhile)...
    run_outbox(app, now=utcnow() + LATER)
    assert sms_rows(app)[5].status is SmsStatus.CREATED
    # ...an hour later (the first five were sent more than an hour ago) it goes.
    with app.app_context():
        db.session.execute(update(SmsMessage).where(SmsMessage.id != sixth.id)
                           .values(sent_at=utcnow() - timedelta(minutes=61)))
        db.session.commit()
    run_outbox(app, now=utcnow() + timedelta(hours=1, minutes=1))
    sixth = sms_rows(app)[5]
    assert sixth.status in (SmsStatus.SENDING, SmsStatus.DELIVERED) and sixth.attempts == 1


def test_purge_nulls_phone_and_body_after_the_retention_period(app, client, agent_key):
    factories.create_dossier(client, agent_key)
    factories.create_dossier(client, agent_key)
    run_outbox(app)
    old, recent = sms_rows(app)
    retention = app.config["SMS_RETENTION_DAYS"]
    with app.app_context():
        db.session.execute(update(SmsMessage).where(SmsMessage.id == old.id)
                           .values(created_at=utcnow() - timedelta(days=retention, hours=1),
                                   status=SmsStatus.DELIVERED))
        db.session.commit()
        assert service.purge() == 1
        assert service.purge() == 0
    old, recent = sms_rows(app)
    assert (old.phone, old.body) == (None, None) and old.purged_at is not None
    assert old.septets > 0 and old.status is SmsStatus.DELIVERED  # the record stays, without personal data
    assert recent.phone == "+84912345678" and recent.body and recent.purged_at is None
    # The CLI does the same.
    with app.app_context():
        db.session.execute(update(SmsMessage).values(created_at=utcnow() - timedelta(days=retention + 1),
                                                     status=SmsStatus.FAILED))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["notify", "purge"])
    assert result.exit_code == 0 and "purged 1 message(s)" in result.output
    assert all(s.phone is None and s.body is None for s in sms_rows(app))
    # The nightly purge reschedules itself while unpurged messages remain.
    factories.create_dossier(client, agent_key)
    run_outbox(app)
    with app.app_context():
        service.purge_and_reschedule()
    due = [m.due_at for m in pending(app, service.PURGE_TOPIC)]
    assert due and max(due).replace(tzinfo=None) > (utcnow() + timedelta(days=retention - 1)).replace(tzinfo=None)


def test_purge_keeps_unsent_messages_until_they_are_final(app, client, agent_key):
    """A message still created or sending needs its phone and body: the purge leaves it for a later night."""
    for _ in range(3):
        factories.create_dossier(client, agent_key)
    run_outbox(app)
    created, sending, delivered = sms_rows(app)
    retention = app.config["SMS_RETENTION_DAYS"]
    with app.app_context():
        for sms, status in ((created, SmsStatus.CREATED), (sending, SmsStatus.SENDING),
                            (delivered, SmsStatus.DELIVERED)):
            db.session.execute(update(SmsMessage).where(SmsMessage.id == sms.id).values(
                created_at=utcnow() - timedelta(days=retention + 1), status=status))
        db.session.commit()
        assert service.purge() == 1
    created, sending, delivered = sms_rows(app)
    assert created.phone == "+84912345678" and created.body and created.purged_at is None
    assert sending.phone == "+84912345678" and sending.body and sending.purged_at is None
    assert delivered.phone is None and delivered.body is None
    # Once final, the next purge erases it.
    with app.app_context():
        db.session.execute(update(SmsMessage).where(SmsMessage.id == sending.id).values(status=SmsStatus.FAILED))
        db.session.commit()
        assert service.purge() == 1
    assert sms_rows(app)[1].phone is None
