"""Jobs you can trust: the outbox relayed to rq on a real Redis, run by a real rq worker.

The worker runs in this process (``rq.SimpleWorker``, inside the test app's context) so the
test handlers registered here are there; one test runs ``rq worker`` as a subprocess with
``core.jobs.AppWorker``, as ``make worker`` does. Each test keeps to its own key namespace
(``JOBS_NAMESPACE``: queue names and job ids) in the test Redis database and removes it after.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from app import create_app
from core import jobs, outbox
from core.extensions import db
from core.outbox import OutboxMessage
from core.timeutil import as_utc, utcnow
from tests import factories
from tests.factories import auth
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
CLOSED_PORT_URL = "redis://127.0.0.1:6390/0"  # nothing listens there: Redis is "down"

RECORDED: list[tuple[dict, object]] = []
FAILING = {"on": False}


@outbox.handler("test.record")
def _record(payload: dict) -> None:
    if FAILING["on"]:
        raise RuntimeError("the courier API is down")
    RECORDED.append((payload, utcnow()))


@pytest.fixture(autouse=True)
def _fresh_handlers_state():
    RECORDED.clear()
    FAILING["on"] = False
    yield
    RECORDED.clear()
    FAILING["on"] = False


@pytest.fixture
def rq_app(app, redis_url, monkeypatch):
    """The test app relaying to the test Redis, under a namespace of its own."""
    namespace = f"t{uuid.uuid4().hex[:8]}-"
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    monkeypatch.setitem(app.config, "JOBS_NAMESPACE", namespace)
    monkeypatch.setitem(app.config, "JOBS_QUEUES", "default,test")
    yield app
    _forget_namespace(Redis.from_url(redis_url), namespace)


def _forget_namespace(connection: Redis, namespace: str) -> None:
    for key in connection.scan_iter(match=f"*{namespace}*", count=1000):
        connection.delete(key)
    for key in ("rq:queues", "rq:workers"):
        stale = [m for m in connection.smembers(key) if namespace.encode() in m]
        if stale:
            connection.srem(key, *stale)


def work(app, **options) -> None:
    """An rq worker on our queues, in this process and this app (burst unless told otherwise)."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with app.app_context():
            worker = SimpleWorker(jobs.queue_names(), connection=jobs.redis_connection(),
                                  name=f"{app.config['JOBS_NAMESPACE']}worker-{uuid.uuid4().hex[:6]}")
            worker.work(burst=options.pop("burst", True), logging_level="WARNING", **options)
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def add_message(app, topic: str = "test.record", payload: dict | None = None, due_in_s: float = 0.0) -> int:
    with app.app_context():
        message = outbox.enqueue(topic, payload or {"n": 1}, due_at=utcnow() + timedelta(seconds=due_in_s))
        db.session.commit()
        return message.id


def message(app, message_id: int) -> OutboxMessage:
    with app.app_context():
        return db.session.get(OutboxMessage, message_id)


def relay(app) -> int:
    with app.app_context():
        return jobs.relay_due()


def waiting(app, queue: str = "test") -> int:
    with app.app_context():
        return Queue(app.config["JOBS_NAMESPACE"] + queue, connection=jobs.redis_connection()).count


# ---------------------------------------------------------------- the embedded default

@pytest.mark.smoke
def test_embedded_default_runs_due_messages_in_process(app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "")
    early, late = add_message(app, payload={"n": 1}), add_message(app, payload={"n": 2}, due_in_s=3600)
    result = app.test_cli_runner().invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    assert "1 done, 0 failed" in result.output
    assert [p for p, _ in RECORDED] == [{"n": 1}]
    assert message(app, early).status == "done" and message(app, late).status == "pending"


@pytest.mark.smoke
def test_the_embedded_runner_thread_runs_a_message_once_its_transaction_commits(app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "")
    monkeypatch.setitem(app.config, "OUTBOX_POLL_S", 24 * 3600.0)  # no poll in this test: only the commit wakes it
    outbox.start_runner(app)
    try:
        assert any(t.name == "outbox-runner" for t in threading.enumerate())
        message_id = add_message(app)
        wait_for(lambda: message(app, message_id).status == "done", "the runner thread to run the message")
    finally:
        outbox.stop_runner()
    assert len(RECORDED) == 1


@pytest.mark.smoke
def test_a_queued_message_whose_claim_expired_is_due_again(app):
    message_id = add_message(app)
    with app.app_context():
        row = db.session.get(OutboxMessage, message_id)
        row.status, row.claimed_until = "queued", utcnow() + timedelta(seconds=600)
        db.session.commit()
        assert outbox.due_ids() == []  # handed to rq: not the embedded runner's
        row.claimed_until = utcnow() - timedelta(seconds=1)  # the relay died after the push, or Redis lost the job
        db.session.commit()
        assert outbox.due_ids() == [message_id]
        assert outbox.run_due() == 1
    assert message(app, message_id).status == "done"


# ---------------------------------------------------------------- the relay and an rq worker

@pytest.mark.redis
def test_a_message_due_later_runs_at_its_time_not_before(rq_app, clock):
    message_id = add_message(rq_app, payload={"pickup": "slot-1"}, due_in_s=2 * 3600)
    due_at = as_utc(message(rq_app, message_id).due_at)
    clock.set(due_at - timedelta(seconds=1))  # a second before its time: the relay leaves it in the database
    assert relay(rq_app) == 0
    assert message(rq_app, message_id).status == "pending" and waiting(rq_app) == 0
    clock.set(due_at)
    stop = threading.Event()
    relay_thread = threading.Thread(target=jobs.relay_forever, args=(rq_app, stop), daemon=True)
    relay_thread.start()
    try:
        work(rq_app, burst=False, max_jobs=1, max_idle_time=60)  # blocks until the relay hands it over
    finally:
        stop.set()
        outbox.wake()
        relay_thread.join(10)
    assert [p for p, _ in RECORDED] == [{"pickup": "slot-1"}]
    assert RECORDED[0][1] == due_at  # run at its time, by the platform's clock
    row = message(rq_app, message_id)
    assert (row.status, row.attempts, row.claimed_until) == ("done", 1, None)


@pytest.mark.redis
def test_redis_down_loses_nothing_and_the_job_runs_after_it_returns(rq_app, monkeypatch):
    redis_url = rq_app.config["REDIS_URL"]
    message_id = add_message(rq_app, payload={"result": "ready"})
    monkeypatch.setitem(rq_app.config, "REDIS_URL", CLOSED_PORT_URL)
    with rq_app.app_context(), pytest.raises(jobs.RelayUnavailable, match="stay pending"):
        jobs.relay_once()
    cli = rq_app.test_cli_runner().invoke(args=["jobs", "relay", "--once"])
    assert cli.exit_code != 0 and "stay pending" in cli.output
    row = message(rq_app, message_id)
    assert (row.status, row.claimed_until, row.attempts) == ("pending", None, 0)  # claim rolled back

    monkeypatch.setitem(rq_app.config, "REDIS_URL", redis_url)  # Redis is back
    cli = rq_app.test_cli_runner().invoke(args=["jobs", "relay", "--once"])
    assert cli.exit_code == 0 and "1 message(s) handed to rq" in cli.output, cli.output
    row = message(rq_app, message_id)
    assert row.status == "queued" and row.claimed_until is not None
    assert waiting(rq_app) == 1
    work(rq_app)
    assert [p for p, _ in RECORDED] == [{"result": "ready"}]
    assert message(rq_app, message_id).status == "done"


@pytest.mark.redis
def test_the_relay_thread_waits_out_an_outage_then_hands_over(rq_app, monkeypatch, caplog):
    redis_url = rq_app.config["REDIS_URL"]
    monkeypatch.setitem(rq_app.config, "REDIS_URL", CLOSED_PORT_URL)
    monkeypatch.setitem(rq_app.config, "JOBS_RELAY_POLL_S", 0.2)
    caplog.set_level("ERROR", logger=jobs.log.name)
    stop = threading.Event()
    relay_thread = threading.Thread(target=jobs.relay_forever, args=(rq_app, stop), daemon=True)
    relay_thread.start()
    try:
        message_id = add_message(rq_app)  # the commit wakes the relay, which finds Redis down
        wait_for(lambda: any("did not take 1 message(s)" in r.getMessage() for r in caplog.records),
                 "the relay to find Redis down")
        assert message(rq_app, message_id).status == "pending"
        rq_app.config["REDIS_URL"] = redis_url
        wait_for(lambda: message(rq_app, message_id).status != "pending", "the relay to hand the message over")
    finally:
        stop.set()
        outbox.wake()
        relay_thread.join(10)
    assert message(rq_app, message_id).status == "queued"
    work(rq_app)
    assert len(RECORDED) == 1 and message(rq_app, message_id).status == "done"


@pytest.mark.redis
def test_topics_go_to_the_queue_named_by_their_prefix(rq_app):
    with rq_app.app_context():
        ns = rq_app.config["JOBS_NAMESPACE"]
        assert jobs.queue_names() == [f"{ns}default", f"{ns}test"]
        assert jobs.queue_for("test.record") == f"{ns}test"
        assert jobs.queue_for("courier.pickup") == f"{ns}default"  # no such queue here: the first
        assert jobs.job_id(42) == f"{ns}outbox-42" and jobs.message_id_of(f"{ns}outbox-42") == 42
    add_message(rq_app)
    assert relay(rq_app) == 1
    assert waiting(rq_app, "test") == 1 and waiting(rq_app, "default") == 0


@pytest.mark.redis
def test_the_same_message_handed_over_twice_runs_once(rq_app):
    message_id = add_message(rq_app)
    assert relay(rq_app) == 1
    with rq_app.app_context():
        jobs.hand_over([(message_id, "test.record")])  # a second job with the same id (e.g. a re-handed claim)
        jobs.hand_over([(message_id, "test.record")])
        rq_id = jobs.job_id(message_id)
    assert waiting(rq_app) == 3  # the same job id, pushed three times
    work(rq_app)
    assert len(RECORDED) == 1
    row = message(rq_app, message_id)
    assert (row.status, row.attempts) == ("done", 1)
    with rq_app.app_context():
        assert Queue(rq_app.config["JOBS_NAMESPACE"] + "test",
                     connection=jobs.redis_connection()).fetch_job(rq_id).return_value() is None  # the last: a no-op


@pytest.mark.redis
def test_a_job_lost_in_redis_is_handed_over_again_when_its_claim_expires(rq_app):
    message_id = add_message(rq_app)
    assert relay(rq_app) == 1
    with rq_app.app_context():
        jobs.redis_connection().delete(f"rq:queue:{rq_app.config['JOBS_NAMESPACE']}test")  # Redis lost it
        assert relay(rq_app) == 0  # still claimed: not handed over twice
        row = db.session.get(OutboxMessage, message_id)
        row.claimed_until = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert relay(rq_app) == 1
    work(rq_app)
    assert len(RECORDED) == 1 and message(rq_app, message_id).status == "done"


@pytest.mark.redis
def test_a_failing_handler_backs_off_then_fails_and_is_requeued_from_the_cli(rq_app, monkeypatch, clock):
    monkeypatch.setitem(rq_app.config, "OUTBOX_MAX_ATTEMPTS", 2)
    monkeypatch.setitem(rq_app.config, "OUTBOX_RETRY_BASE_S", 3.0)
    cli = rq_app.test_cli_runner()
    FAILING["on"] = True
    message_id = add_message(rq_app)
    first_due = as_utc(message(rq_app, message_id).due_at)

    assert relay(rq_app) == 1
    work(rq_app)
    row = message(rq_app, message_id)
    assert (row.status, row.attempts) == ("pending", 1)
    assert as_utc(row.due_at) >= first_due + timedelta(seconds=3)  # backed off: a later time, in the database
    assert "RuntimeError: the courier API is down" in row.last_error
    assert relay(rq_app) == 0  # not due yet
    clock.advance(seconds=2.9)
    assert relay(rq_app) == 0  # still not

    clock.set(as_utc(row.due_at))
    assert relay(rq_app) == 1
    work(rq_app)
    row = message(rq_app, message_id)
    assert (row.status, row.attempts) == ("failed", 2)

    listed = cli.invoke(args=["jobs", "failed"])
    assert listed.exit_code == 0, listed.output
    assert "outbox: 1 failed message(s)" in listed.output
    line = next(li for li in listed.output.splitlines() if f"#{message_id}\t" in li)
    assert "test.record" in line and "attempts 2" in line and "the courier API is down" in line
    assert "rq: 0 failed job(s)" in listed.output  # the job itself succeeded: the outbox keeps the failure

    FAILING["on"] = False
    requeued = cli.invoke(args=["jobs", "requeue", str(message_id), "999999"])
    assert requeued.exit_code == 0, requeued.output
    assert f"1 message(s) back to pending: #{message_id}" in requeued.output
    assert "not failed, left as they are: #999999" in requeued.output
    row = message(rq_app, message_id)
    assert (row.status, row.attempts) == ("pending", 0)
    assert relay(rq_app) == 1
    work(rq_app)
    assert message(rq_app, message_id).status == "done" and len(RECORDED) == 1
    assert "outbox: 0 failed message(s)" in cli.invoke(args=["jobs", "failed"]).output
    stats = cli.invoke(args=["jobs", "stats"]).output
    assert "done\ttest.record\t1" in stats and "waiting" in stats


@pytest.mark.redis
def test_an_infrastructure_failure_is_retried_by_rq_and_listed_when_it_gives_up(rq_app, monkeypatch):
    def database_down(message_id, now=None):
        raise OperationalError("UPDATE outbox …", {}, Exception("could not connect to server"))

    message_id = add_message(rq_app)
    monkeypatch.setitem(rq_app.config, "JOBS_RETRY_INTERVALS", "1")  # one retry, a second later
    assert relay(rq_app) == 1
    run_one = outbox.run_one
    monkeypatch.setattr(outbox, "run_one", database_down)
    work(rq_app)
    with rq_app.app_context():
        ns, connection = rq_app.config["JOBS_NAMESPACE"], jobs.redis_connection()
        scheduled = ScheduledJobRegistry(f"{ns}test", connection=connection)
        assert scheduled.get_job_ids() == [jobs.job_id(message_id)]  # rq retries it, after its interval
        # rq's scheduler runs on rq's clock (Redis timestamps): wait until it counts the retry as due.
        wait_for(scheduled.get_jobs_to_schedule, "rq to count the retry as due")
    work(rq_app, with_scheduler=True)  # the retry runs: the database is still down, no retries left
    with rq_app.app_context():
        assert FailedJobRegistry(f"{ns}test", connection=connection).get_job_ids() == [jobs.job_id(message_id)]
    assert message(rq_app, message_id).status == "queued"  # still claimed; due again when the claim expires

    cli = rq_app.test_cli_runner()
    listed = cli.invoke(args=["jobs", "failed"]).output
    assert "rq: 1 failed job(s)" in listed and "could not connect to server" in listed
    assert f"{ns}outbox-{message_id}" in listed
    monkeypatch.setattr(outbox, "run_one", run_one)  # the database is back
    requeued = cli.invoke(args=["jobs", "requeue", "--all"])
    assert requeued.exit_code == 0, requeued.output
    assert f"rq: 1 failed job(s) requeued: {ns}outbox-{message_id}" in requeued.output
    work(rq_app)
    assert message(rq_app, message_id).status == "done" and len(RECORDED) == 1


@pytest.mark.redis
@pytest.mark.slow
def test_rq_worker_from_the_command_line_runs_the_job_with_the_app_it_created(rq_app, database_url):
    """``rq worker --worker-class core.jobs.AppWorker``: a new process, the app from the environment, forked horses."""
    message_id = add_message(rq_app, topic="test.nobody-handles-this")
    assert relay(rq_app) == 1
    with rq_app.app_context():
        queues = jobs.queue_names()
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": rq_app.config["REDIS_URL"],
           "JOBS_NAMESPACE": rq_app.config["JOBS_NAMESPACE"], "JOBS_QUEUES": "default,test",
           "OUTBOX_MAX_ATTEMPTS": "1", "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([str(Path(sys.executable).parent / "rq"), "worker", "--burst",
                           "--worker-class", "core.jobs.AppWorker", "--url", rq_app.config["REDIS_URL"],
                           "--name", f"{rq_app.config['JOBS_NAMESPACE']}cli-worker", *queues],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    row = message(rq_app, message_id)
    assert (row.status, row.attempts) == ("failed", 1), proc.stderr
    assert row.last_error == "LookupError: no handler for topic 'test.nobody-handles-this'"


# ---------------------------------------------------------------- rq-dashboard for admins

@pytest.fixture
def dashboard_app(app, redis_url):
    application = create_app({
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "DOCUMENT_STORAGE_DIR": app.config["DOCUMENT_STORAGE_DIR"],
        "TESTING": True, "OUTBOX_THREAD": False,
        "REDIS_URL": redis_url, "RQ_DASHBOARD": True,
        "JOBS_NAMESPACE": f"t{uuid.uuid4().hex[:8]}-", "JOBS_QUEUES": "default,test",
    })
    yield application
    _forget_namespace(Redis.from_url(redis_url), application.config["JOBS_NAMESPACE"])
    with application.app_context():
        db.engine.dispose()


@pytest.mark.redis
def test_rq_dashboard_is_mounted_for_admins_only(app, dashboard_app):
    from core.auth import access_rule_for
    from core.roles import Role

    with dashboard_app.test_request_context():
        rules = {r.rule: access_rule_for(r.endpoint) for r in dashboard_app.url_map.iter_rules()
                 if r.rule.startswith("/admin/rq")}
    assert "/admin/rq/" in rules and len(rules) > 10
    assert {(rule.public, rule.roles) for rule in rules.values()} == {(False, frozenset({Role.ADMIN}))}
    with app.app_context():
        admin = factories.user_key(factories.create_user(role="admin", email="quantri@test.vn"))
        officer = factories.user_key(factories.create_user(role="branch_officer", email="canbo@test.vn"))
    client = dashboard_app.test_client()
    assert client.get("/admin/rq/").status_code == 302  # to the login page
    assert client.get("/admin/rq/", headers=auth(officer)).status_code == 403
    page = client.get("/admin/rq/", headers=auth(admin))
    assert page.status_code == 200 and "RQ" in page.get_data(as_text=True)
    add_message(dashboard_app)
    assert relay(dashboard_app) == 1
    queues = client.get("/admin/rq/0/data/queues.json", headers=auth(admin))
    assert queues.status_code == 200
    names = {q["name"]: q["count"] for q in queues.get_json()["queues"]}
    assert names[dashboard_app.config["JOBS_NAMESPACE"] + "test"] == 1
    assert client.get("/admin/rq/0/data/workers.json", headers=auth(admin)).status_code == 200
    assert client.get(f"/admin/rq/requeue/{dashboard_app.config['JOBS_NAMESPACE']}test",
                      headers=auth(admin)).status_code == 405  # a GET that changes state: refused


@pytest.mark.redis
def test_rq_dashboard_actions_keep_csrf_protection(app, dashboard_app):
    with app.app_context():
        factories.create_user(role="admin", email="quantri@test.vn")
    client = dashboard_app.test_client()
    assert factories.sign_in(client, "quantri@test.vn").status_code in (302, 303)
    page = client.get("/admin/rq/")
    assert page.status_code == 200
    token = client.get_cookie("_csrf_token", path="/admin/rq")
    assert token is not None and token.value
    message_id = add_message(dashboard_app)
    assert relay(dashboard_app) == 1
    with dashboard_app.app_context():
        rq_id = jobs.job_id(message_id)
    assert client.post(f"/admin/rq/job/{rq_id}/delete").status_code == 400  # no token: refused
    deleted = client.post(f"/admin/rq/job/{rq_id}/delete", headers={"X-CSRFToken": token.value})
    assert deleted.status_code == 200 and deleted.get_json()["status"] == "OK"
    assert waiting(dashboard_app) == 0
    with dashboard_app.app_context():
        assert db.session.scalar(select(OutboxMessage.status).where(OutboxMessage.id == message_id)) == "queued"


@pytest.mark.redis
def test_a_lost_job_is_handed_over_again_within_the_handoff_and_a_waiting_one_is_not_duplicated(rq_app, clock,
                                                                                                 monkeypatch):
    from core.config import load_config

    monkeypatch.setitem(rq_app.config, "JOBS_BATCH_SIZE", 1)  # one job a message: batches are tested apart

    handoff = load_config()["JOBS_HANDOFF_S"]
    assert handoff <= 60  # a job Redis lost runs within a minute, by default
    waiting_id, lost_id = add_message(rq_app, payload={"n": 1}), add_message(rq_app, payload={"n": 2})
    assert relay(rq_app) == 2
    with rq_app.app_context():
        queue = Queue(rq_app.config["JOBS_NAMESPACE"] + "test", connection=jobs.redis_connection())
        queue.remove(jobs.job_id(lost_id))  # Redis lost this one; the other waits behind a backlog
    assert relay(rq_app) == 0  # within the handoff both claims hold
    clock.advance(seconds=handoff + 1)  # the claims run out
    assert relay(rq_app) == 1  # only the lost job
    assert waiting(rq_app) == 2  # the waiting job once, the lost one again: no duplicate of the first
    with rq_app.app_context():
        assert as_utc(db.session.get(OutboxMessage, waiting_id).claimed_until) > utcnow()  # its claim extended
    work(rq_app)
    assert sorted(p["n"] for p, _ in RECORDED) == [1, 2]
    assert message(rq_app, waiting_id).status == "done" and message(rq_app, lost_id).status == "done"


_FORKED_CHILD_GETS_SIGTERM = """
import os, signal, sys, time
from core import workers
workers._watch_forks()
signal.signal(signal.SIGTERM, lambda *_: None)  # the worker's own handler: only flags a warm stop
pid = os.fork()
if pid == 0:  # rq's scheduler, before it installs its handler
    time.sleep(30)
    os._exit(0)
os.kill(pid, signal.SIGTERM)  # the worker stopping it, as rq's stop_scheduler does
for _ in range(100):
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        sys.exit(0 if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM else 3)
    time.sleep(0.05)
os.kill(pid, signal.SIGKILL)
sys.exit(4)  # the child swallowed the SIGTERM: the worker would wait for it for ever
"""


def test_a_child_of_a_worker_stops_on_sigterm_before_it_installs_its_own_handler():
    result = subprocess.run([sys.executable, "-c", _FORKED_CHILD_GETS_SIGTERM], cwd=ROOT, timeout=60,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
