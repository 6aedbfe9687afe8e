"""Behind the reverse proxy (TRUSTED_PROXY_COUNT), cookies and security headers, driven over HTTP."""

from __future__ import annotations

import re

import pytest
from cryptography.fernet import Fernet

from app import create_app
from core.extensions import db
from tests.factories import auth, create_dossier
from tests.tracking.conftest import token_for

pytestmark = pytest.mark.smoke


def _app_like(app, **overrides):
    """Another app on the same database and documents (the migrations already ran), configured differently."""
    return create_app({
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "DOCUMENT_STORAGE_DIR": app.config["DOCUMENT_STORAGE_DIR"],
        "TESTING": True, "ROUTING_LOADS_TTL_S": 0, "OUTBOX_THREAD": False, **overrides,
    })


@pytest.fixture
def proxied(app):
    """The app as the README deploys it: one TLS-terminating proxy in front, trusted."""
    application = _app_like(app, TRUSTED_PROXY_COUNT=1, TRACKING_RATE_LIMIT="2/minute")
    yield application
    with application.app_context():
        db.engine.dispose()


def test_behind_the_proxy_each_citizen_has_their_own_tracking_budget(app, client, agent_key, proxied):
    token = token_for(app, create_dossier(client, agent_key)["number"])
    browser = proxied.test_client()
    first, second = {"X-Forwarded-For": "203.0.113.10"}, {"X-Forwarded-For": "203.0.113.20"}
    assert [browser.get(f"/t/{token}", headers=first).status_code for _ in range(3)] == [200, 200, 429]
    # Another citizen behind the same proxy still has the whole budget.
    assert browser.get(f"/t/{token}", headers=second).status_code == 200
    # A client cannot buy a fresh budget by forging the header: the proxy appends the address it saw,
    # and only that last one is trusted.
    forged = {"X-Forwarded-For": "198.51.100.99, 203.0.113.10"}
    assert browser.get(f"/t/{token}", headers=forged).status_code == 429


def test_without_a_trusted_proxy_forwarded_headers_are_ignored(app, client, agent_key, monkeypatch):
    token = token_for(app, create_dossier(client, agent_key)["number"])
    app.extensions["tracking_limiter"].reset()
    monkeypatch.setitem(app.config, "TRACKING_RATE_LIMIT", "2/minute")
    answers = [client.get(f"/t/{token}", headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
               for n in range(3)]
    assert answers == [200, 200, 429]
    page = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" not in page.headers["Set-Cookie"] and "Strict-Transport-Security" not in page.headers
    app.extensions["tracking_limiter"].reset()


def _session_cookie(response) -> str:
    return next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))


def test_the_session_cookie_is_samesite_lax_and_secure_over_https(client, proxied):
    plain = _session_cookie(client.get("/login"))
    assert "SameSite=Lax" in plain and "HttpOnly" in plain and "Secure" not in plain
    over_https = proxied.test_client().get("/login", headers={"X-Forwarded-Proto": "https",
                                                              "X-Forwarded-For": "203.0.113.30"})
    cookie = _session_cookie(over_https)
    assert "Secure" in cookie and "SameSite=Lax" in cookie
    assert over_https.headers["Strict-Transport-Security"].startswith("max-age=")
    # The language cookie too.
    lang = proxied.test_client().get("/login?lang=en", headers={"X-Forwarded-Proto": "https"})
    assert all("Secure" in c for c in lang.headers.getlist("Set-Cookie"))


def test_production_makes_the_session_cookie_secure_on_every_request(app, monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    for name in ("SECRET_KEY", "PAYMENT_WEBHOOK_SECRET", "COURIER_WEBHOOK_SECRET", "SANDBOX_GATEWAY_SECRET_KEY",
                 "PII_HASH_KEY"):
        monkeypatch.setenv(name, f"a-real-{name.lower()}-0123456789abcdef")
    monkeypatch.setenv("PII_ENCRYPTION_KEYS", Fernet.generate_key().decode())
    monkeypatch.setenv("PAYMENT_GATEWAY_URL", "https://gateway.example/v1")  # real peers: no sandbox in production
    monkeypatch.setenv("COURIER_ADAPTER", "http")
    production = _app_like(app)
    try:
        cookie = _session_cookie(production.test_client().get("/login"))
        assert "Secure" in cookie and "SameSite=Lax" in cookie
    finally:
        with production.app_context():
            db.engine.dispose()


NONCE = re.compile(r"script-src 'self' 'nonce-([A-Za-z0-9_-]{20,})'")


def _assert_secure_headers(response, path: str) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, path
    scripts = csp.split("script-src", 1)[1].split(";")[0]
    assert scripts.startswith(" 'self'") and "'unsafe-inline'" not in scripts and "*" not in scripts, path
    assert headers["X-Frame-Options"] == "DENY", path
    assert headers["X-Content-Type-Options"] == "nosniff", path
    assert headers.get("Referrer-Policy"), path


def test_every_kind_of_page_carries_the_security_headers(app, client, agent_key):
    from tests.payments.conftest import card, pay

    created = create_dossier(client, agent_key, procedure_code="HN-TP-001")
    pay(client, agent_key, created["number"])
    receipt = card(client, agent_key, created["number"]).get_json()["receipts"][0]
    receipt_path = "/" + receipt["url"].split("://", 1)[1].split("/", 1)[1]
    token = token_for(app, created["number"])
    pages = {
        "/login": 200, "/api/v1/procedures": 200, "/api/v1/docs": 200, "/api/v1/openapi.json": 200,
        "/coverage": 200, receipt_path: 200, f"/t/{token}": 200, "/no-such-page": 404,
        f"/api/v1/dossiers/{created['number']}/receipt": None,
    }
    for path, status in pages.items():
        response = client.get(path, headers=auth(agent_key) if path.startswith("/api/") else {})
        if status is not None:
            assert response.status_code == status, path
        _assert_secure_headers(response, path)
    # The pages that keep their own referrer policy keep it.
    assert client.get(f"/t/{token}").headers["Referrer-Policy"] == "no-referrer"
    assert client.get(receipt_path).headers["Referrer-Policy"] == "no-referrer"
    assert client.get("/login").headers["Referrer-Policy"] == "same-origin"
    # No HSTS over plain http (a browser would ignore it, and a developer's http://127.0.0.1 must keep working).
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_each_request_has_its_own_nonce_and_inline_scripts_carry_it(client):
    first, second = client.get("/api/v1/docs"), client.get("/api/v1/docs")
    nonces = [NONCE.search(r.headers["Content-Security-Policy"]).group(1) for r in (first, second)]
    assert nonces[0] != nonces[1]
    html = second.get_data(as_text=True)
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline and all(f'nonce="{nonces[1]}"' in attrs for attrs in inline)


def test_no_template_has_an_inline_handler_or_an_inline_script_without_the_nonce():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = []
    for template in root.glob("*/templates/**/*.html"):
        text = template.read_text()
        if re.search(r"\son[a-z]+\s*=\s*[\"']", text):
            offenders.append(f"{template}: inline event handler")
        for attrs in re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", text):
            if "application/json" not in attrs and "csp_nonce()" not in attrs:
                offenders.append(f"{template}: inline script without nonce")
    assert offenders == []


def test_the_tracking_forms_work_over_https_despite_no_referrer(app, client, agent_key, officer_key, proxied):
    """The tracking page sends no Referer (its token must not leak): over https, CSRF protection must not
    demand one (Flask-WTF's strict referrer check), the token and SameSite cookie are the protection."""
    from tests.tracking.conftest import move

    created = create_dossier(client, agent_key)
    move(client, officer_key, created["number"], "accepted", "processing", "result_ready", "collected")
    token = token_for(app, created["number"])
    browser = proxied.test_client()
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.40"}
    page = browser.get(f"/t/{token}", headers=https).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    posted = browser.post(f"/t/{token}/feedback", data={"csrf_token": csrf, "rating": "5"}, headers=https)
    assert posted.status_code == 303
    # A forged form without the token is still refused.
    assert browser.post(f"/t/{token}/feedback", data={"rating": "1"}, headers=https).status_code == 400


def test_production_refuses_to_start_on_the_development_secrets(app, monkeypatch):
    from core.config import DEVELOPMENT_SECRETS, InsecureConfiguration

    for name in DEVELOPMENT_SECRETS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("PAYMENT_GATEWAY_URL", raising=False)
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(InsecureConfiguration) as refused:
        _app_like(app)
    message = str(refused.value)
    assert all(name in message for name in DEVELOPMENT_SECRETS) and "APP_ENV=production" in message
    # One left at its default is named alone; an empty one counts as a default.
    monkeypatch.setenv("SECRET_KEY", "a-long-random-secret-0123456789")
    monkeypatch.setenv("PAYMENT_WEBHOOK_SECRET", "")
    monkeypatch.setenv("COURIER_WEBHOOK_SECRET", "cwhsec_live_0123456789")
    monkeypatch.setenv("PAYMENT_GATEWAY_URL", "https://gateway.example/v1")  # the sandbox's key is moot then
    with pytest.raises(InsecureConfiguration) as refused:
        _app_like(app)
    assert "PAYMENT_WEBHOOK_SECRET" in str(refused.value)
    assert "SECRET_KEY," not in str(refused.value) and "SANDBOX_GATEWAY_SECRET_KEY" not in str(refused.value)
    # The development default still starts as it always did.
    monkeypatch.setenv("APP_ENV", "development")
    development = _app_like(app)
    with development.app_context():
        db.engine.dispose()


def test_the_policy_admits_the_configured_tile_server_and_nothing_else(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAP_TILE_URL", "https://{s}.tiles.example.vn/{z}/{x}/{y}.png")
    csp = client.get("/coverage").headers["Content-Security-Policy"]
    images = csp.split("img-src", 1)[1].split(";")[0]
    assert images.split() == ["'self'", "data:", "blob:", "https://*.tiles.example.vn"]
    monkeypatch.setitem(app.config, "MAP_TILE_URL", "")
    assert "tiles.example" not in client.get("/coverage").headers["Content-Security-Policy"]


def test_only_the_rq_dashboard_may_inline_scripts(client):
    relaxed = client.get("/admin/rq/", headers={"Accept": "text/html"}).headers["Content-Security-Policy"]
    assert "'unsafe-inline'" in relaxed.split("script-src", 1)[1].split(";")[0]
    assert "frame-ancestors 'none'" in relaxed
    strict = client.get("/admin/rqx", headers={"Accept": "text/html"}).headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in strict.split("script-src", 1)[1].split(";")[0]
