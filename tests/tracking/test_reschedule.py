"""After a failed delivery the citizen picks a new slot, confirming the last 4 digits of the phone.

Against a stand-in for courier.service with the contract's shapes (tests/tracking/conftest.py);
tests/tracking/test_with_courier.py runs the same path against the real courier package.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.errors import InvalidInput
from core.messages import Text
from core.timeutil import utcnow
from tests.factories import create_dossier, csrf_token
from tests.tracking.conftest import dossier_id, move, token_for

COURIER = {"method": "courier", "address": "12 Hàng Bài, Hoàn Kiếm, Hà Nội"}


def _failed_delivery(now):
    slots = [{"start": now + timedelta(days=1, hours=h), "end": now + timedelta(days=1, hours=h + 4)} for h in (1, 5)]
    return {"status": "delivery_failed", "status_label": "Giao không thành công", "carrier": "Bưu điện Hà Nội",
            "tracking_number": "EV123456789VN", "pickup_at": now - timedelta(hours=6),
            "estimated_delivery": now + timedelta(days=1),
            "attempts": [{"at": now - timedelta(hours=1), "outcome": "failed", "reason": "Không có người nhận"}],
            "max_attempts": 3, "proof": None, "can_reschedule": True, "slots": slots}


@pytest.fixture
def failed(app, client, agent_key, officer_key, courier_stub):
    created = create_dossier(client, agent_key, delivery=COURIER)
    move(client, officer_key, created["number"], "accepted", "processing", "result_ready")
    courier_stub.summary = _failed_delivery(utcnow())
    return created, token_for(app, created["number"]), courier_stub


def test_the_form_asks_the_digits_and_offers_the_slots(client, failed):
    _, token, stub = failed
    page = client.get(f"/t/{token}").get_data(as_text=True)
    assert f'action="/t/{token}/reschedule"' in page and 'name="last4"' in page
    assert page.count('name="slot"') == 2
    assert "Giao không thành công" in page and "Không có người nhận" in page and "EV123456789VN" in page
    body = client.get(f"/t/{token}.json").get_json()["delivery"]
    assert body["status"] == {"code": "delivery_failed", "label": "Giao không thành công"}
    assert body["can_reschedule"] is True and len(body["slots"]) == 2
    assert body["attempts"][0]["outcome"] == {"code": "failed", "label": "Không giao được"}


def test_right_digits_book_the_slot(app, client, failed):
    created, token, stub = failed
    slot = stub.summary["slots"][1]["start"]
    response = client.post(f"/t/{token}/reschedule", data={
        "csrf_token": csrf_token(client, f"/t/{token}"), "last4": "5678", "slot": slot.isoformat()})
    assert response.status_code == 303 and response.headers["Location"].endswith("#delivery")
    assert stub.calls == [(dossier_id(app, created["number"]), "5678", slot)]


def test_wrong_digits_show_the_couriers_message(client, failed):
    _, token, stub = failed
    stub.error = InvalidInput(Text("Bốn số cuối của số điện thoại không đúng.", "The last 4 digits do not match."))
    data = {"csrf_token": csrf_token(client, f"/t/{token}"), "last4": "0000",
            "slot": stub.summary["slots"][0]["start"].isoformat()}
    response = client.post(f"/t/{token}/reschedule", data=data)
    assert response.status_code == 422
    assert "Bốn số cuối của số điện thoại không đúng." in response.get_data(as_text=True)
    english = client.post(f"/t/{token}/reschedule?lang=en", data=data)
    assert "The last 4 digits do not match." in english.get_data(as_text=True)


def test_the_form_itself_checks_four_digits_and_an_offered_slot(client, failed):
    _, token, stub = failed
    csrf = csrf_token(client, f"/t/{token}")
    slot = stub.summary["slots"][0]["start"].isoformat()
    assert client.post(f"/t/{token}/reschedule", data={"csrf_token": csrf, "last4": "12a4", "slot": slot}
                       ).status_code == 422
    assert client.post(f"/t/{token}/reschedule", data={"csrf_token": csrf, "last4": "1234",
                                                       "slot": "2030-01-01T00:00:00+00:00"}).status_code == 422
    assert stub.calls == []


def test_no_form_when_nothing_can_be_rescheduled(client, failed):
    _, token, stub = failed
    stub.summary = {**stub.summary, "status": "in_transit", "can_reschedule": False, "attempts": [], "slots": []}
    assert 'name="last4"' not in client.get(f"/t/{token}").get_data(as_text=True)
    refused = client.post(f"/t/{token}/reschedule", data={"csrf_token": csrf_token(client), "last4": "5678",
                                                         "slot": "2030-01-01T00:00:00+00:00"})
    assert refused.status_code == 409 and stub.calls == []


def test_proof_of_delivery_is_shown_masked(app, client, agent_key, officer_key, courier_stub):
    created = create_dossier(client, agent_key, delivery=COURIER)
    move(client, officer_key, created["number"], "accepted", "processing", "result_ready", "out_for_delivery",
         "delivered")
    now = utcnow()
    courier_stub.summary = {**_failed_delivery(now), "status": "delivered", "status_label": "Đã giao",
                            "can_reschedule": False, "slots": [],
                            "proof": {"recipient_name": "Trần Thị Bình", "delivered_at": now,
                                      "signature_ref": "sig-0001", "photo_ref": None}}
    token = token_for(app, created["number"])
    page = client.get(f"/t/{token}").get_data(as_text=True)
    assert "Trần T. B." in page and "Trần Thị Bình" not in page and "sig-0001" in page
    proof = client.get(f"/t/{token}.json").get_json()["delivery"]["proof"]
    assert proof["recipient_name"] == "Trần T. B." and proof["signature_ref"] == "sig-0001"
