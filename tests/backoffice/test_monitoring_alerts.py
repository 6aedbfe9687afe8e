"""Quality alerts: raised by the periodic job (its own topic only), de-duplicated, listed at /api/v1/alerts
for administrators and leadership only, acknowledged with a note in the page or through the API."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from backoffice.alert_jobs import TOPIC
from backoffice.models import AdminAuditEvent, QualityAlert
from core import outbox, periodic
from core.extensions import db
from core.timeutil import LOCAL_TZ, as_utc
from tests import factories
from tests.factories import auth, csrf_token, sign_in

LEADER = "lanhdao@test.vn"
PROCEDURE = "HN-TP-001"  # 10 working days
NOW = datetime(2026, 3, 25, 10, 0, tzinfo=LOCAL_TZ)  # Wednesday


def move(client, key, number, *targets):
    for target in targets:
        response = client.post(f"/api/v1/dossiers/{number}/transitions", json={"to": target, "reason": "test"},
                               headers=auth(key))
        assert response.status_code == 200, response.get_json()


@pytest.fixture
def thresholds(app):
    """Every point with a dossier today is 'full' (0.1% of its capacity); one resolved dossier is enough."""
    before = {k: app.config[k] for k in ("ALERT_CAPACITY_PERCENT", "ALERT_ON_TIME_MIN_RESOLVED")}
    app.config.update(ALERT_CAPACITY_PERCENT=0.1, ALERT_ON_TIME_MIN_RESOLVED=1)
    yield
    app.config.update(before)


@pytest.fixture
def leader_key(app):
    with app.app_context():
        return factories.user_key(factories.create_user("leadership", email=LEADER))


@pytest.fixture
def situation(app, client, clock, agent_key, officer_key, thresholds):
    """A: received 10/03, resolved late on 25/03 09:00, collected, rated 1. B: received 11/03, due 25/03 17:00,
    still open. C: received today. The clock: Wed 25/03/2026 10:00."""
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=LOCAL_TZ))
    a = factories.create_dossier(client, agent_key, procedure_code=PROCEDURE)
    clock.set(datetime(2026, 3, 11, 9, 0, tzinfo=LOCAL_TZ))
    b = factories.create_dossier(client, agent_key, procedure_code=PROCEDURE)
    clock.set(datetime(2026, 3, 25, 9, 0, tzinfo=LOCAL_TZ))
    move(client, officer_key, a["number"], "accepted", "processing", "result_ready", "collected")
    with app.app_context():
        from dossiers.models import Dossier
        from tracking import service as tracking

        tracking.give_feedback(db.session.scalar(select(Dossier.id).where(Dossier.number == a["number"])), 1,
                               "Chờ quá lâu")
    clock.set(NOW)
    c = factories.create_dossier(client, agent_key, procedure_code=PROCEDURE)
    return {"a": a, "b": b, "c": c}


def run_job(app, clock, at: datetime) -> int:
    """The quality-alerts job's occurrences due by ``at`` (this topic only: other periodic jobs wait)."""
    clock.set(at)
    with app.app_context():
        periodic.ensure_scheduled(as_utc(at) - timedelta(minutes=15))
        return outbox.run_due(now=as_utc(at), topic=TOPIC)


def test_the_job_raises_each_kind_once(app, client, clock, situation, leader_key):
    assert run_job(app, clock, NOW + timedelta(minutes=5)) == 1
    alerts = client.get("/api/v1/alerts", headers=auth(leader_key, **{"Accept-Language": "en"})).get_json()["alerts"]
    by_kind = {}
    for alert in alerts:
        by_kind.setdefault(alert["kind"], []).append(alert)
    point = situation["a"]["service_point"]["service_point_code"]
    assert [a["dossier_number"] for a in by_kind["deadline"]] == [situation["b"]["number"]]
    assert [a["dossier_number"] for a in by_kind["low_rating"]] == [situation["a"]["number"]]
    assert by_kind["low_rating"][0]["details"]["rating"] == 1
    assert [a["service_point_code"] for a in by_kind["on_time"]] == [point]
    assert by_kind["on_time"][0]["details"]["rate_percent"] == 0.0
    assert [a["service_point_code"] for a in by_kind["capacity"]] == [situation["c"]["service_point"]
                                                                      ["service_point_code"]]
    assert all(a["status"] == "open" for a in alerts)

    # The next quarter: the same situation raises nothing new.
    assert run_job(app, clock, NOW + timedelta(minutes=20)) == 1
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(QualityAlert)) == len(alerts) == 4


def test_the_job_is_not_run_on_page_load(app, client, clock, situation):
    with app.app_context():
        factories.create_user("leadership", email=LEADER)
    sign_in(client, LEADER)
    assert client.get("/monitoring").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(QualityAlert)) == 0


def test_acknowledged_in_the_page_with_a_note_then_refused_twice_through_the_api(app, client, clock, situation,
                                                                                leader_key):
    run_job(app, clock, NOW + timedelta(minutes=5))
    sign_in(client, LEADER)
    page = client.get("/monitoring").get_data(as_text=True)
    ids = [int(i) for i in re.findall(r'id="alert-(\d+)"', page)]
    assert len(ids) == 4
    token = csrf_token(client, "/monitoring")
    empty = client.post(f"/monitoring/alerts/{ids[0]}/ack", data={"note": " ", "csrf_token": token})
    assert empty.status_code == 303
    with app.app_context():
        assert db.session.get(QualityAlert, ids[0]).acknowledged_at is None
    done = client.post(f"/monitoring/alerts/{ids[0]}/ack", data={"note": "Đã điều thêm cán bộ", "csrf_token": token})
    assert done.status_code == 303
    page = client.get("/monitoring").get_data(as_text=True)
    assert f'id="alert-{ids[0]}"' not in page and "Đã điều thêm cán bộ" in page  # in the alerts' table
    with app.app_context():
        alert = db.session.get(QualityAlert, ids[0])
        assert alert.acknowledged_by == f"user:{LEADER}" and alert.note == "Đã điều thêm cán bộ"
        audit = db.session.scalars(select(AdminAuditEvent).where(AdminAuditEvent.action == "alert.acknowledge")).all()
        assert [e.details["alert_id"] for e in audit] == [ids[0]]
    again = client.post(f"/api/v1/alerts/{ids[0]}/ack", json={"note": "lần nữa"}, headers=auth(leader_key))
    assert again.status_code == 409 and again.content_type.startswith("application/problem+json")
    api = client.post(f"/api/v1/alerts/{ids[1]}/ack", json={"note": "Đã gọi cho người dân"}, headers=auth(leader_key))
    assert api.status_code == 200 and api.get_json()["status"] == "acknowledged"
    missing = client.post("/api/v1/alerts/999999/ack", json={"note": "x"}, headers=auth(leader_key))
    assert missing.status_code == 404
    still_open = client.get("/api/v1/alerts", headers=auth(leader_key)).get_json()["alerts"]
    assert sorted(a["id"] for a in still_open) == sorted(ids[2:])
    every = client.get("/api/v1/alerts", query_string={"status": "all"}, headers=auth(leader_key)).get_json()
    assert len(every["alerts"]) == 4


def test_only_admin_and_leadership_use_the_alerts_api(app, client, agent_key, officer_key, leader_key):
    assert client.get("/api/v1/alerts").status_code == 401
    assert client.get("/api/v1/alerts", headers=auth(agent_key)).status_code == 403
    assert client.get("/api/v1/alerts", headers=auth(officer_key)).status_code == 403
    assert client.post("/api/v1/alerts/1/ack", json={"note": "x"}, headers=auth(officer_key)).status_code == 403
    assert client.get("/api/v1/alerts", headers=auth(leader_key)).status_code == 200
    with app.app_context():
        admin = factories.user_key(factories.create_user("admin", email="quantri@test.vn"))
    assert client.get("/api/v1/alerts", headers=auth(admin)).status_code == 200
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/alerts" in spec["paths"] and "/api/v1/alerts/{alert_id}/ack" in spec["paths"]
