"""/dev/sms and /dev/sms.json: the dev outbox for admins, and only while it is the provider."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from app import create_app
from core.extensions import api
from core.masking import mask_phone
from core.timeutil import utcnow
from tests import factories
from tests.factories import auth
from tests.notify.conftest import run_outbox, sms_rows

pytestmark = pytest.mark.smoke


def test_the_dev_outbox_shows_the_messages_newest_first(app, client, agent_key, admin_key):
    first = factories.create_dossier(client, agent_key)
    second = factories.create_dossier(client, agent_key)
    run_outbox(app)
    page = client.get("/dev/sms", headers=auth(admin_key))
    assert page.status_code == 200 and page.headers["Cache-Control"] == "private, no-store"
    html = page.get_data(as_text=True)
    assert html.index(second["number"]) < html.index(first["number"])
    masked = mask_phone("+84912345678")
    assert masked in html and "+84912345678" not in html and "received" in html and "sending" in html
    rows = sms_rows(app)
    assert f"{rows[0].septets}/160" in html

    data = client.get("/dev/sms.json", headers=auth(admin_key)).get_json()["messages"]
    assert [m["id"] for m in data] == [rows[1].id, rows[0].id]
    newest = data[0]
    assert newest["body"] == rows[1].body and second["number"] in newest["body"]
    assert (newest["phone"], newest["event"], newest["status"]) == (masked, "received", "sending")
    assert newest["septets"] == newest["characters"] == len(rows[1].body)
    assert newest["link"] and newest["body"].endswith(newest["link"])
    assert client.get(urlsplit(newest["link"]).path).status_code == 200

    run_outbox(app, now=utcnow().replace(year=utcnow().year + 1))
    assert client.get("/dev/sms.json", headers=auth(admin_key)).get_json()["messages"][0]["status"] == "delivered"


def test_the_dev_outbox_is_for_admins(client, agent_key, officer_key):
    assert client.get("/dev/sms.json", headers=auth(agent_key)).status_code == 403
    assert client.get("/dev/sms", headers=auth(officer_key)).status_code == 403
    anonymous = client.get("/dev/sms")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert client.get("/dev/sms.json").status_code == 302


@pytest.fixture
def http_app(tmp_path):
    """A second app whose SMS go through the HTTP provider (the shared Api object restored afterwards)."""
    saved = dict(api.__dict__)
    try:
        yield create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'unused.db'}", "TESTING": True,
                          "OUTBOX_THREAD": False, "SMS_PROVIDER": "http", "SMS_HTTP_URL": "http://127.0.0.1:9/sms"})
    finally:
        api.__dict__.clear()
        api.__dict__.update(saved)


def test_the_dev_outbox_does_not_exist_with_a_real_provider(app, http_app, admin_key):
    rules = {r.rule for r in http_app.url_map.iter_rules()}
    assert "/dev/sms" not in rules and "/dev/sms.json" not in rules
    assert "/api/v1/notify/receipts" in rules
    assert {"/dev/sms", "/dev/sms.json"} <= {r.rule for r in app.url_map.iter_rules()}
    assert http_app.test_client().get("/dev/sms").status_code == 404
    assert http_app.test_client().get("/dev/sms.json").status_code == 404
