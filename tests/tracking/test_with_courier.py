"""The tracking page with the real courier package: a failed delivery rescheduled from the page,
the delivery's progress and its proof. The sandbox courier runs on the courier tests' clock."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from core.timeutil import as_utc
from tests.courier.conftest import (  # noqa: F401 - fixtures used by name
    clock,
    failure_rate,
    local,
    monday,
    ready_courier_dossier,
    run_outbox,
    sandbox,
    shipment,
)
from tests.factories import csrf_token
from tests.tracking.conftest import token_for

pytestmark = pytest.mark.smoke


def _failed_once(app, client, agent_key, officer_key, sandbox, clock, monday):  # noqa: F811
    number = ready_courier_dossier(client, agent_key, officer_key)["number"]
    clock.set(local(monday + timedelta(days=4), 12))  # Friday noon: pickup at 15:00
    run_outbox(app, clock.at)
    with app.app_context():
        failed = next(e for e in sandbox.planned_events(shipment(app, number).tracking_number)
                      if e.status.value == "delivery_failed")
    run_outbox(app, clock.set(failed.occurred_at + timedelta(minutes=1)))
    return number


@pytest.mark.parametrize("failure_rate", [1.0])
def test_a_failed_delivery_is_rescheduled_from_the_page(app, client, agent_key, officer_key,
                                                        sandbox, clock, monday):  # noqa: F811
    number = _failed_once(app, client, agent_key, officer_key, sandbox, clock, monday)
    token = token_for(app, number)
    page = client.get(f"/t/{token}").get_data(as_text=True)
    assert "Giao không thành công" in page and 'name="last4"' in page
    delivery = client.get(f"/t/{token}.json").get_json()["delivery"]
    assert delivery["status"]["code"] == "delivery_failed" and delivery["can_reschedule"] is True
    assert delivery["attempts"][0]["outcome"]["code"] == "failed" and delivery["attempts"][0]["reason"]
    offered = re.findall(r'name="slot"[^>]*value="([^"]+)"', page) or re.findall(r'value="([^"]+)"[^>]*name="slot"',
                                                                                  page)
    assert len(offered) == len(delivery["slots"]) >= 2
    chosen = offered[-1]

    wrong = client.post(f"/t/{token}/reschedule", data={"csrf_token": csrf_token(client, f"/t/{token}"),
                                                        "last4": "0000", "slot": chosen})
    assert wrong.status_code == 403 and "4 số cuối của số điện thoại không đúng" in wrong.get_data(as_text=True)
    assert as_utc(shipment(app, number).pickup_at) != datetime.fromisoformat(chosen)

    right = client.post(f"/t/{token}/reschedule", data={"csrf_token": csrf_token(client, f"/t/{token}"),
                                                        "last4": "5678", "slot": chosen})
    assert right.status_code == 303
    assert as_utc(shipment(app, number).pickup_at) == datetime.fromisoformat(chosen)
    assert "Đã đặt thời gian giao mới." in client.get(f"/t/{token}").get_data(as_text=True)


def test_the_delivery_with_its_proof(app, client, agent_key, officer_key, sandbox, clock, monday):  # noqa: F811
    number = ready_courier_dossier(client, agent_key, officer_key)["number"]
    run_outbox(app, clock.at)
    with app.app_context():
        plan = sandbox.planned_events(shipment(app, number).tracking_number)
    token = token_for(app, number)
    waiting = client.get(f"/t/{token}.json").get_json()
    assert waiting["delivery"]["status"]["code"] == "pending" and waiting["delivery"]["pickup_at"]
    at = clock.at
    while at < plan[-1].occurred_at + timedelta(minutes=10):  # the polls, a few minutes apart
        at = clock.set(at + timedelta(minutes=5))
        run_outbox(app, at)
    body = client.get(f"/t/{token}.json").get_json()
    assert body["dossier"]["status"]["code"] == "delivered"
    assert body["delivery"]["status"]["code"] == "delivered" and body["delivery"]["proof"]["delivered_at"]
    assert body["timeline"][-1] == {**body["timeline"][-1], "code": "delivered", "state": "current"}
    assert body["feedback"]["open"] is True
    page = client.get(f"/t/{token}").get_data(as_text=True)
    assert 'name="rating"' in page and "Xác nhận giao hàng" in page
    recipient = body["delivery"]["proof"]["recipient_name"]
    assert recipient.endswith(".") and "Nguyễn Văn An" not in page  # masked like the citizen's name
