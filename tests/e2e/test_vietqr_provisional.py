"""VietQR at the counter: the citizen shows the bank's confirmation; the page says it is provisional,
and flips to paid when the statement confirms it (no reload)."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.e2e.test_payment_step import (  # noqa: F401 - pytest fixtures used by name
    _statement,
    agent_key,
    expect_paid_without_reload,
    open_pay_page,
    payment_row,
    register,
)
from tests.factories import auth

pytestmark = pytest.mark.smoke


def test_the_bank_confirmation_is_provisional_until_the_statement(app, register, open_pay_page):  # noqa: F811
    number = register()
    page = open_pay_page(number)
    page.get_by_role("button", name=re.compile("^VietQR")).click()
    expect(page.locator("#pay-status")).to_have_text("Đang chờ chuyển khoản…")
    reference = page.locator("#pay-qr-reference").inner_text()
    page.get_by_role("button", name="Tạm ghi nhận").click()
    expect(page.locator("#pay-error")).to_have_text("Nhập mã giao dịch ghi trên xác nhận của ngân hàng.")
    page.get_by_label("Mã giao dịch trên xác nhận của ngân hàng").fill("FT26328999")
    page.get_by_role("button", name="Tạm ghi nhận").click()
    expect(page.locator("#pay-status")).to_contain_text("Tạm ghi nhận")
    expect(page.locator("#pay-status")).to_contain_text("FT26328999")
    expect(page.locator("#pay-status")).to_contain_text("chưa tính là đã thanh toán")
    expect(page.locator("#pay-done")).to_be_hidden()
    assert payment_row(app, number)[:2] == ("awaiting", "vietqr")  # not money received

    with app.app_context():
        finance = factories.user_key(factories.create_user(role="finance", email="taichinh@test.vn"))
    imported = app.test_client().post(
        "/api/v1/finance/bank-statements", headers=auth(finance),
        data={"file": (io.BytesIO(_statement(reference, 200_000)), "saoke.csv")}, content_type="multipart/form-data")
    assert imported.get_json()["summary"]["confirmed_provisional"] == 1
    expect(page.locator("#pay-done")).to_be_visible(timeout=10_000)
    expect_paid_without_reload(page, "chuyển khoản (VietQR)")
