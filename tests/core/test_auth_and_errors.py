"""Access rules on every route, bearer keys, and the one error format."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.accounts import authenticate_key
from core.auth import access_rule_for
from core.extensions import db
from core.models import ApiKey
from tests import factories
from tests.factories import auth, dossier_body


def test_every_route_declares_its_access_rule(app):
    missing = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if access_rule_for(rule.endpoint) is None:
                missing.append(f"{rule.rule} -> {rule.endpoint}")
    assert missing == []


def test_public_routes_are_exactly_the_expected_ones(app):
    with app.test_request_context():
        public = sorted({r.rule for r in app.url_map.iter_rules() if access_rule_for(r.endpoint).public
                         and not r.rule.startswith("/sandbox-gateway/v1/")})
    assert public == ["/",
                      "/api/v1/courier/webhook",  # verified by its X-Courier-Signature instead
                      "/api/v1/docs", "/api/v1/docs/assets/<path:filename>",
                      "/api/v1/notify/receipts",  # verified by its X-SMS-Signature instead
                      "/api/v1/openapi.json",
                      "/api/v1/payments/webhook",  # verified by its Stripe-Signature instead
                      "/assets/leaflet/<path:filename>", "/coverage", "/coverage.geojson",
                      "/coverage/static/<path:filename>", "/favicon.ico", "/healthz", "/login", "/logout",
                      "/metrics",  # answers to its own METRICS_TOKEN or an admin, checked in the view
                      "/portal/static/<path:filename>",
                      "/portal/static/v/<version>/<path:filename>",  # the tablet's versioned modules and styles
                      "/portal/sw.js",  # the tablet's service worker: the list of those files, nothing personal
                      "/r/<token>", "/r/<token>.json", "/r/<token>.pdf", "/r/<token>/print",
                      "/readyz", "/receipts/public-key.pem",
                      "/static/<path:filename>", "/static/core/<path:filename>", "/t/<token>",
                      "/t/<token>.json", "/t/<token>/feedback", "/t/<token>/reschedule"]


def test_the_sandbox_gateway_checks_its_own_secret_key(client):
    # Public to the app's access rules, like any payment gateway: it answers to its own key.
    assert client.get("/sandbox-gateway/v1/payment_intents/pi_x").status_code == 401
    wrong = client.get("/sandbox-gateway/v1/payment_intents/pi_x", headers={"Authorization": "Bearer sk_test_no"})
    assert wrong.status_code == 401 and wrong.get_json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize("path", ["/api/v1/procedures", "/api/v1/service-points", "/api/v1/dossiers"])
def test_api_requires_a_bearer_key(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization" in response.get_json()["detail_en"]


def test_wrong_and_revoked_keys_are_refused(app, client, agent_key):
    assert client.get("/api/v1/procedures", headers=auth("hpa_not-a-key")).status_code == 401
    assert client.get("/api/v1/procedures", headers=auth(agent_key)).status_code == 200
    with app.app_context():
        from core.accounts import revoke_key
        assert revoke_key(agent_key[:12]) == 1
    assert client.get("/api/v1/procedures", headers=auth(agent_key)).status_code == 401


def test_deactivated_user_keys_stop_working_at_once(app, client):
    with app.app_context():
        key = factories.user_key(factories.create_user("admin", email="boss@test.vn"))
    assert client.get("/api/v1/dossiers", headers=auth(key)).status_code == 200
    with app.app_context():
        from core.accounts import set_user_active
        set_user_active("boss@test.vn", False)
    assert client.get("/api/v1/dossiers", headers=auth(key)).status_code == 401


def test_keys_are_stored_hashed_and_touch_last_used(app, agent_key):
    with app.app_context():
        row = db.session.scalar(select(ApiKey))
        assert agent_key not in (row.key_hash, row.prefix, row.name)
        assert row.last_used_at is None
        principal = authenticate_key(agent_key)
        assert principal.role.value == "agent" and principal.label == "org:VNPOST-HN"
        db.session.refresh(row)
        assert row.last_used_at is not None


def test_staff_keys_carry_their_role(app, client):
    with app.app_context():
        finance = factories.user_key(factories.create_user("finance"))
        admin = factories.user_key(factories.create_user("admin"))
    post = client.post("/api/v1/dossiers", json=dossier_body(),
                       headers=auth(finance, **{"Idempotency-Key": "f"}))
    assert post.status_code == 403 and post.get_json()["code"] == "forbidden"
    assert client.get("/api/v1/dossiers", headers=auth(admin)).status_code == 200


def test_inactive_organisation_keys_stop_working(app, client, agent_key):
    with app.app_context():
        from core.accounts import set_organisation_active
        set_organisation_active("VNPOST-HN", False)
    assert client.get("/api/v1/procedures", headers=auth(agent_key)).status_code == 401
    with app.app_context():
        set_organisation_active("VNPOST-HN", True)
    assert client.get("/api/v1/procedures", headers=auth(agent_key)).status_code == 200


def test_api_routes_refuse_a_session_call_without_csrf_token(app, client):
    with app.app_context():
        factories.create_org()
        factories.create_user("agent", email="lan@test.vn", org=factories.create_org())
    assert factories.sign_in(client, "lan@test.vn").status_code == 302
    assert client.get("/api/v1/procedures?q=khai sinh").status_code == 200  # reads need no token
    response = client.post("/api/v1/dossiers", json=dossier_body(), headers={"Idempotency-Key": "s-1"})
    assert response.status_code == 400 and response.mimetype == "application/problem+json"


def test_unknown_api_route_is_a_problem_and_a_browser_gets_a_page(client):
    api = client.get("/api/v1/nothing-here")
    assert api.status_code == 404 and api.mimetype == "application/problem+json"
    assert api.get_json()["title_vi"] == "Không tìm thấy"
    page = client.get("/nothing-here", headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "Không tìm thấy" in page.get_data(as_text=True)


def test_wrong_method_is_a_405_problem(client, agent_key):
    response = client.delete("/api/v1/procedures", headers=auth(agent_key))
    assert response.status_code == 405 and response.mimetype == "application/problem+json"


def test_malformed_json_is_a_problem(client, agent_key):
    response = client.post("/api/v1/dossiers", data="{not json", content_type="application/json",
                           headers=auth(agent_key, **{"Idempotency-Key": "x"}))
    assert response.status_code in (400, 422)
    assert response.mimetype == "application/problem+json"


def test_openapi_document_and_docs_page_need_no_cdn(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/dossiers", "/api/v1/routing", "/api/v1/procedures", "/api/v1/service-points",
            "/api/v1/dossiers/{number}/transitions", "/api/v1/dossiers/{number}/documents"} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    post = spec["paths"]["/api/v1/dossiers"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in post["parameters"])
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in page
    assert "http://" not in page.replace("http://localhost", "") and "https://" not in page
    asset = client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.data) > 100_000


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok", "database": "ok"}
