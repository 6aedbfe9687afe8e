"""The tablet's payment step lists both documents of a payment: the state fee e-receipt and the
agent's service e-invoice (issue 14.4), each with its link and PDF; the invoice's pages and the
tracking page that lists both have no axe violations, and the invoice fits a 360 px phone."""

from __future__ import annotations

import re
from datetime import date

from axe_playwright_python.sync_playwright import Axe
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
    invoice_url = live_server + "/" + invoice.split("://", 1)[1].split("/", 1)[1]
    page.goto(invoice_url)
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
    from sqlalchemy import select

    from core.extensions import db
    from dossiers.models import Dossier
    from tracking import service as tracking

    with app.app_context():
        dossier_id = db.session.scalar(select(Dossier.id).where(Dossier.number == number))
        tracking_url = live_server + "/t/" + tracking.share_link(dossier_id, "sms").rsplit("/", 1)[1]
    page.goto(tracking_url)
    expect(page.get_by_text("Hóa đơn dịch vụ (GTGT)")).to_be_visible()
    expect(page.get_by_text("Biên lai thu phí, lệ phí")).to_be_visible()
    axe = Axe()
    for path in (invoice_url, invoice_url + "/print", tracking_url):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        violations = axe.run(page).response["violations"]
        assert violations == [], [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations]
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(invoice_url + "/print")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the invoice scrolls sideways on a phone ({width}px)"
