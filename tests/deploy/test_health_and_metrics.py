"""Readiness, metrics and JSON logs: what an orchestrator and a monitoring system read."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import text

from core import health
from core.extensions import db
from tests import factories
from tests.factories import auth


@pytest.mark.smoke
def test_readyz_checks_the_database_and_the_migrations(client, app):
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    assert ready.get_json() == {"status": "ok", "database": "ok", "migrations": "ok"}
    with app.app_context():
        # The platform's chain (the dev sandboxes' branches have rows of their own).
        head = db.session.scalar(text("SELECT version_num FROM alembic_version WHERE version_num NOT LIKE 'sandbox%'"))
        db.session.execute(text("UPDATE alembic_version SET version_num = '0001' WHERE version_num = :head"),
                           {"head": head})
        db.session.commit()
    try:
        behind = client.get("/readyz")
        assert behind.status_code == 503
        migrations = behind.get_json()["migrations"]
        assert migrations.startswith("at 0001, ") and "expected " in migrations
    finally:
        with app.app_context():
            db.session.execute(text("UPDATE alembic_version SET version_num = :head WHERE version_num = '0001'"),
                               {"head": head})
            db.session.commit()


@pytest.mark.redis
def test_readyz_checks_redis_when_jobs_use_it(client, app, monkeypatch, redis_url):
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    assert client.get("/readyz").get_json()["redis"] == "ok"
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:6390/0")  # nothing listens there
    down = client.get("/readyz")
    assert down.status_code == 503 and down.get_json()["redis"].startswith("error")


@pytest.mark.smoke
def test_metrics_are_for_the_token_or_an_admin_only(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "scrape-secret")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=auth("wrong")).status_code == 401
    with app.app_context():
        officer = factories.user_key(factories.create_user(role="branch_officer", email="cb@test.vn"))
        admin = factories.user_key(factories.create_user(role="admin", email="qt@test.vn"))
    assert client.get("/metrics", headers=auth(officer)).status_code == 401
    client.get("/healthz")
    for headers in (auth("scrape-secret"), auth(admin)):
        scraped = client.get("/metrics", headers=headers)
        assert scraped.status_code == 200 and scraped.mimetype == "text/plain"
        body = scraped.get_data(as_text=True)
        assert 'http_requests_total{endpoint="health.healthz",method="GET",status="200"}' in body
        assert "http_request_duration_seconds_bucket" in body and "outbox_messages" in body


@pytest.mark.smoke
def test_json_logs_are_one_object_a_line(app, monkeypatch, capsys):
    root = logging.getLogger()
    saved = [(h, h.formatter) for h in root.handlers]
    handler = logging.StreamHandler()
    root.addHandler(handler)
    try:
        monkeypatch.setitem(app.config, "LOG_FORMAT", "json")
        health.configure_logging(app)
        logging.getLogger("hanoi.test").warning("hồ sơ %s đã nhận", "HN-1")
    finally:
        root.removeHandler(handler)
        for h, formatter in saved:
            h.setFormatter(formatter)
    line = [li for li in capsys.readouterr().err.splitlines() if "HN-1" in li][-1]
    record = json.loads(line)
    assert record["message"] == "hồ sơ HN-1 đã nhận" and record["level"] == "WARNING"
    assert record["logger"] == "hanoi.test" and "time" in record
