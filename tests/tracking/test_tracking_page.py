"""The citizen's tracking link: public, masked, following the dossier from received to delivered."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, select

from core.extensions import db
from core.timeutil import utcnow
from dossiers.models import Dossier
from tests.factories import create_dossier
from tests.payments.conftest import PAID_PROCEDURE, card, pay
from tests.tracking.conftest import move, token_for
from tracking import service as tracking
from tracking.models import TrackingLink


def test_the_page_shows_the_dossier_masked_with_its_timeline(app, client, agent_key, officer_key):
    created = create_dossier(client, agent_key)
    move(client, officer_key, created["number"], "accepted")
    response = client.get(f"/t/{token_for(app, created['number'])}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert created["number"] in page and "Đăng ký khai sinh" in page and "Đã nhận xử lý" in page
    assert "Nguyễn V. A." in page and "Nguyễn Văn An" not in page  # family name, then initials
    assert "091****678" in page and "912345678" not in page and "001090012345" not in page
    assert "12 Hàng Bài" not in page  # the citizen's address stays out
    # Received, routed, accepted passed; processing, result ready, collected ahead.
    assert page.count('<li class="done"') == 2 and page.count('<li class="current"') == 1
    assert page.count('<li class="ahead"') == 3
    with app.app_context():
        point = db.session.scalar(select(Dossier).where(Dossier.number == created["number"])).service_point_id
        from geo import service as geo

        assert geo.point_by_id(point).address in page
    assert "Đúng hạn" in page  # on schedule against the deadline


def test_english_one_tap_away(app, client, agent_key):
    created = create_dossier(client, agent_key)
    page = client.get(f"/t/{token_for(app, created['number'])}?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in page and "Progress" in page and "On schedule" in page
    assert "Nguyễn V. A." in page


def test_private_headers_and_no_indexing(app, client, agent_key):
    created = create_dossier(client, agent_key)
    token = token_for(app, created["number"])
    for path in (f"/t/{token}", f"/t/{token}.json", "/t/not-a-real-token-at-all"):
        response = client.get(path)
        assert response.headers["Referrer-Policy"] == "no-referrer", path
        assert response.headers["X-Robots-Tag"] == "noindex, nofollow", path
        assert response.headers["Cache-Control"] == "private, no-store", path
    assert '<meta name="robots" content="noindex">' in client.get(f"/t/{token}").get_data(as_text=True)


def test_a_late_dossier_says_so(app, client, agent_key):
    created = create_dossier(client, agent_key)
    with app.app_context():
        dossier = db.session.scalar(select(Dossier).where(Dossier.number == created["number"]))
        dossier.deadline_at = utcnow() - timedelta(hours=1)
        db.session.commit()
    token = token_for(app, created["number"])
    assert "Quá hạn" in client.get(f"/t/{token}").get_data(as_text=True)
    timeliness = client.get(f"/t/{token}.json").get_json()["dossier"]["timeliness"]
    assert timeliness == {"code": "late", "final": False, "label": "Quá hạn"}


def test_a_result_ready_in_time_stays_on_time(app, client, agent_key, officer_key):
    created = create_dossier(client, agent_key)
    move(client, officer_key, created["number"], "accepted", "processing", "result_ready", "collected")
    body = client.get(f"/t/{token_for(app, created['number'])}.json").get_json()
    assert body["dossier"]["timeliness"]["code"] == "on_time" and body["dossier"]["timeliness"]["final"] is True
    assert [s["state"] for s in body["timeline"]] == ["done"] * 5 + ["current"]
    assert [s["code"] for s in body["timeline"]] == ["received", "routed", "accepted", "processing",
                                                     "result_ready", "collected"]


def test_a_refused_dossier_shows_where_it_stopped_and_nothing_ahead(app, client, agent_key, officer_key):
    created = create_dossier(client, agent_key)
    response = client.post(f"/api/v1/dossiers/{created['number']}/transitions",
                           json={"to": "rejected", "reason": "Thiếu giấy tờ"},
                           headers={"Authorization": f"Bearer {officer_key}"})
    assert response.status_code == 200
    body = client.get(f"/t/{token_for(app, created['number'])}.json").get_json()
    assert [s["code"] for s in body["timeline"]] == ["received", "routed", "rejected"]
    assert body["timeline"][-1]["state"] == "current" and body["dossier"]["timeliness"]["code"] is None


def test_the_payment_and_its_receipt_are_on_the_page(app, client, agent_key):
    created = create_dossier(client, agent_key, procedure_code=PAID_PROCEDURE)
    pay(client, agent_key, created["number"])
    receipt = card(client, agent_key, created["number"]).get_json()["receipts"][0]
    token = token_for(app, created["number"])
    page = client.get(f"/t/{token}").get_data(as_text=True)
    assert "Đã thanh toán" in page and f"{receipt['series']}/{receipt['number']:07d}" in page
    payment = client.get(f"/t/{token}.json").get_json()["payment"]
    assert payment["status"] == {"code": "paid", "label": "Đã thanh toán"}
    assert payment["receipts"][0]["url"].endswith(receipt["url"].rsplit("/", 1)[1])
    assert payment["receipts"][0]["document"] == {"code": "fee_receipt", "label": "Biên lai thu phí, lệ phí"}
    assert len(payment["receipts"]) == 1  # the state fee only: no service invoice


def test_the_page_costs_a_handful_of_queries(app, client, agent_key):
    created = create_dossier(client, agent_key, procedure_code=PAID_PROCEDURE)
    pay(client, agent_key, created["number"])
    card(client, agent_key, created["number"])
    token = token_for(app, created["number"])
    client.get(f"/t/{token}")  # the service point is cached per process from the first view on
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(f"/t/{token}").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # the link with its dossier, procedure, timeline, rating; then the payment and its receipts
    # (not its refunds: the page does not show them)
    assert len(statements) == 3, statements


def test_a_dossier_with_no_payment_and_no_shipment_costs_one_query(app, client, agent_key):
    token = token_for(app, create_dossier(client, agent_key)["number"])
    client.get(f"/t/{token}")
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(f"/t/{token}").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1, statements


def test_unknown_or_malformed_tokens_are_not_found(client):
    assert client.get("/t/not-a-real-token-at-all").status_code == 404
    assert client.get("/t/x").status_code == 404
    assert client.get("/t/not-a-real-token-at-all.json").status_code == 404


def test_tokens_are_unguessable_and_distinct(app, client, agent_key):
    a, b = create_dossier(client, agent_key), create_dossier(client, agent_key)
    ta, tb = token_for(app, a["number"]), token_for(app, b["number"])
    assert ta != tb and len(ta) >= 20 and a["number"] not in ta


def test_only_the_hash_of_a_token_is_stored(app, client, agent_key):
    created = create_dossier(client, agent_key)
    token = token_for(app, created["number"])
    with app.app_context():
        stored = list(db.session.scalars(select(TrackingLink.token_hash)))
    assert token not in stored and tracking.token_hash(token) in stored and len(token) >= 22  # 128 bits


def _close(app, number: str, days_ago: float) -> None:
    with app.app_context():
        dossier = db.session.scalar(select(Dossier).where(Dossier.number == number))
        dossier.closed_at = utcnow() - timedelta(days=days_ago)
        db.session.commit()


def test_a_link_expires_some_time_after_the_dossier_closes(app, client, agent_key):
    created = create_dossier(client, agent_key)
    token = token_for(app, created["number"])
    ttl = app.config["TRACKING_LINK_TTL_DAYS"]
    _close(app, created["number"], ttl - 1)
    assert client.get(f"/t/{token}").status_code == 200
    _close(app, created["number"], ttl + 1)
    assert client.get(f"/t/{token}").status_code == 404


def test_expired_and_unknown_look_exactly_the_same(app, client, agent_key):
    created = create_dossier(client, agent_key)
    token = token_for(app, created["number"])
    _close(app, created["number"], app.config["TRACKING_LINK_TTL_DAYS"] + 100)  # closed long ago
    unknown = "A" * len(token)
    for suffix in ("", ".json"):
        expired, missing = client.get(f"/t/{token}{suffix}"), client.get(f"/t/{unknown}{suffix}")
        assert expired.status_code == missing.status_code == 404
        assert expired.data == missing.data and expired.mimetype == missing.mimetype
        assert created["number"].encode() not in expired.data and token.encode() not in expired.data
        assert dict(expired.headers) == dict(missing.headers)


def test_the_rate_limit_answers_a_plain_429(app, client, agent_key, monkeypatch):
    created = create_dossier(client, agent_key)
    token = token_for(app, created["number"])
    monkeypatch.setitem(app.config, "TRACKING_RATE_LIMIT", "3/minute")
    answers = [client.get(path).status_code for path in
               (f"/t/{token}", f"/t/{token}.json", "/t/not-a-real-token-at-all", f"/t/{token}")]
    assert answers == [200, 200, 404, 429]  # wrong guesses count too
    limited = client.get(f"/t/{token}")
    assert limited.status_code == 429 and limited.mimetype == "text/html"
    assert "Quá nhiều yêu cầu" in limited.get_data(as_text=True) and created["number"] not in limited.get_data(
        as_text=True)
    assert int(limited.headers["Retry-After"]) > 0 and limited.headers["Cache-Control"] == "private, no-store"
    # Another client is not held back.
    other = client.get(f"/t/{token}", environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other.status_code == 200
