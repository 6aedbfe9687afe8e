"""The citizen rates the service 1–5, once, after the result is in their hands."""

from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from tests.factories import create_dossier, csrf_token
from tests.tracking.conftest import move, token_for
from tracking.models import Feedback


def _post(client, token: str, **data):
    return client.post(f"/t/{token}/feedback", data={"csrf_token": csrf_token(client, f"/t/{token}"), **data})


def _feedback(app) -> list[tuple[int, str | None]]:
    with app.app_context():
        return [(f.rating, f.comment) for f in db.session.scalars(select(Feedback))]


def test_after_collection_the_citizen_rates_once(app, client, agent_key, officer_key):
    created = create_dossier(client, agent_key)
    move(client, officer_key, created["number"], "accepted", "processing", "result_ready", "collected")
    token = token_for(app, created["number"])
    page = client.get(f"/t/{token}").get_data(as_text=True)
    assert f'action="/t/{token}/feedback"' in page and 'name="rating"' in page

    first = _post(client, token, rating="5", comment="  Nhanh, chu đáo.  ")
    assert first.status_code == 303 and first.headers["Location"].endswith(f"/t/{token}#feedback")
    after = client.get(f"/t/{token}").get_data(as_text=True)
    assert 'name="rating"' not in after and "5" in after
    assert client.get(f"/t/{token}.json").get_json()["feedback"] == {"open": True, "given": True, "rating": 5}

    second = client.post(f"/t/{token}/feedback", data={"csrf_token": csrf_token(client), "rating": "1"})
    assert second.status_code == 409
    assert "chỉ đánh giá một lần" in second.get_data(as_text=True)  # refused politely, on the page
    assert _feedback(app) == [(5, "Nhanh, chu đáo.")]


def test_after_courier_delivery_too(app, client, agent_key, officer_key):
    created = create_dossier(client, agent_key, delivery={"method": "courier",
                                                         "address": "12 Hàng Bài, Hoàn Kiếm, Hà Nội"})
    move(client, officer_key, created["number"], "accepted", "processing", "result_ready", "out_for_delivery",
         "delivered")
    token = token_for(app, created["number"])
    assert _post(client, token, rating="4").status_code == 303
    assert _feedback(app) == [(4, None)]


def test_before_delivery_no_form_and_a_post_is_refused(app, client, agent_key, officer_key):
    created = create_dossier(client, agent_key)
    move(client, officer_key, created["number"], "accepted", "processing", "result_ready")
    token = token_for(app, created["number"])
    assert 'name="rating"' not in client.get(f"/t/{token}").get_data(as_text=True)
    refused = client.post(f"/t/{token}/feedback", data={"csrf_token": csrf_token(client), "rating": "5"})
    assert refused.status_code == 409 and "sau khi nhận được kết quả" in refused.get_data(as_text=True)
    assert _feedback(app) == []


def test_ratings_outside_1_to_5_and_long_comments_are_refused(app, client, agent_key, officer_key):
    created = create_dossier(client, agent_key)
    move(client, officer_key, created["number"], "accepted", "processing", "result_ready", "collected")
    token = token_for(app, created["number"])
    assert _post(client, token, rating="6").status_code == 422
    assert _post(client, token).status_code == 422
    assert _post(client, token, rating="3", comment="x" * 1001).status_code == 422
    assert _feedback(app) == []
    assert _post(client, token, rating="3", comment="x" * 1000).status_code == 303


def test_a_post_without_the_csrf_token_is_refused(app, client, agent_key, officer_key):
    created = create_dossier(client, agent_key)
    move(client, officer_key, created["number"], "accepted", "processing", "result_ready", "collected")
    token = token_for(app, created["number"])
    assert client.post(f"/t/{token}/feedback", data={"rating": "5"}).status_code == 400
    assert _feedback(app) == []


def test_a_wrong_token_cannot_post(client):
    response = client.post("/t/not-a-real-token-at-all/feedback",
                           data={"csrf_token": csrf_token(client), "rating": "5"})
    assert response.status_code == 404
