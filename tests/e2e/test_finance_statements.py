"""Finance previews an agent point's statement in Chromium, follows a figure to its ledger lines, issues it,
downloads its PDF and XLSX, and is refused a second issue of the same period."""

from __future__ import annotations

import io

import pytest
from axe_playwright_python.sync_playwright import Axe
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import SIZES
from tests.finance.factories_statements import hanoi, pay_cash, points, refund  # noqa: F401

PASSWORD = "correct horse battery staple"


@pytest.fixture
def month(app, client, clock, points):  # noqa: F811
    clock.set(hanoi(2026, 3, 2))
    first = pay_cash(client, points["hk"])
    pay_cash(client, points["hk"])
    pay_cash(client, points["bd"])
    clock.set(hanoi(2026, 3, 4))
    refund(client, points["finance"], first, 20_000)
    clock.set(hanoi(2026, 3, 10, 14))
    with app.app_context():
        factories.create_user(role="finance", email="taichinh@test.vn")
    return first


def test_finance_previews_drills_down_issues_and_downloads_a_statement(app, month, browser, live_server, shoot):
    width, height = SIZES["tablet-landscape"]
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    context.set_default_timeout(15000)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill("taichinh@test.vn")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state("networkidle")

    page.goto(f"{live_server}/finance/statements")
    page.locator("#s-period").select_option("custom")
    page.locator("#s-from").fill("2026-03-01")
    page.locator("#s-to").fill("2026-03-09")
    page.locator("#s-point").select_option("BC-HK")
    page.locator("#statement-filters button.primary").click()
    expect(page.locator("#live-title")).to_contain_text("Bưu cục Hoàn Kiếm (BC-HK)")
    cash = page.locator("#statement-figures tr[data-figure='cash'] td[data-part='total']")
    expect(cash).to_contain_text("440.000")  # two cash payments of 220.000 ₫
    expect(page.locator("#statement-figures tr[data-figure='refunds'] td[data-part='total']")).to_contain_text(
        "20.000")
    violations = Axe().run(page).response["violations"]
    assert violations == [], [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations]
    shoot(page, "finance-statement-preview")

    page.locator("#statement-figures tr[data-figure='cash'] a").click()  # the lines behind the figure
    expect(page.locator("#drill-total")).to_have_text("3")  # two payments and the refund
    expect(page.locator("#drill-lines")).to_contain_text(month)
    expect(page.locator("#drill-lines")).to_contain_text("cash_at_agents")
    page.go_back()

    page.locator("#issue-form button").click()
    expect(page.locator("h1")).to_contain_text("BK-000001")
    expect(page.locator("#statement-genuine")).to_be_visible()
    expect(page.locator("#statement-figures tr[data-figure='cash'] td[data-part='total']")).to_contain_text("440.000")
    shoot(page, "finance-statement-issued")
    with page.expect_download() as pdf:
        page.locator("#download-pdf").click()
    assert pdf.value.suggested_filename == "BK-000001.pdf"
    assert open(pdf.value.path(), "rb").read(5) == b"%PDF-"
    with page.expect_download() as xlsx:
        page.locator("#download-xlsx").click()
    book = load_workbook(io.BytesIO(open(xlsx.value.path(), "rb").read()))
    assert len(list(book.worksheets[1].iter_rows(values_only=True))) == 4  # the header and three lines

    page.go_back()
    page.goto(f"{live_server}/finance/statements?period=custom&from=2026-03-01&to=2026-03-09&agent_point=BC-HK")
    expect(page.locator("#statement-frozen")).to_contain_text("BK-000001")
    page.locator("#issue-form button").click()
    expect(page.locator("#statement-error")).to_contain_text("Kỳ này đã có bảng kê phát hành (BK-000001)")
    context.close()
