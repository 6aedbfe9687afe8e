"""API key rotation: a new key for the same owner, the old one working through the overlap, then refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import accounts
from core.timeutil import utcnow
from tests import factories
from tests.factories import auth

pytestmark = pytest.mark.smoke


def _works(client, key: str) -> bool:
    status = client.get("/api/v1/procedures", headers=auth(key)).status_code
    assert status in (200, 401)
    return status == 200


def test_a_key_rotates_itself_through_the_api(app, client, agent_key, monkeypatch):
    rotated = client.post("/api/v1/keys/rotate", json={"overlap_hours": 2}, headers=auth(agent_key))
    assert rotated.status_code == 201, rotated.get_json()
    body = rotated.get_json()
    new_key = body["key"]
    assert new_key != agent_key and body["owner"] == "VNPOST-HN" and body["old_prefix"] == agent_key[:12]
    # Both work during the overlap, and carry the same organisation.
    assert _works(client, agent_key) and _works(client, new_key)
    created = factories.create_dossier(client, new_key)
    assert client.get(f"/api/v1/dossiers/{created['number']}", headers=auth(agent_key)).status_code == 200
    # After the overlap the old key is refused, even by a worker that had it in memory.
    later = utcnow() + timedelta(hours=2, seconds=1)
    monkeypatch.setattr(accounts, "utcnow", lambda: later)
    assert not _works(client, agent_key) and _works(client, new_key)
    # An expired key cannot rotate itself again.
    assert client.post("/api/v1/keys/rotate", json={}, headers=auth(agent_key)).status_code == 401


def test_the_cli_rotates_an_organisation_key_and_a_personal_key(app, client, agent_key):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["agents", "rotate-key", agent_key[:12], "--overlap-hours", "0"])
    assert result.exit_code == 0, result.output
    new_key = result.stdout.strip().splitlines()[0]
    assert new_key.startswith("hpa_") and _works(client, new_key) and not _works(client, agent_key)
    with app.app_context():
        user = factories.create_user("finance", email="finance.rotate@test.vn")
        personal = factories.user_key(user)
    result = runner.invoke(args=["users", "rotate-key", personal[:12]])
    assert result.exit_code == 0, result.output
    new_personal = result.stdout.strip().splitlines()[0]
    assert _works(client, personal) and _works(client, new_personal)  # the default overlap (24 h)
    # Revoking the old one ends its overlap at once.
    assert runner.invoke(args=["agents", "revoke-key", personal[:12]]).output.strip() == "revoked 1 key(s)"
    assert not _works(client, personal) and _works(client, new_personal)
    unknown = runner.invoke(args=["agents", "rotate-key", "hpa_nothing1"])
    assert unknown.exit_code != 0 and "No live API key" in unknown.output


def test_rotation_refuses_a_session_and_an_overlap_out_of_range(app, client, agent_key):
    assert client.post("/api/v1/keys/rotate", json={"overlap_hours": -1}, headers=auth(agent_key)).status_code == 422
    assert client.post("/api/v1/keys/rotate", json={"overlap_hours": 10000},
                       headers=auth(agent_key)).status_code == 422
    assert client.post("/api/v1/keys/rotate", json={}).status_code == 401
