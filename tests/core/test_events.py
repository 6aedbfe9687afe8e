"""Events between packages: a publisher names no consumer, every subscriber gets its own row."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from core import outbox
from core.extensions import db
from core.outbox import OutboxMessage
from core.timeutil import as_utc, utcnow
from courier.models import Shipment
from notify.models import SmsMessage
from tests import factories
from tests.factories import auth

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("dossiers", "geo", "agent_portal", "payments", "courier", "notify", "tracking")
TEST_EVENT = outbox.declare_event("tests.something_happened")
CALLS: dict[str, list[dict]] = {"steady": [], "flaky": []}
FLAKY = {"failures_left": 0}


@pytest.fixture
def two_subscribers():
    """Two subscribers of a test event: ``steady`` always works, ``flaky`` fails while told to."""
    def steady(payload: dict) -> None:
        CALLS["steady"].append(payload)

    def flaky(payload: dict) -> None:
        CALLS["flaky"].append(payload)
        if FLAKY["failures_left"] > 0:
            FLAKY["failures_left"] -= 1
            raise RuntimeError("the SMS provider is down")

    outbox.subscriber(TEST_EVENT, name="tests.steady")(steady)
    outbox.subscriber(TEST_EVENT, name="tests.flaky")(flaky)
    CALLS["steady"].clear(), CALLS["flaky"].clear()
    yield
    outbox.unsubscribe(TEST_EVENT, "tests.steady")
    outbox.unsubscribe(TEST_EVENT, "tests.flaky")


def rows(topic_prefix: str = "") -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.topic.startswith(topic_prefix))
                                   .order_by(OutboxMessage.id)))


def move(client, key: str, number: str, *statuses: str) -> None:
    for status in statuses:
        response = client.post(f"/api/v1/dossiers/{number}/transitions", json={"to": status}, headers=auth(key))
        assert response.status_code == 200, response.get_json()


@pytest.mark.smoke
def test_one_subscriber_failing_is_retried_without_running_the_other_again(app, two_subscribers):
    FLAKY["failures_left"] = 1
    with app.app_context():
        written = outbox.publish(TEST_EVENT, {"n": 7})
        db.session.commit()
        assert sorted(m.topic for m in written) == ["tests.flaky@tests.something_happened",
                                                    "tests.steady@tests.something_happened"]
        assert outbox.run_due(now=utcnow() + timedelta(seconds=1)) == 1  # steady done, flaky failed
        by_topic = {m.topic.split("@")[0]: m for m in rows("tests.")}
        assert by_topic["tests.steady"].status == "done"
        flaky = by_topic["tests.flaky"]
        assert (flaky.status, flaky.attempts) == ("pending", 1) and "provider is down" in flaky.last_error
        assert outbox.run_due(now=as_utc(flaky.due_at) + timedelta(seconds=1)) == 1  # the retry: flaky only
        db.session.expire_all()
        assert [m.status for m in rows("tests.")] == ["done", "done"]
    assert CALLS["steady"] == [{"n": 7}]  # ran once, though its sibling ran twice
    assert CALLS["flaky"] == [{"n": 7}, {"n": 7}]


@pytest.mark.smoke
def test_an_event_published_twice_under_its_key_is_one_row_per_subscriber(app, two_subscribers):
    with app.app_context():
        outbox.publish(TEST_EVENT, {"n": 1}, dedupe_key="once")
        db.session.commit()
        outbox.publish(TEST_EVENT, {"n": 1}, dedupe_key="once")
        db.session.commit()
        assert sorted(m.dedupe_key for m in rows("tests.")) == ["tests.flaky@tests.something_happened:once",
                                                                "tests.steady@tests.something_happened:once"]


@pytest.mark.smoke
def test_an_undeclared_event_is_refused(app):
    with app.app_context(), pytest.raises(LookupError):
        outbox.publish("tests.never_declared", {})


@pytest.mark.smoke
def test_a_status_change_is_one_event_that_notify_and_courier_both_receive(app, client, agent_key, officer_key):
    created = factories.create_dossier(client, agent_key, delivery={"method": "courier",
                                                                    "address": "12 Hàng Bài, Hoàn Kiếm, Hà Nội"})
    with app.app_context():
        # Registration (on PostgreSQL the one-statement fast path): notify's row, from no status.
        [announced] = rows()
        assert announced.topic == "notify@dossiers.status_changed"
        assert announced.payload["from_status"] is None and announced.payload["to_status"] == "routed"
        db.session.execute(OutboxMessage.__table__.delete())
        db.session.commit()
    move(client, officer_key, created["number"], "accepted", "processing")
    with app.app_context():
        assert rows() == []  # moves no subscriber cares about write nothing
    move(client, officer_key, created["number"], "result_ready")
    with app.app_context():
        written = rows()
        assert sorted(m.topic for m in written) == ["courier@dossiers.status_changed",
                                                    "notify@dossiers.status_changed"]
        first, second = written
        assert first.payload == second.payload  # one event, the same for both
        payload = first.payload
        assert {k: payload[k] for k in ("from_status", "to_status", "delivery_method", "actor_role")} == {
            "from_status": "processing", "to_status": "result_ready", "delivery_method": "courier",
            "actor_role": "branch_officer"}
        assert isinstance(payload["dossier_id"], int) and isinstance(payload["at"], str)
        for message in written:  # each subscriber acts on it: the shipment, the SMS
            assert outbox.run_one(message.id) is True
        assert db.session.scalar(select(Shipment.dossier_id)) == payload["dossier_id"]
        assert [s.event for s in db.session.scalars(select(SmsMessage))] == ["result_ready"]


@pytest.mark.smoke
def test_every_subscription_names_a_declared_event(app):
    assert outbox.SUBSCRIBERS, "the app registered no subscriber"
    for event_name, subscribers in outbox.SUBSCRIBERS.items():
        assert event_name in outbox.EVENTS, f"{sorted(subscribers)} subscribe to {event_name!r}, which nobody declares"
        for sub in subscribers.values():
            assert outbox.HANDLERS[sub.topic] is sub.func


def _string_constants(package: str) -> set[str]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return found


@pytest.mark.smoke
def test_dossiers_names_no_topic_of_another_package(app):
    others = {topic for topic in outbox.HANDLERS if not topic.startswith("dossiers")}
    constants = _string_constants("dossiers")
    assert others and not constants & others
    prefixes = tuple(f"{p}{sep}" for p in PACKAGES if p != "dossiers" for sep in (".", "@"))
    assert [s for s in constants if s.startswith(prefixes)] == []


@pytest.mark.smoke
def test_no_package_names_a_topic_another_package_handles(app):
    """A publisher never writes its consumers' topics: it publishes its own events, they subscribe."""
    for package in PACKAGES:
        foreign = {topic for topic in outbox.HANDLERS
                   if topic.split("@")[0].split(".")[0] != package and not topic.startswith("test")}
        assert not _string_constants(package) & foreign, package
