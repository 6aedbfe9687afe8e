"""Tablet defects found in a real browser (Chromium, 800×1280 and 360×740), each pinned by a test:
a failed address lookup, disguised files, the done panel after reconnecting, and consistency
(the fee note's language, step labels, the payment page's number, header targets, focus on errors)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core.extensions import db
from dossiers.models import Dossier
from tests.dossiers.test_documents import PDF, png_bytes
from tests.e2e import test_new_dossier, test_payment_step
from tests.e2e.test_new_dossier import (
    CITIZEN,
    HOAN_KIEM,
    choose_procedure,
    count_dossiers,
    fill_citizen,
    locate,
    next_step,
    sign_in,
)

# The fixtures of the flows these defects were found in.
agent, new_context = test_new_dossier.agent, test_new_dossier.new_context
agent_key, register = test_payment_step.agent_key, test_payment_step.register
open_pay_page = test_payment_step.open_pay_page

pytestmark = pytest.mark.smoke

# A Windows program ("MZ" header) renamed to look like a photo.
DISGUISED_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 240


def to_documents_step(page) -> None:
    choose_procedure(page)
    next_step(page)
    fill_citizen(page)
    next_step(page)
    locate(page, "gps")
    next_step(page)
    expect(page.get_by_role("heading", name="Giấy tờ", exact=True)).to_be_visible()


def locate_by_typing(page, text: str) -> None:
    page.locator("#nd-geo_address").fill(text)
    page.get_by_role("button", name="Tìm vị trí").click()


@pytest.mark.parametrize("bad", ["asdfgh", "221B Baker Street, London, United Kingdom"])
def test_a_failed_address_lookup_clears_the_location(app, agent, live_server, new_context, bad):
    page = new_context("tablet-portrait").new_page()
    sign_in(page, live_server)
    choose_procedure(page)
    next_step(page)
    fill_citizen(page)  # with the citizen's address: the fallback the old route hid behind
    next_step(page)
    locate(page, "address")
    expect(page.locator("#nd-route")).to_be_visible()

    locate_by_typing(page, bad)
    expect(page.locator("#nd-loc")).not_to_contain_text("Phường Hàng Bài")
    expect(page.locator("#nd-route")).to_be_hidden()  # the old point is gone
    next_step(page)
    expect(page.get_by_role("heading", name="Vị trí", exact=True)).to_be_visible()  # the step stays
    expect(page.locator("#err-location")).to_be_visible()
    expect(page.locator("#err-location")).not_to_be_empty()

    locate_by_typing(page, CITIZEN["address"])  # a location again: the step goes on
    expect(page.locator("#nd-route")).to_be_visible()
    expect(page.locator("#err-location")).to_be_hidden()
    next_step(page)
    expect(page.get_by_role("heading", name="Giấy tờ", exact=True)).to_be_visible()


def test_a_disguised_file_is_refused_before_the_dossier_is_sent(app, agent, live_server, new_context):
    context = new_context("tablet-portrait", permissions=["geolocation"], geolocation=HOAN_KIEM)
    page = context.new_page()
    sign_in(page, live_server)
    to_documents_step(page)
    page.locator("#nd-pick").set_input_files([
        {"name": "anh-cccd.jpg", "mimeType": "image/jpeg", "buffer": DISGUISED_EXE},
        {"name": "to-khai.png", "mimeType": "image/png", "buffer": png_bytes(40, 30)},
        {"name": "giay-chung-sinh.pdf", "mimeType": "application/pdf", "buffer": PDF},
    ])
    error = page.locator("#err-files")
    expect(error).to_be_visible()
    expect(error).to_contain_text("anh-cccd.jpg")
    expect(error).to_contain_text("không phải ảnh chụp hay tệp PDF")
    files = page.locator("#nd-files .file")
    expect(files).to_have_count(2)
    expect(page.locator("#nd-files")).not_to_contain_text("anh-cccd.jpg")

    next_step(page)
    next_step(page)
    page.get_by_role("button", name="Xác nhận và gửi").click()
    expect(page.locator("#nd-done")).to_be_visible()
    expect(page.locator("#nd-uploads .file.ok")).to_have_count(2)
    expect(page.locator("#nd-uploads .file.bad")).to_have_count(0)
    with app.app_context():
        dossier = db.session.scalars(select(Dossier)).one()
        assert sorted(d.filename for d in dossier.documents) == ["giay-chung-sinh.pdf", "to-khai.png"]


def test_a_file_the_server_refuses_offers_no_retry_that_cannot_succeed(app, agent, live_server, new_context):
    context = new_context("phone", permissions=["geolocation"], geolocation=HOAN_KIEM)
    page = context.new_page()
    sign_in(page, live_server)
    to_documents_step(page)
    page.locator("#nd-camera").set_input_files(
        [{"name": "cccd.png", "mimeType": "image/png", "buffer": png_bytes(64, 48)}])
    expect(page.locator("#nd-files img.thumb")).to_have_count(1)
    next_step(page)
    next_step(page)

    def refuse(route):  # e.g. a file the server's checks refuse for good
        route.fulfill(status=415, content_type="application/problem+json", body=(
            '{"title": "Unsupported file type", "status": 415,'
            ' "detail_vi": "Nội dung tệp là application/x-msdownload.",'
            ' "detail_en": "The file content is application/x-msdownload."}'))

    page.route("**/documents", refuse)
    page.get_by_role("button", name="Xác nhận và gửi").click()
    expect(page.locator("#nd-done")).to_be_visible()
    row = page.locator("#nd-uploads .file.bad")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("application/x-msdownload")
    expect(row.get_by_role("button", name="Thử lại")).to_have_count(0)  # it could never succeed
    expect(page.locator("#nd-done").get_by_role("link", name="Thu phí")).to_be_visible()
    queue = page.locator("#nd-queue")
    if queue.is_visible():
        expect(page.locator("#nd-queue-title")).not_to_have_text("Chờ gửi: 0")

    row.get_by_role("button", name="Bỏ tệp này").click()  # the agent drops it and goes on
    expect(page.locator("#nd-uploads .file.bad")).to_have_count(0)
    page.wait_for_url(re.compile(r"/portal/dossiers/.+/pay$"))
    page.goto(f"{live_server}/portal/new")
    expect(page.get_by_role("heading", name="Thủ tục", exact=True)).to_be_visible()
    expect(page.locator("#nd-queue")).to_be_hidden()  # nothing left waiting for ever


def test_after_reconnecting_the_done_panel_is_the_normal_one(app, agent, live_server, new_context):
    context = new_context("tablet-portrait", permissions=["geolocation"], geolocation=HOAN_KIEM)
    page = context.new_page()
    sign_in(page, live_server)
    to_documents_step(page)
    page.locator("#nd-camera").set_input_files(
        [{"name": "cccd.png", "mimeType": "image/png", "buffer": png_bytes(64, 48)}])
    expect(page.locator("#nd-files img.thumb")).to_have_count(1)
    next_step(page)
    next_step(page)
    context.set_offline(True)
    page.get_by_role("button", name="Xác nhận và gửi").click()
    expect(page.locator("#nd-queued")).to_be_visible()

    context.set_offline(False)
    done = page.locator("#nd-done")
    expect(done).to_be_visible()
    expect(page.locator("#nd-queued")).to_be_hidden()
    expect(page.locator("#nd-offline")).to_be_hidden()
    expect(done.get_by_role("link", name="Thu phí")).to_be_visible()
    expect(done.get_by_role("link", name="Mở giấy biên nhận")).to_be_visible()
    number = page.locator("#nd-done-number").inner_text()
    assert re.fullmatch(r"\d{3}\.\d{2}\.\d{2}\.H26-\d{6}-\d{4,}", number)  # Circular 01/2018/TT-VPCP Art. 19
    expect(page.locator("#nd-done-point")).to_contain_text("HN-")
    expect(page.locator("#nd-uploads .file.ok")).to_have_count(1)
    page.wait_for_url(f"{live_server}/portal/dossiers/{number}/pay")
    assert count_dossiers(app) == 1


def test_the_fee_note_speaks_the_pages_language(app, agent, live_server, new_context):
    page = new_context("tablet-portrait").new_page()
    sign_in(page, live_server)
    page.get_by_label("Tìm thủ tục").fill("ly lich tu phap")
    page.locator("#nd-results .result").first.click()
    meta = page.locator("#nd-proc-meta")
    expect(meta).to_contain_text("200.000")
    expect(meta).to_contain_text("(Thông tư 244/2016/TT-BTC; 100.000 đồng đối với sinh viên")
    expect(meta).not_to_contain_text("Circular")
    page.goto(f"{live_server}/portal/new?lang=en")
    expect(page.locator("#nd-proc-meta")).to_contain_text("Circular 244/2016/TT-BTC")
    expect(page.locator("#nd-proc-meta")).not_to_contain_text("Thông tư")


@pytest.mark.parametrize("size", ["tablet-portrait", "phone"])
def test_step_labels_are_not_cut_and_header_targets_are_large(app, agent, live_server, new_context, size):
    page = new_context(size).new_page()
    sign_in(page, live_server)
    cut = page.evaluate("""() => Array.from(document.querySelectorAll('#nd-steps .label'))
        .filter((l) => l.offsetParent !== null && l.scrollWidth > l.clientWidth + 1).map((l) => l.textContent)""")
    assert cut == []
    if size == "tablet-portrait":
        expect(page.locator("#nd-steps")).to_contain_text("Trả kết quả")
    small = page.evaluate("""() => Array.from(document.querySelectorAll('header.bar a, header.bar button'))
        .map((e) => [e.textContent.trim(), e.getBoundingClientRect().height]).filter((x) => x[1] < 44)""")
    assert small == []
    if size == "tablet-portrait":  # and they still fit on one line
        assert page.evaluate("document.querySelector('header.bar').getBoundingClientRect().height") < 70


def test_focus_goes_to_the_first_wrong_field(app, agent, live_server, new_context):
    page = new_context("phone").new_page()
    sign_in(page, live_server)
    next_step(page)  # no procedure
    expect(page.locator("#err-procedure")).to_be_visible()
    expect(page.get_by_label("Tìm thủ tục")).to_be_focused()
    choose_procedure(page)
    next_step(page)
    page.get_by_label("Email (không bắt buộc)").fill("not-an-email")
    next_step(page)  # everything wrong: the first one gets the focus
    expect(page.get_by_label("Họ và tên")).to_be_focused()
    page.get_by_label("Họ và tên").fill(CITIZEN["name"])
    page.get_by_label("Số căn cước công dân (CCCD)").fill(CITIZEN["cccd"])
    page.get_by_label("Số điện thoại di động").fill("02438123456")  # a fixed line: cannot get SMS
    next_step(page)
    expect(page.get_by_label("Số điện thoại di động")).to_be_focused()
    page.get_by_label("Số điện thoại di động").fill(CITIZEN["phone"])
    next_step(page)
    expect(page.get_by_label("Email (không bắt buộc)")).to_be_focused()
    page.get_by_label("Email (không bắt buộc)").fill("")
    next_step(page)
    expect(page.get_by_role("heading", name="Vị trí", exact=True)).to_be_visible()
    next_step(page)  # no location, no address
    expect(page.locator("#err-location")).to_be_visible()
    expect(page.get_by_role("button", name="Dùng GPS")).to_be_focused()


@pytest.mark.parametrize("size", ["tablet-portrait", "phone"])
def test_the_payment_pages_number_stays_clear_of_the_procedure(app, register, open_pay_page, size):
    number = register("HN-HT-201")  # a commune procedure: every legal number is 25 characters long
    assert len(number) >= 25
    page = open_pay_page(number, size)
    expect(page.locator("#pay-number")).to_have_text(number)
    boxes = page.evaluate("""() => {
        const [num, proc] = Array.from(document.querySelectorAll('.pay-dossier dd')).slice(0, 2);
        const range = document.createRange();
        range.selectNodeContents(num);
        const a = range.getBoundingClientRect(), b = proc.getBoundingClientRect();
        return {overflow: num.scrollWidth - num.clientWidth, a: [a.left, a.right, a.top, a.bottom],
                b: [b.left, b.right, b.top, b.bottom]};
    }""")
    assert boxes["overflow"] <= 1
    (al, ar, _at, ab), (bl, br, bt, _bb) = boxes["a"], boxes["b"]
    assert ar <= bl + 1 or ab <= bt + 1 or br <= al + 1  # side by side or stacked, never on top of each other
