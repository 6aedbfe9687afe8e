"""Personal data at rest: CCCD and phone numbers are ciphertext in the database, found by blind index."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet, MultiFernet
from sqlalchemy import text

from core import pii
from core.extensions import db
from tests import factories
from tests.factories import auth

pytestmark = pytest.mark.smoke

CCCD, PHONE = "001090012345", "+84912345678"


def _raw(app, sql: str):
    with app.app_context():
        return db.session.execute(text(sql)).all()


def test_cccd_and_phone_are_stored_encrypted_and_still_found(app, client, agent_key):
    created = factories.create_dossier(client, agent_key)
    from tests.notify.conftest import run_outbox

    run_outbox(app)  # the "received" SMS is written with the citizen's phone
    (row,) = _raw(app, "SELECT citizen_id_number, citizen_phone, citizen_id_number_hash FROM dossiers")
    assert CCCD not in row.citizen_id_number and "912345678" not in row.citizen_phone
    with app.app_context():
        assert pii.decrypt(row.citizen_id_number) == CCCD and pii.decrypt(row.citizen_phone) == PHONE
        assert row.citizen_id_number_hash == pii.blind_index("cccd", CCCD)
    (sms,) = _raw(app, "SELECT phone, phone_hash FROM sms_messages")
    assert "912345678" not in sms.phone and sms.phone_hash

    one = client.get(f"/api/v1/dossiers/{created['number']}", headers=auth(agent_key)).get_json()
    assert (one["citizen"]["cccd"], one["citizen"]["phone"]) == (CCCD, PHONE)  # the agent still sees them
    with app.app_context():
        from core.accounts import authenticate_key
        from dossiers import service

        principal = authenticate_key(agent_key)
        for query in (CCCD, "0912345678", "+84 91 234 5678"):
            assert [d.number for d in service.search(principal, query)] == [created["number"]], query
        assert service.search(principal, "001090012346") == []


def test_rotation_re_encrypts_under_the_new_key_and_the_old_key_can_go(app, client, agent_key):
    created = factories.create_dossier(client, agent_key)
    with app.app_context():
        current = pii.keys()
        old_token = db.session.execute(text("SELECT citizen_phone FROM dossiers")).scalar_one()
    new_key = Fernet.generate_key()
    rotated = pii.PiiKeys(MultiFernet([Fernet(new_key), *current.fernet._fernets]), current.hash_key)
    app.extensions["pii_keys"] = rotated
    try:
        result = app.test_cli_runner().invoke(args=["pii", "rotate"])
        assert result.exit_code == 0 and "dossiers: 1 row(s) re-encrypted" in result.output
        with app.app_context():
            new_token = db.session.execute(text("SELECT citizen_phone FROM dossiers")).scalar_one()
        assert new_token != old_token and Fernet(new_key).decrypt(new_token.encode()).decode() == PHONE
        app.extensions["pii_keys"] = pii.PiiKeys(MultiFernet([Fernet(new_key)]), current.hash_key)  # old key gone
        one = client.get(f"/api/v1/dossiers/{created['number']}", headers=auth(agent_key)).get_json()
        assert one["citizen"]["phone"] == PHONE
    finally:
        app.extensions["pii_keys"] = current


def test_keys_must_be_both_set_or_both_empty(tmp_path):
    with pytest.raises(pii.PiiKeyError, match="PII_HASH_KEY"):
        pii._from_settings(Fernet.generate_key().decode(), "", tmp_path)
    with pytest.raises(pii.PiiKeyError, match="Fernet"):
        pii._from_settings("not-a-key", "x" * 40, tmp_path)
    generated = pii._from_settings("", "", tmp_path)
    assert (tmp_path / pii.KEY_FILE).stat().st_mode & 0o077 == 0  # readable by the owner only
    assert pii._from_settings("", "", tmp_path).hash_key == generated.hash_key  # made once, then reused
