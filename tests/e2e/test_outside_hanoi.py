"""An address outside Hanoi: the tablet page shows the server's refusal and registers nothing, unless the
agent registers it anyway with a reason (kept in the draft, sent as outside_hanoi_reason)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core.extensions import db
from dossiers.models import Dossier
from tests import factories
from tests.e2e.conftest import SIZES
from tests.e2e.test_accessibility import AXE
from tests.e2e.test_new_dossier import (
    CITIZEN,
    EMAIL,
    HOAN_KIEM,
    choose_procedure,
    count_dossiers,
    next_step,
    sign_in,
)

pytestmark = pytest.mark.smoke


@pytest.fixture
def agent(app):
    with app.app_context():
        factories.create_user("agent", email=EMAIL, org=factories.create_org())


@pytest.mark.parametrize("address", ["12 Lê Lợi, Phường Bến Nghé, Quận 1, TP Hồ Chí Minh",
                                     "Thị trấn Sa Pa, Huyện Sa Pa, Tỉnh Lào Cai"])
def test_an_address_outside_hanoi_is_refused_on_the_page(app, agent, live_server, browser, address):
    width, height = SIZES["phone"]
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(15000)
    page = context.new_page()
    sign_in(page, live_server)
    choose_procedure(page)
    next_step(page)
    page.get_by_label("Họ và tên").fill(CITIZEN["name"])
    page.get_by_label("Số căn cước công dân (CCCD)").fill(CITIZEN["cccd"])
    page.get_by_label("Số điện thoại di động").fill(CITIZEN["phone"])
    page.get_by_label("Địa chỉ", exact=True).fill(address)
    next_step(page)
    page.get_by_role("button", name="Theo địa chỉ").click()
    expect(page.locator("#nd-route-status")).to_contain_text("ngoài Hà Nội")
    expect(page.locator("#err-location")).to_contain_text("ngoài Hà Nội")
    expect(page.locator("#nd-route")).to_be_hidden()
    before = count_dossiers(app)
    next_step(page)  # the step does not let the agent go on without a routed point
    assert count_dossiers(app) == before
    context.close()


OVERRIDE = "Ngoài Hà Nội — vẫn tiếp nhận (ghi lý do)"
REASON = "Công dân tạm trú tại Hà Nội, nộp hộ"


def test_outside_hanoi_is_registered_with_a_reason_kept_across_a_reload(app, agent, live_server, browser, shoot):
    width, height = SIZES["tablet-portrait"]
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(15000)
    page = context.new_page()
    sign_in(page, live_server)
    choose_procedure(page)
    next_step(page)
    page.get_by_label("Họ và tên").fill(CITIZEN["name"])
    page.get_by_label("Số căn cước công dân (CCCD)").fill(CITIZEN["cccd"])
    page.get_by_label("Số điện thoại di động").fill(CITIZEN["phone"])
    page.get_by_label("Địa chỉ", exact=True).fill("12 Lê Lợi, Phường Bến Nghé, Quận 1, TP Hồ Chí Minh")
    next_step(page)
    page.get_by_role("button", name="Theo địa chỉ").click()
    expect(page.locator("#err-location")).to_contain_text("ngoài Hà Nội")
    override = page.get_by_role("button", name=OVERRIDE)
    expect(override).to_be_visible()
    expect(override).to_have_attribute("aria-expanded", "false")
    next_step(page)  # refused: the step waits
    expect(page.get_by_role("heading", name="Vị trí", exact=True)).to_be_visible()
    expect(page.locator("#err-location")).to_contain_text("ngoài Hà Nội")

    override.click()
    expect(override).to_have_attribute("aria-expanded", "true")
    reason = page.get_by_label("Lý do tiếp nhận hồ sơ ở ngoài Hà Nội")
    expect(reason).to_be_focused()
    reason.fill("ok")  # not a reason
    page.get_by_role("button", name="Tiếp nhận với lý do này").click()
    expect(page.locator("#err-outside_hanoi_reason")).to_contain_text("ít nhất 3 từ")
    expect(page.locator("#nd-route")).to_be_hidden()
    shoot(page, "new-3-outside-hanoi-tablet-portrait")
    assert [v["id"] for v in AXE.run(page).response["violations"]] == []
    next_step(page)
    expect(page.get_by_role("heading", name="Vị trí", exact=True)).to_be_visible()
    expect(reason).to_be_focused()

    with page.expect_request(lambda r: "/api/v1/routing" in r.url and "outside_hanoi_reason=" in r.url) as asked:
        reason.fill(REASON)
        page.get_by_role("button", name="Tiếp nhận với lý do này").click()
    assert "outside_hanoi_reason=C%C3%B4ng%20d%C3%A2n" in asked.value.url  # the reason goes with the routing
    expect(page.locator("#nd-route")).to_be_visible()
    expect(page.locator("#nd-route-name")).to_contain_text("(HN-")
    expect(page.locator("#err-location")).to_be_hidden()
    expect(page.locator("#nd-outside-status")).to_contain_text("ngoài Hà Nội")

    page.reload()  # the override and its reason are in the draft
    expect(page.get_by_role("heading", name="Vị trí", exact=True)).to_be_visible()
    expect(page.get_by_label("Lý do tiếp nhận hồ sơ ở ngoài Hà Nội")).to_have_value(REASON)
    expect(page.get_by_role("button", name=OVERRIDE)).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#nd-route")).to_be_visible()

    next_step(page)
    expect(page.get_by_role("heading", name="Giấy tờ", exact=True)).to_be_visible()
    next_step(page)
    next_step(page)
    summary = page.locator("#nd-summary")
    expect(summary).to_contain_text("Lý do tiếp nhận ngoài Hà Nội")
    expect(summary).to_contain_text(REASON)
    page.get_by_role("button", name="Xác nhận và gửi").click()
    expect(page.locator("#nd-done")).to_be_visible()
    number = page.locator("#nd-done-number").inner_text()
    with app.app_context():
        dossier = db.session.scalars(select(Dossier).where(Dossier.number == number)).one()
        assert dossier.routing["outside_hanoi"] is True
        assert dossier.routing["outside_hanoi_reason"] == REASON
        assert dossier.location_source == "address"
    context.close()


def test_a_new_location_drops_the_override(app, agent, live_server, browser):
    width, height = SIZES["phone"]
    context = browser.new_context(viewport={"width": width, "height": height}, permissions=["geolocation"],
                                  geolocation=HOAN_KIEM)
    context.set_default_timeout(15000)
    page = context.new_page()
    sign_in(page, live_server)
    choose_procedure(page)
    next_step(page)
    page.get_by_label("Họ và tên").fill(CITIZEN["name"])
    page.get_by_label("Số căn cước công dân (CCCD)").fill(CITIZEN["cccd"])
    page.get_by_label("Số điện thoại di động").fill(CITIZEN["phone"])
    page.get_by_label("Địa chỉ", exact=True).fill("Thị trấn Sa Pa, Huyện Sa Pa, Tỉnh Lào Cai")
    next_step(page)
    page.get_by_role("button", name="Theo địa chỉ").click()
    expect(page.locator("#err-location")).to_contain_text("ngoài Hà Nội")
    page.reload()  # still refused after a reload, and the page says why
    expect(page.locator("#err-location")).to_contain_text("vẫn tiếp nhận và ghi lý do")
    page.get_by_role("button", name=OVERRIDE).click()
    page.get_by_label("Lý do tiếp nhận hồ sơ ở ngoài Hà Nội").fill(REASON)
    page.get_by_role("button", name="Tiếp nhận với lý do này").click()
    expect(page.locator("#nd-route")).to_be_visible()
    page.get_by_role("button", name="Dùng GPS").click()  # the citizen is in Hanoi after all
    expect(page.locator("#nd-loc")).to_contain_text("Vị trí GPS: 21,0259, 105,8537")
    expect(page.locator("#nd-outside")).to_be_hidden()
    expect(page.locator("#nd-route")).to_be_visible()
    assert page.evaluate("JSON.parse(localStorage.getItem('draft:' + JSON.parse("
                         "document.getElementById('nd-config').textContent).user)).outside") is None
    context.close()


def test_an_address_the_server_locates_outside_hanoi_gets_the_override_at_sending(app, agent, live_server, browser):
    """The tablet could not locate the address (no answer): the server does when the dossier is sent."""
    width, height = SIZES["tablet-portrait"]
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(15000)
    page = context.new_page()
    page.route("**/api/v1/geocode*", lambda route: route.abort())
    sign_in(page, live_server)
    choose_procedure(page)
    next_step(page)
    page.get_by_label("Họ và tên").fill(CITIZEN["name"])
    page.get_by_label("Số căn cước công dân (CCCD)").fill(CITIZEN["cccd"])
    page.get_by_label("Số điện thoại di động").fill(CITIZEN["phone"])
    page.get_by_label("Địa chỉ", exact=True).fill("Thị trấn Sa Pa, Huyện Sa Pa, Tỉnh Lào Cai")
    next_step(page)
    page.get_by_role("button", name="Theo địa chỉ").click()
    expect(page.locator("#nd-loc")).to_contain_text("khi gửi hồ sơ")
    for _ in range(3):
        next_step(page)
    page.get_by_role("button", name="Xác nhận và gửi").click()
    expect(page.get_by_role("heading", name="Vị trí", exact=True)).to_be_visible()  # back where it is put right
    expect(page.locator("#err-location")).to_contain_text("ngoài Hà Nội")
    assert count_dossiers(app) == 0
    page.get_by_role("button", name=OVERRIDE).click()
    page.get_by_label("Lý do tiếp nhận hồ sơ ở ngoài Hà Nội").fill(REASON)
    page.get_by_role("button", name="Tiếp nhận với lý do này").click()
    expect(page.locator("#err-location")).to_be_hidden()
    for _ in range(3):
        next_step(page)
    expect(page.locator("#nd-summary")).to_contain_text(REASON)
    page.get_by_role("button", name="Xác nhận và gửi").click()
    expect(page.locator("#nd-done")).to_be_visible()
    with app.app_context():
        dossier = db.session.scalars(select(Dossier)).one()
        assert dossier.routing["outside_hanoi_reason"] == REASON
    context.close()
