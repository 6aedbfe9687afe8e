"""The tracking page as JSON for apps: the same data, masked, in a stable shape."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.factories import create_dossier
from tests.tracking.conftest import move, token_for

pytestmark = pytest.mark.smoke


def test_the_json_variant_has_the_documented_shape(app, client, agent_key, officer_key):
    created = create_dossier(client, agent_key)
    move(client, officer_key, created["number"], "accepted")
    response = client.get(f"/t/{token_for(app, created['number'])}.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert list(body) == ["schema", "language", "dossier", "timeline", "service_point", "payment", "delivery",
                          "feedback"]
    assert body["schema"] == "tracking/v1" and body["language"] == "vi"
    dossier = body["dossier"]
    assert dossier["number"] == created["number"]
    assert dossier["status"] == {"code": "accepted", "label": "Đã nhận xử lý"}
    assert dossier["citizen"] == {"name": "Nguyễn V. A.", "phone": "091****678"}
    assert dossier["procedure"] == {"code": "HN-HT-201", "name": "Đăng ký khai sinh"}
    assert dossier["delivery_method"]["code"] == "collect"
    assert datetime.fromisoformat(dossier["deadline_at"]).utcoffset().total_seconds() == 7 * 3600
    assert [(s["code"], s["state"]) for s in body["timeline"]] == [
        ("received", "done"), ("routed", "done"), ("accepted", "current"), ("processing", "ahead"),
        ("result_ready", "ahead"), ("collected", "ahead")]
    assert body["timeline"][4]["expected_at"] == dossier["deadline_at"]  # the result is due by the deadline
    assert body["timeline"][0]["at"] is not None and body["timeline"][3]["at"] is None
    assert set(body["service_point"]) == {"code", "name", "address", "opening_hours", "lat", "lon",
                                          "opening_hours_text"}
    assert "Thứ 2" in body["service_point"]["opening_hours_text"]
    assert body["payment"] is None and body["delivery"] is None
    assert body["feedback"] == {"open": False, "given": False, "rating": None}
    text = response.get_data(as_text=True)
    assert "Nguyễn Văn An" not in text and "912345678" not in text and "001090012345" not in text


def test_labels_follow_the_language_codes_do_not(app, client, agent_key):
    created = create_dossier(client, agent_key)
    token = token_for(app, created["number"])
    vi, en = client.get(f"/t/{token}.json").get_json(), client.get(f"/t/{token}.json?lang=en").get_json()
    assert en["language"] == "en" and en["dossier"]["status"]["code"] == vi["dossier"]["status"]["code"]
    assert en["dossier"]["status"]["label"] == "Routed" and vi["dossier"]["status"]["label"] != "Routed"
    assert [s["code"] for s in en["timeline"]] == [s["code"] for s in vi["timeline"]]
