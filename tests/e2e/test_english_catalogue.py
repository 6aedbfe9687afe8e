"""In English, the tablet finds procedures by their English names and shows the English checklist."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

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
