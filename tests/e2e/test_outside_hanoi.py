"""An address outside Hanoi: the tablet page shows the server's refusal and registers nothing."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import SIZES
from tests.e2e.test_new_dossier import CITIZEN, EMAIL, choose_procedure, count_dossiers, next_step, sign_in

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
