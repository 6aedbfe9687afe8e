"""The payment step on the tablet, after registering: the quote, then card (a decline explained in
Vietnamese, another card, a lost answer retried with the same attempt key: charged once), cash, VietQR
confirmed by a bank statement while the page polls, 3-D Secure, a free dossier, and a 360 px phone."""

from __future__ import annotations

import io
import json
import re

import pytest
from playwright.sync_api import expect

from core.extensions import db
from core.timeutil import to_local, utcnow
from tests import factories
from tests.e2e.conftest import SIZES
from tests.factories import auth

EMAIL = "lan@test.vn"
PAID_PROCEDURE = "HN-TP-001"  # Phiếu lý lịch tư pháp: 200.000 ₫ state fee
FREE_PROCEDURE = "HN-HT-201"  # Đăng ký khai sinh: no state fee
NBSP = "\xa0"


@pytest.fixture
def agent_key(app):
    """The agent who signs in on the tablet, and a bearer key of the same organisation to register dossiers."""
    with app.app_context():
        org = factories.create_org()
        factories.create_user("agent", email=EMAIL, org=org)
        return factories.org_key(org)


@pytest.fixture
def register(app, agent_key):
    def make(procedure: str = PAID_PROCEDURE) -> str:
        with app.app_context():
            return factories.create_dossier(app.test_client(), agent_key, procedure_code=procedure)["number"]
    return make


@pytest.fixture
def open_pay_page(browser, live_server):
    """A signed-in tablet (or phone) on a dossier's payment page."""
    contexts = []

    def open_page(number: str, size: str = "tablet-portrait"):
        width, height = SIZES[size]
        context = browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(15000)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_server}/portal/dossiers/{number}/pay")
        page.get_by_label("Email").fill(EMAIL)
        page.get_by_label("Mật khẩu").fill("correct horse battery staple")
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_url(f"{live_server}/portal/dossiers/{number}/pay")
        expect(page.get_by_role("heading", name="Phí và thanh toán")).to_be_visible()
        page.evaluate("window.sameDocument = true")  # gone if the page reloads
        return page

    yield open_page
    for context in contexts:
        context.close()


def scalar(app, sql: str, **params):
    with app.app_context():
        return db.session.execute(db.text(sql), params).scalar_one()


def payment_row(app, number: str):
    with app.app_context():
        return db.session.execute(db.text(
            "SELECT p.status, p.method, p.amount_vnd FROM payments p JOIN dossiers d ON d.id = p.dossier_id "
            "WHERE d.number = :n"), {"n": number}).one()


def charges(app) -> int:
    return scalar(app, "SELECT count(*) FROM sandbox_balance_transactions WHERE type = 'charge'")


def expect_paid_without_reload(page, method_text: str) -> None:
    done = page.locator("#pay-done")
    expect(done).to_be_visible()
    expect(page.get_by_role("heading", name="Đã thanh toán")).to_be_visible()
    expect(page.locator("#pay-status")).to_have_text("Đã thanh toán")
    expect(page.locator("#pay-done-meta")).to_contain_text(f"200.000{NBSP}₫, thanh toán bằng {method_text}")
    receipt = page.locator("#pay-receipts a.pay-receipt")
    expect(receipt).to_have_count(1)
    expect(receipt).to_contain_text("Biên lai điện tử")
    assert re.search(r"/r/[^/]+$", receipt.get_attribute("href"))
    assert page.locator("#pay-receipts a.pay-pdf").get_attribute("href").endswith(".pdf")
    expect(page.locator("#pay-done").get_by_role("link", name="Mở giấy biên nhận")).to_have_attribute(
        "href", re.compile(r"/portal/dossiers/.+/receipt$"))
    expect(page.locator("#pay-choose")).to_be_hidden()
    assert page.evaluate("window.sameDocument") is True


def test_card_declined_explained_then_another_card_pays_once(app, register, open_pay_page, shoot):
    number = register()
    page = open_pay_page(number)
    expect(page.locator("#pay-number")).to_have_text(number)
    expect(page.locator(".pay-summary")).to_contain_text("Cấp Phiếu lý lịch tư pháp")
    expect(page.locator("#pay-total")).to_have_text(f"200.000{NBSP}₫")
    expect(page.locator("#pay-status")).to_have_text("Chọn hình thức thanh toán.")
    shoot(page, "pay-1-quote-tablet-portrait")

    page.get_by_role("button", name=re.compile("^Thẻ ")).click()
    expect(page.get_by_role("heading", name="Thẻ", exact=True)).to_be_focused()
    for label in ("Visa — thành công", "Thẻ bị từ chối", "Không đủ số dư", "Yêu cầu 3-D Secure"):
        expect(page.get_by_label(label)).to_be_visible()
    page.get_by_label("Không đủ số dư").check()
    page.get_by_role("button", name=f"Thanh toán 200.000{NBSP}₫").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("số dư")
    expect(alert).to_have_text("Tài khoản không đủ số dư. Hãy dùng thẻ khác hoặc chuyển khoản VietQR.")
    shoot(page, "pay-2-declined-tablet-portrait")
    assert charges(app) == 0 and payment_row(app, number)[0] == "awaiting"

    attempts = []

    def lose_the_first_answer(route):
        attempts.append(json.loads(route.request.post_data))
        assert route.request.headers["x-csrftoken"]
        if len(attempts) == 1:
            route.fetch()  # the gateway charges the card...
            route.abort("connectionreset")  # ...and the tablet never hears back
        else:
            route.continue_()

    page.route("**/payment/card", lose_the_first_answer)
    page.get_by_label("Visa — thành công").check()
    page.get_by_role("button", name=f"Thanh toán 200.000{NBSP}₫").click()
    expect_paid_without_reload(page, "thẻ")
    expect(page.get_by_role("alert")).to_be_hidden()
    shoot(page, "pay-3-paid-card-tablet-portrait")

    assert len(attempts) == 2 and attempts[0]["attempt_key"] == attempts[1]["attempt_key"]
    assert attempts[0]["payment_method"] == "pm_card_visa"
    assert attempts[0]["return_url"].endswith(f"/portal/dossiers/{number}/pay")
    assert charges(app) == 1
    assert payment_row(app, number)[:2] == ("paid", "card")
    keys = scalar(app, "SELECT count(DISTINCT idempotency_key) FROM payment_card_attempts")
    assert keys == 2  # the declined card, then the Visa (its retry reused the key)
    assert page.evaluate(f"sessionStorage.getItem('pay-attempt:{number}')") is None


def test_cash_is_confirmed_then_paid(app, register, open_pay_page, live_server, shoot):
    number = register()
    page = open_pay_page(number)
    page.goto(f"{live_server}/portal")
    page.get_by_role("link", name=f"Thanh toán hồ sơ {number}").click()
    page.wait_for_url(f"{live_server}/portal/dossiers/{number}/pay")
    page.evaluate("window.sameDocument = true")

    page.get_by_role("button", name=re.compile("^Tiền mặt")).click()
    expect(page.get_by_text(f"Đã nhận đủ 200.000{NBSP}₫ tiền mặt?")).to_be_visible()
    shoot(page, "pay-cash-confirm-tablet-portrait")
    page.get_by_role("button", name="Chưa").click()
    expect(page.locator("#pay-cash")).to_be_hidden()
    assert scalar(app, "SELECT count(*) FROM payments") == 0  # nothing recorded before the confirmation

    page.get_by_role("button", name=re.compile("^Tiền mặt")).click()
    page.get_by_role("button", name="Đã nhận, xác nhận").click()
    expect_paid_without_reload(page, "tiền mặt")
    shoot(page, "pay-cash-paid-tablet-portrait")
    assert payment_row(app, number)[:2] == ("paid", "cash")


def _statement(reference: str, amount: int) -> bytes:
    """A bank statement CSV as the bank exports it (see tests/payments/test_cash_transfer_refunds.py)."""
    day = to_local(utcnow()).strftime("%d/%m/%Y %H:%M:%S")
    rows = ["Ngày giao dịch;Số tham chiếu;Ghi nợ;Ghi có;Nội dung",
            f"{day};FT26328777;0;{amount:,};MBVCB.555.{reference}.CT tu 0011 NGUYEN VAN AN".replace(",", ".")]
    return ("\ufeff" + "\n".join(rows) + "\n").encode()


def test_vietqr_shows_the_code_and_flips_to_paid_when_the_statement_is_imported(app, register, open_pay_page,
                                                                                 shoot):
    number = register()
    page = open_pay_page(number)
    page.get_by_role("button", name=re.compile("^VietQR")).click()
    qr = page.locator("#pay-qr-svg svg")
    expect(qr).to_be_visible()
    assert qr.evaluate("svg => svg.namespaceURI") == "http://www.w3.org/2000/svg"
    assert qr.bounding_box()["width"] >= 200  # big enough to scan from the counter
    assert page.locator("#pay-qr-svg script").count() == 0
    expect(page.locator("#pay-status")).to_have_text("Đang chờ chuyển khoản…")
    expect(page.locator("#pay-qr-amount")).to_have_text(f"200.000{NBSP}₫")
    expect(page.locator("#pay-qr-bank")).to_contain_text("970436")
    expect(page.locator("#pay-qr-account")).to_have_text(app.config["VIETQR_ACCOUNT_NUMBER"])
    reference = page.locator("#pay-qr-reference").inner_text()
    assert reference
    expect(page.locator("#pay-qr")).to_contain_text("sao kê")
    shoot(page, "pay-vietqr-tablet-portrait")
    assert payment_row(app, number)[:2] == ("awaiting", "vietqr")

    with app.app_context():
        finance = factories.user_key(factories.create_user(role="finance", email="taichinh@test.vn"))
    imported = app.test_client().post(
        "/api/v1/finance/bank-statements", headers=auth(finance),
        data={"file": (io.BytesIO(_statement(reference, 200_000)), "saoke.csv")}, content_type="multipart/form-data")
    assert imported.status_code == 201, imported.get_json()
    assert imported.get_json()["summary"]["matched"] == 1

    expect(page.locator("#pay-done")).to_be_visible(timeout=10_000)  # the page's own polling, no reload
    expect_paid_without_reload(page, "chuyển khoản (VietQR)")
    expect(page.locator("#pay-qr")).to_be_hidden()
    shoot(page, "pay-vietqr-paid-tablet-portrait")
    assert payment_row(app, number)[:2] == ("paid", "vietqr")


def test_three_d_secure_on_the_tablet_returns_to_the_page_and_settles(app, register, open_pay_page, live_server):
    number = register()
    page = open_pay_page(number)
    page.get_by_role("button", name=re.compile("^Thẻ ")).click()

    def three_d_secure(button: str) -> None:
        page.get_by_label("Yêu cầu 3-D Secure").check()
        page.get_by_role("button", name=f"Thanh toán 200.000{NBSP}₫").click()
        page.wait_for_url(re.compile(r"/sandbox-gateway/v1/3ds/"))
        page.get_by_role("button", name=re.compile(button)).click()
        # Back on the payment page (the gateway's query string removed); it asks the gateway, not the webhooks.
        page.wait_for_url(f"{live_server}/portal/dossiers/{number}/pay")

    three_d_secure("^Từ chối")
    expect(page.get_by_role("alert")).to_have_text("Chưa hoàn tất xác thực 3-D Secure. Hãy thử lại hoặc chọn thẻ khác.")
    expect(page.get_by_role("heading", name="Thẻ", exact=True)).to_be_visible()
    assert charges(app) == 0 and payment_row(app, number)[0] == "awaiting"
    three_d_secure("^Xác thực")
    expect(page.locator("#pay-done")).to_be_visible()
    expect(page.get_by_role("heading", name="Đã thanh toán")).to_be_visible()
    assert charges(app) == 1 and payment_row(app, number)[:2] == ("paid", "card")


def test_a_dossier_without_fees_says_so(app, register, open_pay_page):
    number = register(FREE_PROCEDURE)
    page = open_pay_page(number)
    expect(page.get_by_role("heading", name="Không phải nộp phí")).to_be_visible()
    expect(page.locator("#pay-total")).to_have_text(f"0{NBSP}₫")
    expect(page.get_by_role("link", name="Mở giấy biên nhận")).to_have_attribute(
        "href", f"/portal/dossiers/{number}/receipt")
    expect(page.locator("#pay-choose")).to_have_count(0)


def test_the_page_fits_a_360_px_phone_and_speaks_english_on_request(app, register, open_pay_page, live_server, shoot):
    number = register()
    page = open_pay_page(number, "phone")
    page.get_by_role("button", name=re.compile("^VietQR")).click()
    expect(page.locator("#pay-qr-svg svg")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES["phone"][0]
    shoot(page, "pay-vietqr-phone")
    page.get_by_role("button", name=re.compile("^Tiền mặt")).click()
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES["phone"][0]
    shoot(page, "pay-cash-phone")

    page.goto(f"{live_server}/portal/dossiers/{number}/pay?lang=en")
    expect(page.get_by_role("heading", name="Fees and payment")).to_be_visible()
    expect(page.locator("#pay-status")).to_have_text("Waiting for the transfer…")  # the VietQR chosen before
    expect(page.locator("#pay-total")).to_have_text("₫200,000")
    shoot(page, "pay-english-phone")


# ---------------------------------------------------------------- the page over plain HTTP (no browser)

def _signed_in_client(app, email: str = EMAIL):
    client = app.test_client()
    factories.sign_in(client, email)
    return client


def test_the_page_loads_its_cached_modules_and_only_the_dossiers_agent_opens_it(app, register):
    import gzip

    from agent_portal import assets

    number = register()
    client = _signed_in_client(app)
    response = client.get(f"/portal/dossiers/{number}/pay", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip"
    assert "no-store" in response.headers["Cache-Control"]
    html = gzip.decompress(response.data).decode()
    assert len(response.data) < 10 * 1024  # the page alone: its modules and styles are cached files
    version = assets.tree().version
    assert f'<script type="module" src="/portal/static/v/{version}/js/pay/main.js"></script>' in html
    assert f'<link rel="modulepreload" href="/portal/static/v/{version}/js/pay/qr.js">' in html
    assert not re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
    assert not re.search(r"<script>", html)  # no inline script (a CSP with script-src 'self' is coming)
    config = json.loads(re.search(r'<script type="application/json" id="pay-config">(.*?)</script>', html, re.S)[1])
    assert config["quote"]["total_vnd"] == 200_000 and config["payment"] is None and config["sandbox"] is True
    assert all(url.startswith("/") for url in config["urls"].values())

    with app.app_context():
        other = factories.create_org(code="HNTECH", kind="technology")
        factories.create_user("agent", email="khac@test.vn", org=other)
        factories.create_user("finance", email="taichinh@test.vn")
    assert _signed_in_client(app, "khac@test.vn").get(f"/portal/dossiers/{number}/pay").status_code == 404
    assert _signed_in_client(app, "taichinh@test.vn").get(
        f"/portal/dossiers/{number}/pay", headers={"Accept": "text/html"}).status_code == 403
    assert app.test_client().get(f"/portal/dossiers/{number}/pay").status_code == 302  # to the sign-in page


def test_with_a_real_gateway_the_card_panel_says_its_form_is_not_built(app, register, monkeypatch):
    number = register()
    client = _signed_in_client(app)
    assert 'id="pay-card-form"' in client.get(f"/portal/dossiers/{number}/pay").get_data(as_text=True)
    monkeypatch.setitem(app.config, "PAYMENT_GATEWAY_URL", "https://gateway.example")
    html = client.get(f"/portal/dossiers/{number}/pay").get_data(as_text=True)
    assert 'id="pay-card-form"' not in html and "pm_card_visa" not in html
    assert "trang đó chưa được tích hợp vào đây" in html
