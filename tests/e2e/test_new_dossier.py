"""An agent registers a dossier on a tablet, step by step: procedure, citizen, location and routing,
photos, delivery, confirm. Also: offline then online (registered exactly once), an answer lost on the
way back (retried with the same Idempotency-Key), and a reload that keeps the draft."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from core.extensions import db
from dossiers.models import Dossier
from tests import factories
from tests.dossiers.test_documents import png_bytes
from tests.e2e.conftest import SIZES

EMAIL = "lan@test.vn"
CITIZEN = {"name": "Nguyễn Thị Mai", "cccd": "001090012345", "phone": "0912345678",
           "address": "12 Hàng Bài, Hoàn Kiếm, Hà Nội"}
HOAN_KIEM = {"latitude": 21.0259, "longitude": 105.8537}
# Each size locates the citizen another way; the portrait tablet also overrides the routed point.
LOCATE_BY = {"tablet-portrait": "gps", "tablet-landscape": "pin", "phone": "address"}


def _png(width: int, height: int, pixels: np.ndarray) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + row.tobytes() for row in pixels)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def large_photo() -> bytes:
    """A 3000×2000 'photo' (gradients and a little sensor noise): ~6 MB as PNG (PIL is not installed)."""
    width, height = 3000, 2000
    x = np.arange(width, dtype=np.int32)[None, :]
    y = np.arange(height, dtype=np.int32)[:, None]
    pixels = np.stack(np.broadcast_arrays(x * 255 // width, y * 255 // height, (x + y) * 255 // (width + height)), -1)
    pixels[..., :2] += np.random.default_rng(7).integers(-1, 2, size=(height, width, 2), dtype=np.int32)
    return _png(width, height, pixels.clip(0, 255).astype(np.uint8))


def jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a JPEG's start-of-frame marker."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    i = 2
    while i < len(data):
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + length
    raise AssertionError("no start-of-frame marker")


@pytest.fixture
def agent(app):
    with app.app_context():
        factories.create_user("agent", email=EMAIL, org=factories.create_org())


@pytest.fixture
def new_context(browser):
    """A fresh browser context per call (own storage, permissions, offline switch)."""
    opened = []

    def make(size: str, **options):
        width, height = SIZES[size]
        context = browser.new_context(viewport={"width": width, "height": height}, **options)
        context.set_default_timeout(15000)
        opened.append(context)
        return context

    yield make
    for context in opened:
        context.close()


def count_dossiers(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Dossier))


def sign_in(page, live_server: str) -> None:
    page.goto(f"{live_server}/portal/new")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Mật khẩu").fill("correct horse battery staple")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{live_server}/portal/new")
    expect(page.get_by_role("heading", name="Thủ tục", exact=True)).to_be_visible()


def next_step(page) -> None:
    page.get_by_role("button", name="Tiếp tục").click()


def choose_procedure(page) -> None:
    page.get_by_label("Tìm thủ tục").fill("dang ky khai sinh")
    name = page.locator("strong", has_text=re.compile("^Đăng ký khai sinh$"))
    page.locator("#nd-results .result").filter(has=name).click()
    expect(page.locator("#nd-proc-name")).to_have_text("Đăng ký khai sinh")
    expect(page.locator("#nd-proc-meta")).to_contain_text("Cấp xã")
    expect(page.locator("#nd-proc-meta")).to_contain_text("1 ngày làm việc")
    page.get_by_label("Giấy chứng sinh").check()


def fill_citizen(page) -> None:
    page.get_by_label("Họ và tên").fill(CITIZEN["name"])
    cccd = page.get_by_label("Số căn cước công dân (CCCD)")
    assert cccd.get_attribute("inputmode") == "numeric"
    assert page.get_by_label("Số điện thoại di động").get_attribute("inputmode") == "numeric"
    cccd.fill("00109001")
    cccd.blur()
    expect(page.locator("#err-cccd")).to_have_text("Phải gồm đúng 12 chữ số.")
    cccd.fill("999090012345")
    cccd.blur()
    expect(page.locator("#err-cccd")).to_have_text("Ba chữ số đầu không phải mã tỉnh/thành phố của Việt Nam.")
    cccd.fill(CITIZEN["cccd"])
    expect(page.locator("#err-cccd")).to_be_hidden()
    page.get_by_label("Số điện thoại di động").fill(CITIZEN["phone"])
    page.get_by_label("Địa chỉ", exact=True).fill(CITIZEN["address"])


def locate(page, how: str) -> None:
    if how == "gps":
        page.get_by_role("button", name="Dùng GPS").click()
        expect(page.locator("#nd-loc")).to_contain_text("Vị trí GPS: 21,0259, 105,8537")
    elif how == "address":
        page.get_by_role("button", name="Theo địa chỉ").click()  # the citizen's address is already there
        expect(page.locator("#nd-loc")).to_contain_text("Phường Hàng Bài")
        expect(page.locator("#nd-loc")).to_contain_text("gần đúng")
    else:
        page.get_by_role("button", name="Ghim trên bản đồ").click()
        map_box = page.locator("#nd-map")
        expect(map_box.locator("canvas")).to_be_attached()  # Leaflet loaded, the outline drawn
        box = map_box.bounding_box()
        map_box.click(position={"x": box["width"] * 0.5, "y": box["height"] * 0.5})
        expect(page.locator("#nd-loc")).to_contain_text("Ghim trên bản đồ:")
        expect(map_box.locator(".leaflet-marker-icon")).to_be_visible()
    expect(page.locator("#nd-route")).to_be_visible()
    expect(page.locator("#nd-route-name")).to_contain_text(re.compile(r"\(HN-[A-Z0-9]+\)"))
    expect(page.locator("#nd-route-why")).to_contain_text("km")


def add_photos(page, large_photo: bytes) -> None:
    page.locator("#nd-camera").set_input_files([
        {"name": "giay-chung-sinh.png", "mimeType": "image/png", "buffer": png_bytes(40, 30)},
        {"name": "to-khai.png", "mimeType": "image/png", "buffer": large_photo},
    ])
    expect(page.locator("#nd-files .file")).to_have_count(2)
    expect(page.locator("#nd-files")).not_to_contain_text("Đang thu nhỏ ảnh")
    expect(page.locator("#nd-files .file").nth(1)).to_contain_text("to-khai.jpg")
    expect(page.locator("#nd-files .file").nth(1)).to_contain_text("→")  # shrunk on the device
    expect(page.locator("#nd-files img.thumb")).to_have_count(2)


@pytest.mark.parametrize("size", list(SIZES))
def test_register_a_dossier_step_by_step(app, agent, live_server, new_context, shoot, large_photo, size):
    how = LOCATE_BY[size]
    options = {"permissions": ["geolocation"], "geolocation": HOAN_KIEM} if how == "gps" else {}
    page = new_context(size, **options).new_page()
    sign_in(page, live_server)
    assert page.locator("meta[name=csrf-token]").get_attribute("content")
    shoot(page, f"new-1-empty-{size}")

    choose_procedure(page)
    shoot(page, f"new-1-procedure-{size}")
    next_step(page)

    next_step(page)  # nothing filled: inline messages, and the step stays
    expect(page.locator("#err-full_name")).to_have_text("Bắt buộc.")
    fill_citizen(page)
    shoot(page, f"new-2-citizen-{size}")
    next_step(page)

    locate(page, how)
    routed = re.search(r"\((HN-[A-Z0-9]+)\)", page.locator("#nd-route-name").inner_text()).group(1)
    reason = None
    if size == "tablet-portrait":
        alternative = page.locator("#nd-alt-list input[type=radio]").nth(1)
        routed = alternative.get_attribute("value")
        alternative.check()
        next_step(page)
        expect(page.locator("#err-choice_reason")).to_have_text("Bắt buộc khi chọn điểm phục vụ khác.")
        reason = "Công dân làm việc gần điểm này"
        page.get_by_label("Lý do chọn điểm khác").fill(reason)
    shoot(page, f"new-3-location-{size}")
    next_step(page)

    add_photos(page, large_photo)
    shoot(page, f"new-4-documents-{size}")
    next_step(page)

    page.get_by_label("Chuyển phát đến địa chỉ").check()
    expect(page.get_by_label("Địa chỉ nhận kết quả")).to_have_value(CITIZEN["address"])  # offered
    page.get_by_label("Địa chỉ nhận kết quả").fill("")
    next_step(page)
    expect(page.locator("#err-delivery_address")).to_have_text("Bắt buộc khi trả kết quả qua bưu chính.")
    delivery_address = "Số 5 Phố Huế, Hai Bà Trưng, Hà Nội"
    page.get_by_label("Địa chỉ nhận kết quả").fill(delivery_address)
    shoot(page, f"new-5-delivery-{size}")
    next_step(page)

    summary = page.locator("#nd-summary")
    for text in ("Đăng ký khai sinh", "0 ₫", "1 ngày làm việc", "001******345", "091****678", routed,
                 delivery_address, "1/3"):
        expect(summary).to_contain_text(text)
    assert "001090012345" not in summary.inner_text()
    shoot(page, f"new-6-summary-{size}")
    page.get_by_role("button", name="Xác nhận và gửi").click()

    expect(page.locator("#nd-done")).to_be_visible()
    number = page.locator("#nd-done-number").inner_text()
    assert re.fullmatch(r"\d{3}\.\d{2}\.\d{2}\.H26-\d{6}-\d{4,}", number)  # Circular 01/2018/TT-VPCP Art. 19
    expect(page.locator("#nd-done-point")).to_contain_text(routed)
    expect(page.locator("#nd-done-deadline")).to_contain_text("17:00")
    expect(page.locator("#nd-uploads .file.ok")).to_have_count(2)
    shoot(page, f"new-7-done-{size}")
    page.wait_for_url(f"{live_server}/portal/dossiers/{number}/pay")  # on to the fees

    with app.app_context():
        dossiers = db.session.scalars(select(Dossier)).all()
        assert [d.number for d in dossiers] == [number]
        dossier = dossiers[0]
        assert (dossier.citizen_name, dossier.citizen_id_number, dossier.citizen_phone) == (
            CITIZEN["name"], CITIZEN["cccd"], "+84912345678")
        assert dossier.procedure.code == "HN-HT-201"
        assert dossier.location_source == how
        assert dossier.routing["chosen"]["service_point_code"] == routed
        assert dossier.routing["chosen_by"] == ("agent" if reason else "router")
        assert dossier.routing.get("choice_reason") == reason
        assert (dossier.delivery_method.value, dossier.delivery_address) == ("courier", delivery_address)
        assert "Giấy chứng sinh" in dossier.note
        documents = sorted(dossier.documents, key=lambda d: d.size_bytes)
        assert [(d.kind, d.filename, d.content_type) for d in documents] == [
            ("Tờ khai đăng ký khai sinh", "giay-chung-sinh.png", "image/png"),
            ("Giấy chứng sinh", "to-khai.jpg", "image/jpeg"),
        ]
        stored = (Path(app.config["DOCUMENT_STORAGE_DIR"]) / documents[1].storage_key).read_bytes()
    assert len(stored) < len(large_photo)
    width, height = jpeg_size(stored)
    assert (width, height) == (1600, 1067)


def fill_up_to_the_summary(page, how: str = "gps") -> None:
    choose_procedure(page)
    next_step(page)
    fill_citizen(page)
    next_step(page)
    locate(page, how)
    next_step(page)
    page.locator("#nd-camera").set_input_files(
        [{"name": "cccd.png", "mimeType": "image/png", "buffer": png_bytes(64, 48)}])
    expect(page.locator("#nd-files img.thumb")).to_have_count(1)
    next_step(page)
    next_step(page)
    expect(page.get_by_role("button", name="Xác nhận và gửi")).to_be_visible()


def test_offline_then_online_creates_exactly_one_dossier(app, agent, live_server, new_context, shoot):
    context = new_context("tablet-portrait", permissions=["geolocation"], geolocation=HOAN_KIEM)
    page = context.new_page()
    sign_in(page, live_server)
    fill_up_to_the_summary(page)

    context.set_offline(True)
    expect(page.locator("#nd-offline")).to_be_visible()
    page.get_by_role("button", name="Xác nhận và gửi").click()
    expect(page.locator("#nd-queued")).to_be_visible()
    expect(page.locator("#nd-queue")).to_contain_text("Chờ gửi: 1")
    expect(page.locator("#nd-queue")).to_contain_text(CITIZEN["name"])
    shoot(page, "new-offline-queued-tablet-portrait")
    assert count_dossiers(app) == 0

    context.set_offline(False)
    expect(page.locator("#nd-queue")).to_be_hidden()
    expect(page.locator("#nd-done")).to_be_visible()  # the panel it waited on becomes the usual done panel
    expect(page.locator("#nd-uploads .file.ok")).to_have_count(1)
    shoot(page, "new-offline-sent-tablet-portrait")
    number = page.locator("#nd-done-number").inner_text()
    page.wait_for_url(f"{live_server}/portal/dossiers/{number}/pay")
    with app.app_context():
        dossiers = db.session.scalars(select(Dossier)).all()
        assert len(dossiers) == 1 and dossiers[0].citizen_id_number == CITIZEN["cccd"]
        assert [d.filename for d in dossiers[0].documents] == ["cccd.png"]  # the photo waited in IndexedDB

    page.goto(f"{live_server}/portal/new")
    expect(page.get_by_role("heading", name="Thủ tục", exact=True)).to_be_visible()
    page.wait_for_load_state("networkidle")
    expect(page.locator("#nd-queue")).to_be_hidden()
    assert count_dossiers(app) == 1
    with app.app_context():
        assert len(db.session.scalars(select(Dossier)).one().documents) == 1


def test_a_lost_answer_is_retried_with_the_same_key_and_registers_once(app, agent, live_server, new_context):
    context = new_context("tablet-landscape", permissions=["geolocation"], geolocation=HOAN_KIEM)
    page = context.new_page()
    sign_in(page, live_server)
    fill_up_to_the_summary(page)
    keys = []

    def lose_the_first_answer(route):
        keys.append(route.request.headers["idempotency-key"])
        assert route.request.headers["x-csrftoken"]
        if len(keys) == 1:
            route.fetch()  # the server registers the dossier...
            route.abort("connectionreset")  # ...and the tablet never hears back
        else:
            route.continue_()

    page.route("**/api/v1/dossiers", lose_the_first_answer)
    page.get_by_role("button", name="Xác nhận và gửi").click()
    expect(page.locator("#nd-done")).to_be_visible()
    assert len(keys) == 2 and keys[0] == keys[1]
    assert count_dossiers(app) == 1


def test_a_reload_keeps_the_draft_and_start_new_clears_it(app, agent, live_server, new_context, shoot):
    page = new_context("phone").new_page()
    sign_in(page, live_server)
    choose_procedure(page)
    next_step(page)
    fill_citizen(page)
    next_step(page)
    expect(page.get_by_role("heading", name="Vị trí", exact=True)).to_be_visible()

    page.reload()
    expect(page.get_by_role("heading", name="Vị trí", exact=True)).to_be_visible()
    shoot(page, "new-reloaded-phone")
    page.get_by_role("button", name="Quay lại").click()
    expect(page.get_by_label("Họ và tên")).to_have_value(CITIZEN["name"])
    expect(page.get_by_label("Số căn cước công dân (CCCD)")).to_have_value(CITIZEN["cccd"])
    page.get_by_role("button", name="Quay lại").click()
    expect(page.locator("#nd-proc-name")).to_have_text("Đăng ký khai sinh")
    expect(page.get_by_label("Giấy chứng sinh")).to_be_checked()

    reset = page.locator("#nd-reset")
    reset.click()
    expect(reset).to_have_text("Chạm lần nữa để bỏ bản nháp này")
    reset.click()
    expect(page.locator("#nd-proc")).to_be_hidden()
    page.reload()
    expect(page.get_by_label("Tìm thủ tục")).to_have_value("")
    expect(page.locator("#nd-proc")).to_be_hidden()
    assert count_dossiers(app) == 0


def test_the_servers_422_brings_the_agent_back_to_the_field(app, agent, live_server, new_context):
    context = new_context("tablet-landscape", permissions=["geolocation"], geolocation=HOAN_KIEM)
    page = context.new_page()
    sign_in(page, live_server)
    fill_up_to_the_summary(page)
    page.get_by_role("button", name="Bước 2/6: Công dân").click()
    page.get_by_label("Email (không bắt buộc)").fill("mai@b.c")  # passes the page's check, not the server's
    page.get_by_role("button", name="Bước 6/6: Xác nhận").click()
    page.get_by_role("button", name="Xác nhận và gửi").click()

    expect(page.get_by_role("heading", name="Công dân", exact=True)).to_be_visible()
    expect(page.locator("#err-email")).to_have_text("Địa chỉ email không hợp lệ.")
    expect(page.get_by_label("Email (không bắt buộc)")).to_be_focused()
    assert count_dossiers(app) == 0
    page.get_by_label("Email (không bắt buộc)").fill("mai@example.vn")
    page.get_by_role("button", name="Bước 6/6: Xác nhận").click()
    page.get_by_role("button", name="Xác nhận và gửi").click()
    expect(page.locator("#nd-done")).to_be_visible()
    with app.app_context():
        assert db.session.scalars(select(Dossier)).one().citizen_email == "mai@example.vn"
