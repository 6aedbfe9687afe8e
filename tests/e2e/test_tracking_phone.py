"""The citizen's tracking link in Chromium at phone (360×740) and tablet (800×1280) size: no sideways
scrolling, the timeline in view, the name masked; rescheduling a failed delivery and rating the service
with the phone's keyboard and thumb. Screenshots in tests/artifacts/track-*.png."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests import factories
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
from tests.e2e.conftest import SIZES
from tests.payments.conftest import PAID_PROCEDURE, card, pay
from tests.tracking.conftest import move, token_for
from tracking import cache as page_cache


@pytest.fixture(autouse=True)
def _fresh_rate_limit(app):
    app.extensions["tracking_limiter"].reset()
    page_cache.clear()


@pytest.fixture
def phone(browser):
    contexts = []

    def open_context(size: str = "phone"):
        width, height = SIZES[size]
        context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=size == "phone",
                                      has_touch=size == "phone")
        context.set_default_timeout(15000)
        contexts.append(context)
        return context.new_page()

    yield open_context
    for context in contexts:
        context.close()


def _no_sideways_scroll(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


def _failed_paid_courier_dossier(app, agent_key, officer_key, sandbox, clock, monday) -> str:  # noqa: F811
    client = app.test_client()
    number = factories.create_dossier(client, agent_key, procedure_code=PAID_PROCEDURE,
                                      delivery={"method": "courier", "address": "5 Lý Thái Tổ, Hoàn Kiếm, Hà Nội"}
                                      )["number"]
    assert pay(client, agent_key, number).status_code in (200, 201)
    assert card(client, agent_key, number).get_json()["status"] == "paid"
    move(client, officer_key, number, "accepted", "processing", "result_ready")
    clock.set(local(monday + timedelta(days=4), 12))  # Friday noon: pickup at 15:00
    run_outbox(app, clock.at)
    with app.app_context():
        failed = next(e for e in sandbox.planned_events(shipment(app, number).tracking_number)
                      if e.status.value == "delivery_failed")
    run_outbox(app, clock.set(failed.occurred_at + timedelta(minutes=1)))
    return number


@pytest.mark.parametrize("failure_rate", [1.0])
@pytest.mark.parametrize("size", ["phone", "tablet-portrait"])
def test_the_tracking_page_fits_and_reschedules(app, live_server, phone, shoot, agent_key, officer_key,
                                                sandbox, clock, monday, size):  # noqa: F811
    number = _failed_paid_courier_dossier(app, agent_key, officer_key, sandbox, clock, monday)
    page = phone(size)
    page.goto(f"{live_server}/t/{token_for(app, number)}")
    expect(page.get_by_role("heading", name=f"Hồ sơ {number}")).to_be_visible()
    timeline = page.locator("ol.timeline")
    expect(timeline).to_be_visible()
    expect(timeline.locator("li")).to_have_count(7)  # received … delivered
    expect(timeline.locator('li[aria-current="step"]')).to_contain_text("Có kết quả")
    expect(page.get_by_text("Nguyễn V. A.")).to_be_visible()
    assert "Nguyễn Văn An" not in page.content() and "0912345678" not in page.content()
    expect(page.get_by_text("Giao không thành công").first).to_be_visible()
    expect(page.get_by_text("Đã thanh toán")).to_be_visible()
    _no_sideways_scroll(page)
    shoot(page, f"track-failed-{size}")

    page.get_by_label("4 số cuối số điện thoại của bạn").fill("5678")
    page.locator('input[name="slot"]').last.check()
    page.get_by_role("button", name="Đặt thời gian này").click()
    expect(page.get_by_text("Đã đặt thời gian giao mới.")).to_be_visible()
    _no_sideways_scroll(page)
    shoot(page, f"track-rescheduled-{size}")


def test_rating_after_collection_on_a_phone(app, live_server, phone, shoot, agent_key, officer_key):
    client = app.test_client()
    number = factories.create_dossier(client, agent_key)["number"]
    move(client, officer_key, number, "accepted", "processing", "result_ready", "collected")
    page = phone("phone")
    page.goto(f"{live_server}/t/{token_for(app, number)}")
    expect(page.get_by_role("heading", name="Đánh giá dịch vụ")).to_be_visible()
    _no_sideways_scroll(page)
    page.get_by_label("5★").check()
    page.get_by_label("Nhận xét (không bắt buộc)").fill("Nhận kết quả nhanh, cán bộ nhiệt tình.")
    shoot(page, "track-rate-phone")
    page.get_by_role("button", name="Gửi đánh giá").click()
    expect(page.get_by_text("Bạn đã đánh giá dịch vụ 5/5.")).to_be_visible()
    expect(page.get_by_role("button", name="Gửi đánh giá")).to_have_count(0)


def test_english_on_a_phone(app, live_server, phone, shoot, agent_key):
    number = factories.create_dossier(app.test_client(), agent_key)["number"]
    page = phone("phone")
    page.goto(f"{live_server}/t/{token_for(app, number)}")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Progress")).to_be_visible()
    expect(page.get_by_text("On schedule")).to_be_visible()
    _no_sideways_scroll(page)
    shoot(page, "track-en-phone")


def test_a_wrong_token_is_a_plain_page(live_server, phone):
    page = phone("phone")
    response = page.goto(f"{live_server}/t/not-a-real-token-at-all")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Không tìm thấy")).to_be_visible()
    _no_sideways_scroll(page)
