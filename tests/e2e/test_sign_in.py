"""An agent signs in on a tablet, sees today's dossiers, switches language, signs out."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import SIZES
from tests.factories import create_dossier

pytestmark = pytest.mark.smoke


@pytest.mark.parametrize("size", list(SIZES))
def test_sign_in_home_language_and_sign_out(app, client, agent_key, browser, live_server, shoot, size):
    with app.app_context():
        factories.create_user("agent", email="lan@test.vn", org=factories.create_org())
    created = create_dossier(client, agent_key)
    width, height = SIZES[size]
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{live_server}/portal")
    assert page.url.startswith(f"{live_server}/login")
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
    shoot(page, f"sign-in-{size}")
    page.get_by_label("Email").fill("lan@test.vn")
    page.get_by_label("Mật khẩu").fill("wrong")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_text("Email hoặc mật khẩu không đúng.")).to_be_visible()
    page.get_by_label("Mật khẩu").fill("correct horse battery staple")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{live_server}/portal")
    expect(page.get_by_text(created["number"])).to_be_visible()
    expect(page.get_by_text("001******345")).to_be_visible()
    # Every touch target is at least 44 px tall.
    for selector in ("input#q", "select#status", "input#day", "button.primary"):
        assert page.locator(selector).bounding_box()["height"] >= 44, selector
    shoot(page, f"home-vi-{size}")
    page.get_by_role("link", name="English").click()
    page.wait_for_url(f"{live_server}/portal?lang=en")
    expect(page.get_by_role("heading", name="Dossiers")).to_be_visible()
    shoot(page, f"home-en-{size}")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server}/login")
    page.close()
