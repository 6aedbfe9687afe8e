"""In English, the tablet finds procedures by their English names and shows the English checklist."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from dossiers.schemas import CATALOGUE_LIMIT
from tests import factories
from tests.e2e.conftest import SIZES

pytestmark = pytest.mark.smoke
EMAIL = "lan@test.vn"


def test_birth_registration_in_english(app, live_server, browser):
    with app.app_context():
        factories.create_user("agent", email=EMAIL, org=factories.create_org())
    width, height = SIZES["tablet-portrait"]
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(15000)
    page = context.new_page()
    page.goto(f"{live_server}/portal/new?lang=en")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/portal/new"))
    page.get_by_label("Search for a procedure").fill("birth registration")
    name = page.locator("small", has_text=re.compile("^Birth registration$"))  # the English name under the Vietnamese
    page.locator("#nd-results .result").filter(has=name).click()
    expect(page.locator("#nd-proc-name")).to_have_text("Birth registration")
    expect(page.locator("#nd-docs")).to_contain_text("Birth certificate from the hospital")
    expect(page.locator("#nd-docs")).not_to_contain_text("Giấy chứng sinh")
    context.close()


def test_every_procedure_shows_its_english_checklist_and_fee_note(app, live_server, browser):
    """A procedure that had no English checklist before (the notary office's) now has one."""
    with app.app_context():
        factories.create_user("agent", email=EMAIL, org=factories.create_org())
    context = browser.new_context(viewport={"width": 800, "height": 1280})
    context.set_default_timeout(15000)
    page = context.new_page()
    page.goto(f"{live_server}/portal/new?lang=en")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/portal/new"))
    page.get_by_label("Search for a procedure").fill("HN-TP-002")
    page.locator("#nd-results .result").first.click()
    expect(page.locator("#nd-proc-name")).to_have_text("Registration of operation of a notary office")
    expect(page.locator("#nd-docs")).to_contain_text("Decision permitting the establishment of the notary office")
    expect(page.locator("#nd-docs")).not_to_contain_text("Văn phòng công chứng")
    expect(page.locator("#nd-proc-meta")).to_contain_text("(Circular 257/2016/TT-BTC)")
    context.close()


def test_an_old_copy_of_the_catalogue_is_dropped_for_one_with_vietnamese_fee_notes(app, live_server, browser):
    with app.app_context():
        factories.create_user("agent", email=EMAIL, org=factories.create_org())
    context = browser.new_context(viewport={"width": 800, "height": 1280})
    context.set_default_timeout(15000)
    page = context.new_page()
    page.goto(f"{live_server}/portal/new")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Mật khẩu").fill("correct horse battery staple")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(re.compile(r"/portal/new"))
    old = {"at": 0, "items": [{"code": "HN-TP-001", "name": "Cấp Phiếu lý lịch tư pháp", "level": "province",
                               "sector": "Lý lịch tư pháp", "fee_vnd": 200000, "fee_note": "Circular 244/2016/TT-BTC",
                               "processing_days": 10, "required_documents": ["Tờ khai"]}]}
    page.evaluate("(old) => { localStorage.clear(); localStorage.setItem('catalogue:v2:vi', JSON.stringify(old)); }",
                  old)
    page.reload()
    page.wait_for_function("() => localStorage.getItem('catalogue:v3:vi') !== null")
    assert page.evaluate("localStorage.getItem('catalogue:v2:vi')") is None
    with app.app_context():  # the copy holds the whole catalogue, not its first page
        from dossiers import catalogue

        every = len(catalogue.search("", limit=CATALOGUE_LIMIT))
    assert page.evaluate("JSON.parse(localStorage.getItem('catalogue:v3:vi')).items.length") == every
    context.set_offline(True)  # the search falls back to the new copy, which has the Vietnamese notes
    page.get_by_label("Tìm thủ tục").fill("ly lich tu phap")
    expect(page.locator("#nd-search-status")).to_contain_text("Mất kết nối")
    page.locator("#nd-results .result").first.click()
    expect(page.locator("#nd-proc-meta")).to_contain_text("Thông tư 244/2016/TT-BTC")
    context.set_offline(False)
    context.close()
