"""The short page cache: a burst of views costs one query per link; the citizen's own changes show at once."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from core.extensions import db
from tests.factories import create_dossier, csrf_token
from tests.tracking.conftest import move, token_for


@pytest.fixture
def cache_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "TRACKING_PAGE_CACHE_S", 60)


def _statements(app, client, path) -> tuple[int, str]:
    seen = []
    with app.app_context():
        engine = db.engine

    def count(*_args):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen), response.get_data(as_text=True)


def test_repeated_views_are_served_without_queries(app, client, agent_key, cache_on):
    created = create_dossier(client, agent_key)
    token = token_for(app, created["number"])
    first, page = _statements(app, client, f"/t/{token}")
    again, cached = _statements(app, client, f"/t/{token}")
    assert first >= 1 and again == 0 and cached == page
    english, page_en = _statements(app, client, f"/t/{token}?lang=en")
    assert english >= 1 and "Progress" in page_en  # each language is its own entry
    assert _statements(app, client, f"/t/{token}.json")[0] >= 1  # and the JSON


def test_an_unknown_link_is_never_cached(app, client, cache_on):
    assert _statements(app, client, "/t/not-a-real-token-at-all")[0] == 1
    assert _statements(app, client, "/t/not-a-real-token-at-all")[0] == 1


def test_a_page_is_stale_at_most_the_ttl(app, client, agent_key, officer_key, cache_on, monkeypatch):
    created = create_dossier(client, agent_key)
    token = token_for(app, created["number"])
    client.get(f"/t/{token}")
    move(client, officer_key, created["number"], "accepted")
    assert "s-routed" in client.get(f"/t/{token}").get_data(as_text=True)  # within the TTL
    monkeypatch.setitem(app.config, "TRACKING_PAGE_CACHE_S", 0)
    assert "s-accepted" in client.get(f"/t/{token}").get_data(as_text=True)


def test_each_visitor_gets_their_own_csrf_token_and_a_rating_shows_at_once(app, client, agent_key, officer_key,
                                                                           cache_on):
    created = create_dossier(client, agent_key)
    move(client, officer_key, created["number"], "accepted", "processing", "result_ready", "collected")
    token = token_for(app, created["number"])
    mine = csrf_token(client, f"/t/{token}")
    other = app.test_client()
    theirs = csrf_token(other, f"/t/{token}")  # served from the cache
    assert mine != theirs and "\x00" not in other.get(f"/t/{token}").get_data(as_text=True)
    response = client.post(f"/t/{token}/feedback", data={"csrf_token": mine, "rating": "4"})
    assert response.status_code == 303
    after = client.get(f"/t/{token}").get_data(as_text=True)  # the flashed thanks: never from the cache
    assert "Cảm ơn bạn!" in after and 'name="rating"' not in after
    assert "4/5" in after
    assert 'name="rating"' not in client.get(f"/t/{token}").get_data(as_text=True)  # forgotten, then fresh


def test_the_links_of_one_dossier_share_its_page_each_with_its_own_address(app, client, agent_key, officer_key,
                                                                           cache_on):
    created = create_dossier(client, agent_key)
    move(client, officer_key, created["number"], "accepted", "processing", "result_ready", "collected")
    first, second = token_for(app, created["number"]), token_for(app, created["number"])
    _, page_one = _statements(app, client, f"/t/{first}")
    queries, page_two = _statements(app, client, f"/t/{second}")
    assert queries >= 1  # which dossier a new link opens is looked up once…
    assert _statements(app, client, f"/t/{second}")[0] == 0  # …then both links are served from memory
    assert f'action="/t/{first}/feedback"' in page_one and f'action="/t/{second}/feedback"' in page_two
    assert first not in page_two and second not in page_one
