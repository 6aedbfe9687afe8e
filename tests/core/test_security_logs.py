"""No CCCD, phone number or link token in any log line: the app's error log, Werkzeug's request log and
gunicorn's access log, captured while the requests that carry them are made."""

from __future__ import annotations

import logging
import runpy
import threading
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from sqlalchemy import text
from werkzeug.serving import make_server

from core.auth import AccessRule
from core.extensions import db
from core.security import redact
from tests.factories import auth, create_dossier, dossier_body
from tests.tracking.conftest import token_for

ROOT = Path(__file__).resolve().parents[2]
CCCD, PHONE, PHONE_E164 = "001090012345", "0912345678", "+84912345678"
SECRETS = (CCCD, PHONE, PHONE_E164, "912345678")


def _assert_clean(log_text: str, *more: str) -> None:
    for secret in (*SECRETS, *more):
        assert secret not in log_text, f"{secret!r} is in the log:\n{log_text}"


@pytest.mark.postgres
def test_a_nul_in_the_name_logs_no_citizen_data(client, agent_key, caplog):
    """PostgreSQL refuses NUL in text; whatever answers (a 422 once input is checked, or a 500), the
    logs hold neither the CCCD nor the phone that were in the statement's parameters."""
    caplog.set_level(logging.DEBUG)
    body = dossier_body(citizen={"full_name": "Nguyễn\x00 Văn An"})
    response = client.post("/api/v1/dossiers", json=body, headers=auth(agent_key, **{"Idempotency-Key": "nul-1"}))
    assert 400 <= response.status_code < 600 and response.status_code != 201
    _assert_clean(caplog.text)


@pytest.mark.smoke
def test_an_unhandled_database_error_is_logged_without_its_parameters(app, client, monkeypatch, caplog):
    def failing():
        db.session.execute(text("INSERT INTO no_such_table (cccd, phone) VALUES (:cccd, :phone)"),
                           {"cccd": CCCD, "phone": PHONE_E164})

    failing.access_rule = AccessRule(public=True)
    monkeypatch.setitem(app.view_functions, "coverage_page.coverage_page", failing)
    caplog.set_level(logging.INFO)
    response = client.get("/coverage", headers={"Accept": "application/json"})
    assert response.status_code == 500
    errors = [r for r in caplog.records if r.name == "core.errors"]
    assert errors and "no_such_table" in caplog.text  # logged, with what the operator needs
    assert "parameters not logged" in caplog.text
    _assert_clean(caplog.text)


@pytest.mark.smoke
def test_werkzeug_request_log_holds_no_token_and_no_query(app, client, agent_key, caplog):
    created = create_dossier(client, agent_key)
    token = token_for(app, created["number"])
    caplog.set_level(logging.INFO, logger="werkzeug")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        assert requests.get(f"{base}/t/{token}", timeout=10).status_code == 200
        requests.get(f"{base}/t/{token}.json", timeout=10)
        requests.get(f"{base}/r/receipt-token-0123456789abcdef", timeout=10)
        requests.get(f"{base}/portal?q={CCCD}", headers={"Authorization": f"Bearer {agent_key}"},
                     allow_redirects=False, timeout=10)
        requests.get(f"{base}/portal?status=received&q={PHONE}", allow_redirects=False, timeout=10)
    finally:
        server.shutdown()
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert len(lines) >= 5 and any("/t/[redacted]" in line for line in lines)
    assert any("status=received" in line for line in lines)  # only the sensitive part goes
    _assert_clean("\n".join(lines), token, "receipt-token-0123456789abcdef")


def test_gunicorn_access_log_through_the_projects_config_holds_no_token(tmp_path):
    from gunicorn.config import Config

    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    cfg = Config()
    cfg.set("logger_class", settings["logger_class"])
    access_file = tmp_path / "access.log"
    cfg.set("accesslog", str(access_file))
    logger = cfg.logger_class(cfg)
    response = SimpleNamespace(status="200 OK", headers=[("Content-Type", "text/html")], sent=1234)
    for uri, referer in ((f"/portal?q={CCCD}", "https://hcc.example/portal"),
                         ("/t/AbCdEf0123456789_-xyz", "-"),
                         ("/r/ReceiptToken0123.pdf", "https://hcc.example/t/AbCdEf0123456789_-xyz")):
        path, _, query = uri.partition("?")
        environ = {"REQUEST_METHOD": "GET", "RAW_URI": uri, "SERVER_PROTOCOL": "HTTP/1.1", "PATH_INFO": path,
                   "QUERY_STRING": query, "REMOTE_ADDR": "203.0.113.5", "HTTP_REFERER": referer,
                   "HTTP_USER_AGENT": "test"}
        logger.access(response, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=12))
    for handler in logger.access_log.handlers:
        handler.flush()
    written = access_file.read_text()
    assert written.count("GET ") == 3 and "/portal?q=[redacted]" in written and "/t/[redacted]" in written
    _assert_clean(written, "AbCdEf0123456789", "ReceiptToken0123")


def test_redaction_keeps_what_operators_need():
    line = '203.0.113.5 - - [02/Dec/2026:10:00:00 +0700] "GET /api/v1/dossiers/HN-2026-000123 HTTP/1.1" 200 512'
    assert redact(line) == line
    assert redact("Bearer hpa_abcDEF123_-") == "Bearer [redacted]"
    assert redact("citizen 001090012345, phone 0912 345 678") == "citizen [cccd], phone [phone]"
