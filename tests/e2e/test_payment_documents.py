"""The tablet's payment step lists both documents of a payment: the state fee e-receipt and the
agent's service e-invoice (issue 14.4), each with its link and PDF."""

from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import expect

from payments import service as payments
from tests.e2e.test_payment_step import (  # noqa: F401 - the fixtures of the payment step
    EMAIL,
    NBSP,
    agent_key,
    open_pay_page,
    register,
)


def test_cash_with_a_service_fee_gives_a_fee_receipt_and_a_service_invoice(app, register, open_pay_page,  # noqa: F811
                                                                            live_server, shoot):
    with app.app_context():
        payments.ensure_fee_rule("VNPOST-HN", {"effective_from": date(2020, 1, 1), "flat_vnd": 20_000}, "test")
    number = register()
    page = open_pay_page(number)
    page.get_by_role("button", name=re.compile("^Tiền mặt")).click()
    expect(page.get_by_text(f"Đã nhận đủ 220.000{NBSP}₫ tiền mặt?")).to_be_visible()
    page.get_by_role("button", name="Đã nhận, xác nhận").click()
    links = page.locator("#pay-receipts a.pay-receipt")
    expect(links).to_have_count(2)
    expect(links.nth(0)).to_contain_text(re.compile(r"Biên lai điện tử thu phí, lệ phí VNPOST-HN-\d\d số 1"))
    expect(links.nth(1)).to_contain_text(re.compile(r"Hóa đơn điện tử dịch vụ VNPOST-HN-\d\d-HD số 1"))
    expect(page.locator("#pay-receipts a.pay-pdf")).to_have_count(2)
    shoot(page, "pay-cash-two-documents-tablet-portrait")
    invoice = links.nth(1).get_attribute("href")  # PUBLIC_BASE_URL's: opened here on the test server
    page.goto(live_server + "/" + invoice.split("://", 1)[1].split("/", 1)[1])
    expect(page.get_by_text("Hóa đơn dịch vụ (GTGT)").first).to_be_visible()
    expect(page.get_by_text(re.compile("chữ ký số hợp lệ", re.I))).to_be_visible()
    shoot(page, "service-invoice-verify-tablet-portrait")
    page.goto(page.url + "/print")
    expect(page.get_by_text("Hóa đơn hợp lệ: chữ ký số hợp lệ.")).to_be_visible()
    expect(page.locator("dl.vat").first).to_contain_text("Thuế suất GTGT")
    expect(page.locator("dl.vat").first).to_contain_text("8%")
    table = page.locator("article table").bounding_box()
    card = page.locator("article").bounding_box()
    assert table["x"] + table["width"] <= card["x"] + card["width"]  # the amounts fit the card
    shoot(page, "service-invoice-print-tablet-portrait")
