"""The service worker: once the tablet page has loaded, it reloads with no connection, its modules
from the worker's cache and the draft from the tablet's storage."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e import test_new_dossier
from tests.e2e.test_new_dossier import CITIZEN, choose_procedure, next_step, sign_in

pytestmark = pytest.mark.smoke

agent, new_context = test_new_dossier.agent, test_new_dossier.new_context


def test_the_new_dossier_page_reloads_offline_with_its_draft(app, agent, live_server, new_context, shoot):
    context = new_context("tablet-portrait")
    page = context.new_page()
    sign_in(page, live_server)
    scope = page.evaluate("""Promise.race([navigator.serviceWorker.ready.then((r) => r.scope),
                                           new Promise((done) => setTimeout(() => done(null), 10000))])""")
    assert scope == f"{live_server}/portal/", "no service worker became active"
    choose_procedure(page)
    next_step(page)
    page.get_by_label("Họ và tên").fill(CITIZEN["name"])
    page.get_by_label("Số điện thoại di động").fill(CITIZEN["phone"])

    context.set_offline(True)
    assert page.evaluate("fetch('/api/v1/procedures').then(() => 'online', () => 'offline')") == "offline"
    response = page.reload()
    assert response is not None and response.from_service_worker
    expect(page.get_by_role("heading", name="Công dân", exact=True)).to_be_visible()  # the form is there
    expect(page.locator("#nd-offline")).to_be_visible()
    expect(page.get_by_label("Họ và tên")).to_have_value(CITIZEN["name"])  # and the draft intact
    expect(page.get_by_label("Số điện thoại di động")).to_have_value(CITIZEN["phone"])
    page.get_by_role("button", name="Quay lại").click()
    expect(page.locator("#nd-proc-name")).to_have_text("Đăng ký khai sinh")
    expect(page.get_by_label("Giấy chứng sinh")).to_be_checked()
    shoot(page, "new-offline-reloaded-tablet-portrait")

    context.set_offline(False)
    page.reload()
    expect(page.get_by_role("heading", name="Thủ tục", exact=True)).to_be_visible()
    expect(page.locator("#nd-offline")).to_be_hidden()
