"""Finance staff work the exception queue in Chromium: open an item, try to resolve it without a reason
(the error is shown, nothing changes), then mark it explained and see it gone from the open list."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.extensions import db
from finance.models import ExceptionKind, FinanceException
from tests import factories
from tests.finance.factories_queue import raise_item

pytestmark = pytest.mark.smoke
EMAIL = "ketoan.e2e@test.vn"


def test_finance_resolves_an_item_with_a_reason(app, browser, live_server, clock, shoot):
    with app.app_context():
        factories.create_user(role="finance", email=EMAIL)
    item = raise_item(app, ExceptionKind.BANK_UNMATCHED, amount_vnd=250_000, age_days=2,
                      theirs={"bank_line": {"reference": "FT26067123", "amount_vnd": 250_000,
                                            "content": "chuyen tien ho so"}})
    other = raise_item(app, ExceptionKind.CASH_OVERDUE, amount_vnd=90_000, age_days=5)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/finance/exceptions")
        page.get_by_label("Email").fill(EMAIL)
        page.get_by_label("Mật khẩu").fill("correct horse battery staple")
        page.get_by_role("button", name="Đăng nhập").click()
        expect(page.get_by_role("heading", name="Hàng đợi chênh lệch")).to_be_visible()
        queue = page.locator("#queue")
        expect(queue.get_by_role("link", name="Khoản ghi có ngân hàng chưa rõ nguồn")).to_be_visible()
        expect(queue.locator(f'a[href="/finance/exceptions/{other}"]').first).to_be_visible()

        queue.get_by_role("link", name="Khoản ghi có ngân hàng chưa rõ nguồn").click()
        expect(page.get_by_role("heading", name=f"Mục chênh lệch số {item}: Khoản ghi có ngân hàng chưa rõ nguồn")) \
            .to_be_visible()
        expect(page.get_by_text("FT26067123")).to_be_visible()
        page.get_by_role("button", name="Ghi nhận giải trình").click()
        expect(page.locator("#action-error")).to_have_text("Hãy ghi lý do của thao tác này.")
        expect(page.locator("#explain-reason-error")).to_have_text("Hãy ghi lý do của thao tác này.")
        expect(page.locator("#item-status")).to_have_text("Mở")
        with app.app_context():
            assert db.session.get(FinanceException, item).status.value == "open"

        page.locator("#explain-reason").fill("Người dân chuyển nhầm, ngân hàng đã hoàn lại ngày 09/03")
        page.get_by_role("button", name="Ghi nhận giải trình").click()
        expect(page.locator("#item-status")).to_have_text("Đã xử lý")
        history = page.locator("#history")
        expect(history).to_contain_text("Người dân chuyển nhầm, ngân hàng đã hoàn lại ngày 09/03")
        expect(history).to_contain_text(f"user:{EMAIL}")
        shoot(page, "finance-queue-item-resolved")

        page.get_by_role("link", name="← Hàng đợi chênh lệch").click()
        expect(page.locator("#queue")).to_be_visible()
        expect(page.locator(f'#queue a[href="/finance/exceptions/{item}"]')).to_have_count(0)
        expect(page.locator(f'#queue a[href="/finance/exceptions/{other}"]').first).to_be_visible()
    finally:
        context.close()
