"""The citizen's tracking link: public, masked, following the dossier's status."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.extensions import db
from dossiers.models import Dossier
from tests.factories import auth, create_dossier

pytestmark = pytest.mark.smoke


def _token(app, number):
    with app.app_context():
        return db.session.scalar(select(Dossier.tracking_token).where(Dossier.number == number))


def test_the_link_shows_status_and_history_without_personal_data(app, client, agent_key, officer_key):
    created = create_dossier(client, agent_key)
    client.post(f"/api/v1/dossiers/{created['number']}/transitions", json={"to": "accepted"},
                headers=auth(officer_key))
    page = client.get(f"/t/{_token(app, created['number'])}").get_data(as_text=True)
    assert created["number"] in page and "Đã nhận xử lý" in page
    assert "N. V. An" in page and "Nguyễn Văn An" not in page
    assert "001090012345" not in page and "912345678" not in page
    assert page.count("<li>") == 3  # received, routed, accepted


def test_unknown_or_malformed_tokens_are_not_found(client):
    assert client.get("/t/not-a-real-token-at-all").status_code == 404
    assert client.get("/t/x").status_code == 404


def test_tokens_are_unguessable_and_distinct(app, client, agent_key):
    a, b = create_dossier(client, agent_key), create_dossier(client, agent_key)
    ta, tb = _token(app, a["number"]), _token(app, b["number"])
    assert ta != tb and len(ta) >= 20 and a["number"] not in ta
