"""The dev sandboxes are mounted only without a real peer, never with a production configuration,
and the sandbox gateway's own webhook secret is accepted only while it is mounted."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import sandboxes
from app import create_app
from core import signatures
from courier.adapters import build

ROOT = Path(__file__).resolve().parents[2]
REAL_PEERS = {"PAYMENT_GATEWAY_URL": "https://gateway.example/v1", "PAYMENT_GATEWAY_KEY": "sk_test_real",
              "PAYMENT_WEBHOOK_SECRET": "whsec_real_gateway", "COURIER_ADAPTER": "http",
              "COURIER_API_URL": "https://courier.example/api", "COURIER_WEBHOOK_SECRET": "cwhsec_real_carrier"}
# What production needs besides its peers (core/config.py refuses to start without them), so these tests
# see the sandboxes' own refusal.
PRODUCTION_SECRETS = {"SECRET_KEY": "a-real-secret-key-0123456789abcdef",
                      "PII_HASH_KEY": "a-real-hash-key-0123456789abcdef",
                      "PII_ENCRYPTION_KEYS": "Yk1hc3Rlci1rZXktZm9yLXRlc3RzLW9ubHktMDEyMzQ=",
                      "PAYMENT_WEBHOOK_SECRET": "whsec_real_gateway", "COURIER_WEBHOOK_SECRET": "cwhsec_real_carrier",
                      "SANDBOX_GATEWAY_SECRET_KEY": "sk_test_own_sandbox_key"}
SANDBOX_ROUTES = [("GET", "/sandbox-gateway/v1/payment_intents/pi_x"), ("POST", "/sandbox-gateway/v1/payment_intents"),
                  ("GET", "/sandbox-gateway/v1/3ds/pi_x"), ("POST", "/sandbox-gateway/v1/_sandbox/payouts/run"),
                  ("GET", "/sandbox-gateway/v1/balance")]


def _app(app, **overrides):
    """Another app on the session's (already migrated) database."""
    return create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "TESTING": True,
                       "OUTBOX_THREAD": False, **overrides})


@pytest.fixture
def real_app(app):
    application = _app(app, **REAL_PEERS)
    yield application
    with application.app_context():
        from core.extensions import db

        db.engine.dispose()


def _event(event_id: str = "evt_mounting_1") -> bytes:
    return json.dumps({"id": event_id, "type": "payout.created", "data": {"object": {}}}).encode()


def test_the_default_configuration_mounts_both_sandboxes(app, client):
    assert set(sandboxes.mounted(app)) == {"gateway", "courier"}
    answer = client.get("/sandbox-gateway/v1/balance", headers={"Authorization": "Bearer sk_test_sandbox"})
    assert answer.status_code == 200 and answer.get_json()["object"] == "balance"


@pytest.mark.smoke
def test_with_real_peers_the_sandbox_routes_are_404_and_no_sandbox_adapter_exists(real_app):
    assert sandboxes.mounted(real_app) == {}
    client = real_app.test_client()
    for method, path in SANDBOX_ROUTES:
        answer = client.open(path, method=method, headers={"Authorization": "Bearer sk_test_sandbox"})
        assert answer.status_code == 404, (method, path)
    assert not any(rule.rule.startswith("/sandbox-gateway") for rule in real_app.url_map.iter_rules())
    with real_app.app_context():
        from payments.client import gateway

        assert gateway().base_url == "https://gateway.example/v1"
        with pytest.raises(ValueError, match="COURIER_ADAPTER"):
            build({**real_app.config, "COURIER_ADAPTER": "sandbox"},
                  real_app.extensions.get("courier_adapter_factories"))


@pytest.mark.smoke
def test_each_sandbox_is_mounted_on_its_own_condition(app):
    only_courier = _app(app, PAYMENT_GATEWAY_URL="https://gateway.example/v1", PAYMENT_WEBHOOK_SECRET="whsec_x")
    only_gateway = _app(app, COURIER_ADAPTER="http")
    assert set(sandboxes.mounted(only_courier)) == {"courier"}
    assert set(sandboxes.mounted(only_gateway)) == {"gateway"}
    assert only_courier.test_client().get("/sandbox-gateway/v1/balance").status_code == 404
    assert "sandbox" in only_courier.extensions["courier_adapter_factories"]
    assert "sandbox" not in only_gateway.extensions.get("courier_adapter_factories", {})


@pytest.mark.smoke
def test_the_sandbox_secret_is_accepted_only_while_the_sandbox_is_mounted(app, client, real_app):
    raw = _event()
    by_sandbox = signatures.header(raw, app.config["SANDBOX_GATEWAY_WEBHOOK_SECRET"])
    headers = {"Content-Type": "application/json"}
    # Not mounted: the sandbox's (published) secret signs nothing the platform accepts.
    refused = real_app.test_client().post("/api/v1/payments/webhook", data=raw,
                                          headers={**headers, "Stripe-Signature": by_sandbox})
    assert refused.status_code == 400 and refused.get_json()["code"] == "bad_signature"
    by_platform = signatures.header(raw, real_app.config["PAYMENT_WEBHOOK_SECRET"])
    accepted = real_app.test_client().post("/api/v1/payments/webhook", data=raw,
                                           headers={**headers, "Stripe-Signature": by_platform})
    assert accepted.status_code == 200
    # Mounted: both the platform's secret and the sandbox's own.
    raw2 = _event("evt_mounting_2")
    assert client.post("/api/v1/payments/webhook", data=raw2, headers={
        **headers, "Stripe-Signature": signatures.header(raw2, app.config["SANDBOX_GATEWAY_WEBHOOK_SECRET"])}
    ).status_code == 200
    assert client.post("/api/v1/payments/webhook", data=raw2, headers={
        **headers, "Stripe-Signature": "t=1,v1=" + "0" * 64}).status_code == 400


@pytest.mark.smoke
def test_the_sandbox_signs_with_its_own_secret_not_the_platforms(app, monkeypatch):
    sent = []
    monkeypatch.setitem(app.config, "SANDBOX_GATEWAY_WEBHOOK_URL", "https://hooks.example/in")
    monkeypatch.setitem(app.config, "SANDBOX_GATEWAY_WEBHOOK_TRANSPORT",
                        lambda url, body, headers, timeout: sent.append((body, headers)) or 200)
    monkeypatch.setitem(app.config, "SANDBOX_GATEWAY_WEBHOOK_SECRET", "whsec_sandbox_own")
    answer = app.test_client().post("/sandbox-gateway/v1/payment_intents", data={"amount": "1000", "currency": "vnd"},
                                    headers={"Authorization": "Bearer sk_test_sandbox", "Idempotency-Key": "mnt-1"})
    assert answer.status_code == 200 and sent
    body, headers = sent[0]
    signatures.verify(body, headers["Stripe-Signature"], "whsec_sandbox_own")
    with pytest.raises(signatures.SignatureError):
        signatures.verify(body, headers["Stripe-Signature"], app.config["PAYMENT_WEBHOOK_SECRET"])


@pytest.mark.smoke
@pytest.mark.parametrize(("overrides", "reason"), [
    ({"APP_ENV": "production"}, "APP_ENV=production"),
    ({"APP_ENV": "production", "COURIER_ADAPTER": "http", "PAYMENT_WEBHOOK_SECRET": "whsec_live"},
     "the sandbox payment gateway would be mounted (PAYMENT_GATEWAY_URL is empty)"),
    ({"APP_ENV": "production", "PAYMENT_GATEWAY_URL": "https://gateway.example/v1"},
     "the sandbox courier would be mounted (COURIER_ADAPTER=sandbox)"),
    ({"PAYMENT_WEBHOOK_SECRET": "whsec_live_1", "SANDBOX_GATEWAY_WEBHOOK_SECRET": "whsec_live_1"},
     "the sandbox would sign with the production webhook secret"),
    ({"PAYMENT_GATEWAY_KEY": "sk_live_abc"}, "PAYMENT_GATEWAY_KEY is a live key"),
    ({"COURIER_WEBHOOK_SECRET": "cwhsec_live", "SANDBOX_COURIER_WEBHOOK_SECRET": "cwhsec_live"},
     "carrier's production secret"),
])
def test_a_sandbox_with_a_production_configuration_refuses_to_start(tmp_path, overrides, reason):
    with pytest.raises(sandboxes.SandboxRefused) as refused:
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}", "OUTBOX_THREAD": False,
                    **(PRODUCTION_SECRETS if overrides.get("APP_ENV") else {}), **overrides})
    assert reason in str(refused.value)


@pytest.mark.smoke
def test_production_with_real_peers_starts_without_sandboxes(tmp_path):
    application = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}", "OUTBOX_THREAD": False,
                              "APP_ENV": "production", **PRODUCTION_SECRETS, **REAL_PEERS})
    assert sandboxes.mounted(application) == {}


@pytest.mark.smoke
def test_the_refusal_is_a_clear_error_at_the_command_line(tmp_path):
    env = {**os.environ, "FLASK_APP": "wsgi", "APP_ENV": "production", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
           "INSTANCE_DIR": str(tmp_path), "OUTBOX_THREAD": "0", "PAYMENT_GATEWAY_URL": "", "COURIER_ADAPTER": "sandbox",
           **PRODUCTION_SECRETS}
    result = subprocess.run([sys.executable, "-m", "flask", "routes"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0
    assert "Refusing to start: a sandbox would run with a production configuration" in result.stderr
    assert "PAYMENT_GATEWAY_URL is empty" in result.stderr and "COURIER_ADAPTER=sandbox" in result.stderr


@pytest.mark.smoke
def test_no_platform_package_imports_the_dev_plugins():
    offenders = []
    for package in ("core", "dossiers", "geo", "agent_portal", "payments", "courier", "notify", "tracking"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
            names |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
            if any(name == "sandboxes" or name.startswith("sandboxes.") for name in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
