"""The SMS gateway down during a registration burst, then back: through the relay and a real rq worker
pool, every citizen's SMS is sent once, and no outbox message is lost or run twice."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.outbox import OutboxMessage
from core.timeutil import utcnow
from notify.models import SmsMessage, SmsStatus
from tests import factories
from tests.faults.rq_helpers import Workers, relay
from tests.faults.servers import wait_until
from tests.notify.test_http_provider import API_KEY, StubGateway

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def _sms(app) -> list[tuple[SmsStatus, int, str | None]]:
    with app.app_context():
        try:
            rows = db.session.scalars(select(SmsMessage).order_by(SmsMessage.id))
            return [(s.status, s.attempts, s.provider_message_id) for s in rows]
        finally:
            db.session.remove()


def _open_messages(app) -> int:
    with app.app_context():
        try:
            # Not yet run although due (a later one, such as the nightly SMS purge, is no backlog).
            return db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                     .where(OutboxMessage.status.not_in(("done", "failed")),
                                            OutboxMessage.due_at <= utcnow()))
        finally:
            db.session.remove()


def test_sms_gateway_down_then_back_every_sms_sent_once(app, client, agent_key, private_redis, database_url,
                                                        tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", private_redis.url)
    monkeypatch.setitem(app.config, "JOBS_NAMESPACE", f"s{uuid.uuid4().hex[:6]}-")
    monkeypatch.setitem(app.config, "JOBS_QUEUES", "default,notify")
    with StubGateway() as gateway:
        gateway.faults = [503] * 12  # down: every call of the first attempts fails (3 tries per attempt)
        workers = Workers(app, database_url, tmp_path)
        try:
            workers.start("core.jobs.AppSimpleWorker", pool=2, env={
                "SMS_PROVIDER": "http", "SMS_HTTP_URL": gateway.url, "SMS_HTTP_API_KEY": API_KEY,
                "SMS_SENDER": "TTPVHCC HN", "OUTBOX_RETRY_BASE_S": "0.2", "SMS_MAX_ATTEMPTS": "8"})
            for n in range(4):  # four registrations, four citizens: four SMS to send
                factories.create_dossier(client, agent_key, idempotency_key=f"burst-{n}",
                                         citizen={"phone": f"09123456{n:02d}"})
            # The relay's loop, as `flask jobs relay` runs it, until every SMS is sent and nothing is open.
            wait_until(lambda: relay(app) is not None and len(_sms(app)) == 4
                       and all(provider_id is not None for _, _, provider_id in _sms(app))
                       and _open_messages(app) == 0,
                       timeout=90, interval=0.2, what="every SMS sent through the worker pool")
        except AssertionError as exc:
            logs = "".join(open(p.log_path).read()[-3000:] for p in workers.procs)
            raise AssertionError(f"{exc}: sms {_sms(app)}, open {_open_messages(app)}, "
                                 f"{len(gateway.requests)} gateway calls; workers:\n{logs}") from exc
        finally:
            workers.close()
        assert {status for status, _, _ in _sms(app)} == {SmsStatus.SENDING}  # sent, awaiting the receipt
        attempts = [a for _, a, _ in _sms(app)]
        assert max(attempts) >= 2  # the outage was met and retried through the outbox
        keys = [r["headers"]["Idempotency-Key"] for r in gateway.requests if r["json"]]
        assert len(gateway.messages) == 4  # four SMS accepted, each once (same key on every retry)
        assert len(set(keys)) == 4
