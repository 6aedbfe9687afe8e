"""The citizen's tracking link: public, masked, following the dossier's status."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.extensions import db
from dossiers.models import Dossier
from tests.factories import auth, create_dossier
from tracking import service as tracking
from tracking.models import TrackingLink

pytestmark = pytest.mark.smoke


def _token(app, number):
    """A fresh link, as an SMS or a printed receipt would carry; its token is in the URL only."""
    with app.app_context():
        dossier_id = db.session.scalar(select(Dossier.id).where(Dossier.number == number))
        return tracking.share_link(dossier_id, "sms").rsplit("/", 1)[1]


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


def test_only_the_hash_of_a_token_is_stored(app, client, agent_key):
    created = create_dossier(client, agent_key)
    token = _token(app, created["number"])
    with app.app_context():
        stored = list(db.session.scalars(select(TrackingLink.token_hash)))
    assert token not in stored and tracking.token_hash(token) in stored and len(token) >= 22  # 128 bits


def test_a_link_expires_some_time_after_the_dossier_closes(app, client, agent_key):
    from datetime import timedelta

    from core.timeutil import utcnow

    created = create_dossier(client, agent_key)
    token = _token(app, created["number"])
    with app.app_context():
        dossier = db.session.scalar(select(Dossier).where(Dossier.number == created["number"]))
        dossier.closed_at = utcnow() - timedelta(days=app.config["TRACKING_LINK_TTL_DAYS"] - 1)
        db.session.commit()
    assert client.get(f"/t/{token}").status_code == 200
    with app.app_context():
        dossier = db.session.scalar(select(Dossier).where(Dossier.number == created["number"]))
        dossier.closed_at = utcnow() - timedelta(days=app.config["TRACKING_LINK_TTL_DAYS"] + 1)
        db.session.commit()
    assert client.get(f"/t/{token}").status_code == 404
