"""Tracking fixtures: links as an SMS carries them, dossiers moved along by an officer, a courier stub."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from core.extensions import db
from dossiers.models import Dossier
from tests.factories import auth
from tracking import cache as page_cache
from tracking import service as tracking


@pytest.fixture(autouse=True)
def _fresh_limits_and_no_page_cache(request, monkeypatch):
    """Each test starts with a full rate-limit budget (counted per client IP; tests share 127.0.0.1)
    and sees every change at once: the page cache is off unless a test turns it on."""
    page_cache.clear()
    if "app" in request.fixturenames:
        app = request.getfixturevalue("app")
        app.extensions["tracking_limiter"].reset()
        monkeypatch.setitem(app.config, "TRACKING_PAGE_CACHE_S", 0)
    yield
    page_cache.clear()


def dossier_id(app, number: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Dossier.id).where(Dossier.number == number))


def token_for(app, number: str) -> str:
    """A fresh link, as an SMS or a printed receipt would carry; its token is in the URL only."""
    with app.app_context():
        return tracking.share_link(dossier_id(app, number), "sms").rsplit("/", 1)[1]


def move(client, officer_key: str, number: str, *statuses: str) -> None:
    for status in statuses:
        response = client.post(f"/api/v1/dossiers/{number}/transitions", json={"to": status},
                               headers=auth(officer_key))
        assert response.status_code == 200, response.get_json()


@pytest.fixture
def courier_stub(monkeypatch):
    """A stand-in for courier.service (delivery_summary, reschedule) with the contract's shapes."""
    state = SimpleNamespace(summary=None, calls=[], error=None)

    def delivery_summary(dossier_id):
        return state.summary

    def reschedule(dossier_id, phone_last4, slot_start):
        state.calls.append((dossier_id, phone_last4, slot_start))
        if state.error is not None:
            raise state.error

    monkeypatch.setattr(tracking, "courier", SimpleNamespace(delivery_summary=delivery_summary,
                                                             reschedule=reschedule))
    # No shipment rows exist for the stub: the page must not conclude "no shipment" from them, but ask it.
    snapshot_of_rows = tracking._snapshot_of_rows
    monkeypatch.setattr(tracking, "_snapshot_of_rows",
                        lambda rows: dataclasses.replace(snapshot_of_rows(rows), has_shipment=None))
    return state
