"""Finance records a cash handover in Chromium and sees the point's holding drop; the agent's home page banner."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import SIZES
from tests.finance.factories_cash import collect_cash, create_point, hanoi, point_agent

PASSWORD = "correct horse battery staple"


@pytest.fixture
def held(app, client, clock):
    """Two cash payments at the Hoàn Kiếm post office, the first already overdue."""
    with app.app_context():
        org = factories.create_org()
        point = create_point(org, "BC-HK", "Bưu cục Hoàn Kiếm")
        _user, key = point_agent(org, point, "hoankiem@test.vn")
        factories.create_user(role="finance", email="taichinh@test.vn")
    collect_cash(client, key, clock, hanoi(2026, 3, 5))  # Thursday: due by Monday 9/3
    collect_cash(client, key, clock, hanoi(2026, 3, 10))
    clock.set(hanoi(2026, 3, 10, 14))


def _signed_in(browser, live_server, email: str, size: str = "tablet-landscape"):
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(15000)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state("networkidle")
    return context, page


def test_finance_records_a_handover_and_the_points_holding_drops(app, held, browser, live_server, shoot):
    context, page = _signed_in(browser, live_server, "taichinh@test.vn")
    page.goto(f"{live_server}/finance/cash")
    row = page.locator("#cash-points tr[data-unit='VNPOST-HN/BC-HK']")
    expect(row.locator(".held")).to_contain_text("400.000")
    expect(row).to_contain_text("05/03/2026")  # held since
    expect(row.locator(".age")).to_have_text("3 ngày làm việc")  # Fri 6, Mon 9, Tue 10
    expect(row.locator(".tag-bad")).to_be_visible()  # overdue
    violations = Axe().run(page).response["violations"]
    assert violations == [], [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations]
    shoot(page, "finance-cash-before")

    row.locator("a.record-handover").click()  # "record a handover" for this point: the form is chosen for it
    expect(page.locator("#unit")).to_have_value("VNPOST-HN/BC-HK")
    page.locator("#amount").fill("999.999")
    page.locator("#reference").fill("FT26069123456")
    page.locator("#received_by").fill("Kế toán Trần Thị Bình")
    page.locator("form.fin-form button.primary").click()
    expect(page.locator("#amount-error")).to_contain_text("Vượt số tiền mặt điểm đang giữ")  # nothing recorded
    expect(page.locator("#cash-history")).to_have_count(0)

    page.locator("#amount").fill("250.000")
    page.locator("form.fin-form button.primary").click()
    expect(page.locator("#cash-history")).to_contain_text("FT26069123456")
    row = page.locator("#cash-points tr[data-unit='VNPOST-HN/BC-HK']")
    expect(row.locator(".held")).to_contain_text("150.000")
    expect(row).to_contain_text("10/03/2026")  # the oldest cash left is today's
    expect(row.locator(".tag-bad")).to_have_count(0)
    shoot(page, "finance-cash-after")
    context.close()

    agent_context, home = _signed_in(browser, live_server, "hoankiem@test.vn", "tablet-portrait")
    expect(home.locator(".cash-banner")).to_contain_text("150.000")
    agent_context.close()
