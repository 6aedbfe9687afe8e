"""The branch officers' workspace (/branch) in Chromium, on the tests' database (PostgreSQL when reachable).

An officer bound to one point works its queue (only that point's dossiers, counts on the tabs, the procedure
filter, the phone search), opens a dossier (the citizen masked until "show", the opening audited), and takes
it through accept → supplement (SMS in the dev outbox, the deadline paused) → resume → result with a PDF →
the courier, offered only the legal moves at each step. Two officers in two browsers on one dossier: the
stale action is the 409 page with its text kept, and nothing changes. A branch lead sees the branch and its
points. The official form prints on an A4 sheet and its PDF downloads.
"""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import select

from backoffice.models import AdminAuditEvent
from core import outbox
from core.extensions import db
from core.models import User
from core.timeutil import to_local
from dossiers.models import Document, Dossier
from geo import service as geo
from notify import service as notify
from tests import factories
from tests.e2e.test_csp_pages import _watch

pytestmark = pytest.mark.smoke
PASSWORD = "correct horse battery staple"
OFFICER, SECOND, LEAD = "canbo.d002@test.vn", "canbo2.d002@test.vn", "truongcn.cn01@test.vn"
STATUS_SMS_TOPIC = "notify@dossiers.status_changed"
# Commune-level procedures, routed to the Hoàn Kiếm commune point (under branch 1), each with a checklist.
LONG = "HN-CU-201"  # Đăng ký thường trú, 7 working days: received Tue 10/03/2026 09:00, due Thu 19/03 17:00
SHORT = "HN-HT-201"  # Đăng ký khai sinh, 1 working day: due Wed 11/03 17:00
HOAN_KIEM = {**factories.HOAN_KIEM, "source": "gps"}
SOC_SON = {"lat": 21.26, "lon": 105.85, "source": "gps"}  # under the same branch as Hoàn Kiếm (the nearest)
BA_VI = {"lat": 21.20, "lon": 105.42, "source": "gps"}  # under another branch
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")


def _point_of(app, number: str) -> tuple[str, str | None]:
    """The code of the dossier's point and of that point's parent branch."""
    with app.app_context():
        point = geo.point_by_id(db.session.scalar(select(Dossier.service_point_id).where(Dossier.number == number)))
        return point.code, geo.point_by_id(point.parent_id).code if point.parent_id else None


def _dossier(app, number: str) -> Dossier:
    with app.app_context():
        found = db.session.scalar(select(Dossier).where(Dossier.number == number))
        db.session.expunge(found)
        return found


@pytest.fixture
def network(app, client, clock, agent_key):
    """Four dossiers: two at the Hoàn Kiếm commune point (one by courier, one with another procedure and
    phone), one at Sóc Sơn (another point of the same branch), one at Ba Vì (another branch's point); two
    officers bound to the Hoàn Kiếm point and the lead of its branch."""
    mine = factories.create_dossier(client, agent_key, procedure_code=LONG, location=HOAN_KIEM,
                                    delivery={"method": "courier", "address": "12 Hàng Bài, Hoàn Kiếm, Hà Nội"})
    other_procedure = factories.create_dossier(client, agent_key, procedure_code=SHORT, location=HOAN_KIEM,
                                               citizen={"phone": "0987654321", "cccd": "001090099999",
                                                        "full_name": "Trần Thị Bích"})
    same_branch = factories.create_dossier(client, agent_key, procedure_code=LONG, location=SOC_SON)
    other_branch = factories.create_dossier(client, agent_key, procedure_code=LONG, location=BA_VI)
    numbers = {"mine": mine["number"], "other_procedure": other_procedure["number"],
               "same_branch": same_branch["number"], "other_branch": other_branch["number"]}
    points = {name: _point_of(app, number) for name, number in numbers.items()}
    point, branch = points["mine"]
    # The premises of the scenario, from the routing itself.
    assert points["other_procedure"][0] == point and branch is not None
    assert points["same_branch"][0] != point and points["same_branch"][1] == branch
    assert points["other_branch"][1] not in (None, branch)
    with app.app_context():
        factories.create_user("branch_officer", email=OFFICER, service_point_code=point)
        factories.create_user("branch_officer", email=SECOND, service_point_code=point)
        lead = factories.create_user("branch_officer", email=LEAD, service_point_code=branch)
        db.session.get(User, lead.id).is_branch_lead = True
        db.session.commit()
    return {"numbers": numbers, "point": point, "branch": branch}


def _signed_in(browser, live_server, email: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{live_server}/branch")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", name="Hàng đợi công việc")).to_be_visible()
    return context, page


def _follow(page, locator) -> None:
    """Click a link or button that loads another page, and wait for that page (before reading it)."""
    with page.expect_navigation():
        locator.click()


def _rows(page) -> list[str]:
    return page.locator("#queue tbody tr").evaluate_all("rows => rows.map(r => r.dataset.number)")


def _count(page, tab: str) -> int:
    return int(page.locator(f'#tabs strong.count[data-tab="{tab}"]').inner_text())


def _offered(page) -> set[str]:
    """The actions the dossier page offers: its move buttons and its action forms."""
    moves = page.locator("form.move").evaluate_all("forms => forms.map(f => f.dataset.to)")
    forms = page.locator("#supplement-form, #result-form, #transfer-form").evaluate_all("fs => fs.map(f => f.id)")
    return set(moves) | set(forms)


def test_an_officer_works_a_dossier_from_the_queue_to_the_courier(app, browser, live_server, network, shoot):
    numbers = network["numbers"]
    mine = numbers["mine"]
    context, page = _signed_in(browser, live_server, OFFICER)
    problems = _watch(page)  # console errors, CSP violations, failed loads: none all the way
    try:
        # The queue: this point's two dossiers only, counted on the tabs.
        expect(page.locator("main")).to_contain_text(network["point"])
        assert sorted(_rows(page)) == sorted([mine, numbers["other_procedure"]])
        assert _count(page, "new") == 2 and _count(page, "accepted") == 0 and _count(page, "overdue") == 0
        assert _count(page, "due_soon") == 1  # SHORT takes one working day: due tomorrow 17:00
        shoot(page, "branch-queue")

        page.get_by_label("Thủ tục").select_option(SHORT)
        page.get_by_role("button", name="Lọc").click()
        expect(page.locator("#queue tbody tr")).to_have_count(1)
        assert _rows(page) == [numbers["other_procedure"]] and _count(page, "new") == 1
        page.get_by_role("link", name="Bỏ lọc").click()
        expect(page.locator("#queue tbody tr")).to_have_count(2)

        page.get_by_label("Số hồ sơ, điện thoại hoặc CCCD").fill("0987 654 321")
        page.get_by_role("button", name="Lọc").click()
        expect(page.locator("#queue tbody tr")).to_have_count(1)
        assert _rows(page) == [numbers["other_procedure"]]
        page.get_by_label("Số hồ sơ, điện thoại hoặc CCCD").fill("0911 000 000")
        page.get_by_role("button", name="Lọc").click()
        expect(page.locator("#queue-empty")).to_be_visible()
        _follow(page, page.get_by_role("link", name="Bỏ lọc"))

        # One dossier: the citizen masked until shown, the showing audited.
        _follow(page, page.get_by_role("link", name=mine))
        expect(page.locator("#d-title")).to_contain_text(mine)
        citizen = page.locator("#citizen")
        expect(citizen).to_have_attribute("data-revealed", "false")
        expect(citizen).not_to_contain_text("001090012345")
        expect(citizen).not_to_contain_text("0912345678")
        expect(citizen).to_contain_text("091****678")
        with app.app_context():
            assert db.session.scalars(select(AdminAuditEvent)).all() == []
        page.get_by_role("button", name="Hiện thông tin công dân").click()
        expect(citizen).to_have_attribute("data-revealed", "true")
        expect(citizen).to_contain_text("001090012345")
        expect(citizen).to_contain_text("Nguyễn Văn An")
        with app.app_context():
            audited = [(e.actor, e.action, e.target) for e in db.session.scalars(select(AdminAuditEvent))]
        assert audited == [(f"user:{OFFICER}", "dossier.reveal_citizen", mine)]

        # Routed: accept, reject or transfer; nothing further.
        expect(page.locator("#status")).to_have_attribute("data-status", "routed")
        assert _offered(page) == {"accepted", "rejected", "transfer-form"}
        assert [li.get_attribute("data-form") for li in page.locator("#official-forms li[data-form]").all()] \
            == ["receipt"]
        page.locator("#move-accepted").click()
        expect(page.locator("#status")).to_have_attribute("data-status", "accepted")
        assert _offered(page) == {"processing", "rejected", "supplement-form", "transfer-form"}

        # A supplement: the SMS goes to the dev outbox, the deadline pauses.
        deadline = _dossier(app, mine).deadline_at
        form = page.locator("#supplement-form")
        asked = form.locator("input[name=documents]").first.get_attribute("value")  # the checklist's first line
        form.get_by_label(asked).check()
        form.get_by_label("Ghi chú gửi công dân").fill("Tờ khai thiếu chữ ký của người yêu cầu")
        form.get_by_role("button", name="Gửi yêu cầu bổ sung").click()
        expect(page.locator("#status")).to_have_attribute("data-status", "supplement_requested")
        expect(page.locator("#deadline")).to_contain_text("Tạm dừng từ")
        found = _dossier(app, mine)
        assert found.paused_at is not None and found.deadline_at == deadline
        with app.app_context():
            outbox.run_due(topic=STATUS_SMS_TOPIC)
            sent = [m for m in notify.dev_outbox() if m["dossier_id"] == found.id]
        assert [m["event"] for m in sent if m["event"] == "supplement_requested"] == ["supplement_requested"]
        assert mine in next(m["body"] for m in sent if m["event"] == "supplement_requested")
        expect(page.locator('#official-forms li[data-form="supplement"]')).to_be_visible()
        # Form 02: the document asked for as its item, the note as its reason.
        form02 = context.request.get(live_server + page.locator('#official-forms li[data-form="supplement"] a')
                                     .first.get_attribute("href")).text()
        assert f"(1) {asked}" in form02 and "(2)" not in form02
        assert re.search(r"Lý do:.*Tờ khai thiếu chữ ký của người yêu cầu", form02, re.S)
        assert _offered(page) == {"processing", "rejected", "transfer-form"}

        # The supplement arrives: processing resumes, the pause ends.
        page.get_by_role("button", name="Đã nhận bổ sung: tiếp tục xử lý").click()
        expect(page.locator("#status")).to_have_attribute("data-status", "processing")
        assert _dossier(app, mine).paused_at is None
        assert _offered(page) == {"rejected", "supplement-form", "result-form", "transfer-form"}

        # The result, uploaded as a PDF, shown in the page.
        page.locator("#result-file").set_input_files(
            files=[{"name": "ket-qua.pdf", "mimeType": "application/pdf", "buffer": PDF}])
        page.locator("#result-submit").click()
        expect(page.locator("#status")).to_have_attribute("data-status", "result_ready")
        expect(page.locator('figure.document[data-kind="result"] iframe')).to_have_count(1)
        with app.app_context():
            stored = db.session.scalars(select(Document).where(
                Document.dossier_id == found.id, Document.kind == "result")).all()
        assert [d.filename for d in stored] == ["ket-qua.pdf"]
        src = page.locator('figure.document[data-kind="result"] iframe').get_attribute("src")
        served = context.request.get(live_server + src)
        assert served.ok and served.body() == PDF and served.headers["content-type"] == "application/pdf"
        # By courier: the counter collection is not offered, nor a transfer any more.
        assert _offered(page) == {"out_for_delivery"}

        page.get_by_role("button", name="Giao cho bưu tá").click()
        expect(page.locator("#status")).to_have_attribute("data-status", "out_for_delivery")
        assert _offered(page) == {"delivered", "result_ready"}
        shoot(page, "branch-dossier-out-for-delivery")
        with app.app_context():
            actions = [e.action for e in db.session.scalars(select(AdminAuditEvent).order_by(AdminAuditEvent.id))]
        assert actions == ["dossier.reveal_citizen", "dossier.accepted", "dossier.supplement_requested",
                           "dossier.processing", "dossier.result_ready", "dossier.out_for_delivery"]
        assert _dossier(app, mine).status.value == "out_for_delivery"
        assert problems == []
    finally:
        context.close()


def test_the_queue_filters_by_organisation_and_status_and_pages(app, browser, live_server, network, client,
                                                                other_agent_key):
    numbers = network["numbers"]
    theirs = factories.create_dossier(client, other_agent_key, procedure_code=LONG, location=HOAN_KIEM)
    assert _point_of(app, theirs["number"])[0] == network["point"]
    previous = app.config.get("BRANCH_QUEUE_PAGE_SIZE")
    app.config["BRANCH_QUEUE_PAGE_SIZE"] = 2
    context, page = _signed_in(browser, live_server, OFFICER)
    try:
        assert _count(page, "new") == 3
        # By deadline: the one-day procedure first, then the two ten-day ones in the order they came.
        assert _rows(page) == [numbers["other_procedure"], numbers["mine"]]
        expect(page.locator("#pages")).to_contain_text("Trang 1 / 2")
        _follow(page, page.locator('#pages a[rel="next"]'))
        assert _rows(page) == [theirs["number"]]
        expect(page.locator("#pages")).to_contain_text("Trang 2 / 2")
        _follow(page, page.locator('#pages a[rel="prev"]'))
        assert _rows(page) == [numbers["other_procedure"], numbers["mine"]]

        page.get_by_label("Tổ chức đại lý").select_option("HNTECH")
        page.get_by_role("button", name="Lọc").click()
        expect(page.locator("#queue tbody tr")).to_have_count(1)
        assert _rows(page) == [theirs["number"]] and _count(page, "new") == 1
        _follow(page, page.get_by_role("link", name="Bỏ lọc"))

        page.get_by_label("Trạng thái").select_option("received")  # every new one here has been routed
        page.get_by_role("button", name="Lọc").click()
        expect(page.locator("#queue-empty")).to_be_visible()
        page.get_by_label("Trạng thái").select_option("routed")
        page.get_by_role("button", name="Lọc").click()
        expect(page.locator("#queue tbody tr")).to_have_count(2)
        expect(page.locator("#list-title")).to_contain_text("(3)")
    finally:
        context.close()
        app.config["BRANCH_QUEUE_PAGE_SIZE"] = previous
        if previous is None:
            app.config.pop("BRANCH_QUEUE_PAGE_SIZE")


def test_an_illegal_move_posted_anyway_is_refused_and_changes_nothing(app, browser, live_server, network):
    number = network["numbers"]["mine"]
    context, page = _signed_in(browser, live_server, OFFICER)
    try:
        page.goto(f"{live_server}/branch/dossiers/{number}")
        assert "collected" not in _offered(page) and "result-form" not in _offered(page)
        # A hand-made form (a stale tab, a crafted page) asking for a move the page did not offer.
        page.locator("form.move[data-to=accepted] input[name=to]").evaluate("input => input.value = 'collected'")
        page.locator("#move-accepted").click()
        expect(page.locator("#problem")).to_be_visible()
        expect(page.locator("#status")).to_have_attribute("data-status", "routed")
        assert _dossier(app, number).status.value == "routed"
    finally:
        context.close()


def test_two_officers_on_one_dossier_the_stale_one_gets_the_409_page_with_their_text(app, browser, live_server,
                                                                                     network, shoot):
    number = network["numbers"]["other_procedure"]
    first, first_page = _signed_in(browser, live_server, OFFICER)
    second, second_page = _signed_in(browser, live_server, SECOND)
    try:
        for page in (first_page, second_page):
            page.goto(f"{live_server}/branch/dossiers/{number}")
            expect(page.locator("#status")).to_have_attribute("data-status", "routed")
        before = _dossier(app, number)

        first_page.locator("#move-accepted").click()
        expect(first_page.locator("#status")).to_have_attribute("data-status", "accepted")
        accepted = _dossier(app, number)
        assert accepted.version == before.version + 1

        reason = "Hồ sơ không thuộc thẩm quyền của điểm này"
        second_page.locator("#reason-rejected").fill(reason)
        second_page.locator("#move-rejected").click()
        expect(second_page.get_by_role("heading", name="Hồ sơ này vừa được người khác thay đổi")).to_be_visible()
        expect(second_page.locator("#wrote")).to_have_value(reason)
        shoot(second_page, "branch-dossier-409")
        after = _dossier(app, number)
        assert (after.status.value, after.version) == ("accepted", accepted.version)
        with app.app_context():
            events = db.session.scalar(select(Dossier).where(Dossier.number == number)).events
            assert [e.to_status for e in events][-1] == "accepted"
            assert not [e for e in events if e.to_status == "rejected"]
            assert [e.action for e in db.session.scalars(select(AdminAuditEvent))] == ["dossier.accepted"]

        second_page.get_by_role("link", name="Mở hồ sơ như hiện tại").click()
        expect(second_page.locator("#status")).to_have_attribute("data-status", "accepted")
    finally:
        first.close()
        second.close()


def test_assign_reject_with_a_reason_and_transfer(app, browser, live_server, network):
    numbers = network["numbers"]
    target = _point_of(app, numbers["same_branch"])[0]
    context, page = _signed_in(browser, live_server, OFFICER)
    try:
        # Assign to the colleague: the page says who has it.
        page.goto(f"{live_server}/branch/dossiers/{numbers['other_procedure']}")
        expect(page.locator("#assignee")).to_have_text("Chưa giao")
        page.get_by_label("Cán bộ được giao").select_option(SECOND)
        page.get_by_role("button", name="Giao xử lý").click()
        expect(page.get_by_role("status")).to_have_text("Đã lưu phân công.")
        expect(page.locator("#assignee")).to_have_text("Test branch_officer")
        with app.app_context():
            second = db.session.scalar(select(User).where(User.email == SECOND))
            assert _dossier(app, numbers["other_procedure"]).assigned_user_id == second.id

        # Reject: the reason is required by the page; given, the dossier is refused and form 03 offered.
        page.locator("#move-rejected").click()
        expect(page.locator("#status")).to_have_attribute("data-status", "routed")  # the browser asked first
        page.get_by_label("Lý do từ chối").fill("Hồ sơ không thuộc thẩm quyền giải quyết")
        page.locator("#move-rejected").click()
        expect(page.locator("#status")).to_have_attribute("data-status", "rejected")
        expect(page.locator('#official-forms li[data-form="refusal"]')).to_be_visible()
        assert _offered(page) == {"closed"}
        assert _dossier(app, numbers["other_procedure"]).status.value == "rejected"

        # Transfer, with a reason, to another point of the branch: it leaves this point's queue.
        page.goto(f"{live_server}/branch/dossiers/{numbers['mine']}")
        page.get_by_label("Chuyển đến").select_option(target)
        page.get_by_label("Lý do chuyển").fill("Người dân ở gần điểm Sóc Sơn hơn")
        page.locator("#transfer-submit").click()
        expect(page.get_by_role("status")).to_have_text(f"Hồ sơ đã được chuyển đến {target}.")
        expect(page.get_by_role("heading", name="Hàng đợi công việc")).to_be_visible()
        assert numbers["mine"] not in _rows(page)
        assert _point_of(app, numbers["mine"])[0] == target
        assert page.goto(f"{live_server}/branch/dossiers/{numbers['mine']}").status == 404
        with app.app_context():
            actions = [e.action for e in db.session.scalars(select(AdminAuditEvent).order_by(AdminAuditEvent.id))]
        assert actions == ["dossier.assign", "dossier.rejected", "dossier.transfer"]
    finally:
        context.close()


def test_a_branch_lead_sees_the_branch_and_its_points_only(app, browser, live_server, network):
    numbers = network["numbers"]
    context, page = _signed_in(browser, live_server, LEAD)
    try:
        expect(page.locator("main")).to_contain_text(network["branch"])
        expect(page.locator("main")).to_contain_text("lãnh đạo chi nhánh")
        assert sorted(_rows(page)) == sorted([numbers["mine"], numbers["other_procedure"], numbers["same_branch"]])
        assert _count(page, "new") == 3
        page.goto(f"{live_server}/branch/dossiers/{numbers['same_branch']}")
        expect(page.locator("#d-title")).to_contain_text(numbers["same_branch"])
        assert page.goto(f"{live_server}/branch/dossiers/{numbers['other_branch']}").status == 404
    finally:
        context.close()
    context, page = _signed_in(browser, live_server, OFFICER)
    try:
        assert numbers["same_branch"] not in _rows(page) and numbers["other_branch"] not in _rows(page)
    finally:
        context.close()


def test_the_receipt_prints_on_an_a4_sheet_and_its_pdf_downloads(app, browser, live_server, network, shoot):
    number = network["numbers"]["mine"]
    context, page = _signed_in(browser, live_server, OFFICER)
    try:
        page.goto(f"{live_server}/branch/dossiers/{number}")
        receipt = page.locator('#official-forms li[data-form="receipt"]')
        receipt.get_by_role("link", name="A4").click()
        sheet = page.locator("main.sheet")
        expect(sheet).to_contain_text("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ")
        expect(sheet).to_contain_text(number)
        width_mm = sheet.evaluate("el => el.getBoundingClientRect().width") * 25.4 / 96
        assert width_mm == pytest.approx(210, abs=1)
        page.emulate_media(media="print")
        expect(page.locator("nav.no-print")).to_be_hidden()
        shoot(page, "branch-receipt-a4")
        page.emulate_media(media="screen")

        with page.expect_download(timeout=60_000) as download:  # the PDF link, as a download
            page.get_by_role("link", name="PDF (A4)").evaluate("a => { a.download = ''; a.click(); }")
        body = open(download.value.path(), "rb").read()
        reader = PdfReader(io.BytesIO(body))
        assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.1)  # A4: 210 mm
        assert reader.pages[0].mediabox.height == pytest.approx(841.89, abs=0.1)
        text = " ".join(reader.pages[0].extract_text().split())
        assert number in text and re.search(r"GIẤY TIẾP NHẬN HỒ SƠ", text)
        page.get_by_role("link", name=re.compile(r"^← Hồ sơ")).click()
        expect(page.locator("#d-title")).to_contain_text(number)
    finally:
        context.close()


def test_an_apology_for_lateness_sets_a_new_date_texts_the_citizen_and_prints(app, browser, live_server, network):
    number = network["numbers"]["mine"]  # due Thursday 19/03/2026 17:00
    context, page = _signed_in(browser, live_server, OFFICER)
    try:
        page.goto(f"{live_server}/branch/dossiers/{number}")
        expect(page.locator('#official-forms li[data-form="apology"]')).to_have_count(0)  # none given yet
        page.get_by_role("link", name="Xin lỗi vì trễ hạn và hẹn ngày mới").click()
        page.get_by_label("Lý do chậm trả kết quả").fill("Chờ kết quả xác minh của Công an tỉnh")
        page.get_by_label("Ngày hẹn trả kết quả mới").fill("2026-03-31")
        page.get_by_role("button", name="Ghi phiếu xin lỗi").click()
        expect(page.get_by_role("status")).to_have_text(
            "Đã ghi phiếu xin lỗi: công dân được báo ngày hẹn mới qua SMS.")
        sheet = page.locator("main.sheet")
        expect(sheet).to_contain_text("PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ")
        expect(sheet).to_contain_text("Chờ kết quả xác minh của Công an tỉnh")
        expect(sheet).to_contain_text("ngày 31 tháng 03 năm 2026")
        found = _dossier(app, number)
        assert to_local(found.deadline_at).strftime("%d/%m/%Y %H:%M") == "31/03/2026 17:00"
        with app.app_context():
            outbox.run_due()
            sent = [m for m in notify.dev_outbox() if m["dossier_id"] == found.id and m["event"] == "apology"]
        assert len(sent) == 1 and sent[0]["body"].startswith(f"Xin loi, ho so {number} tra cham, hen lai 31/03/2026.")

        page.get_by_role("link", name=re.compile(r"^← Hồ sơ")).click()
        expect(page.locator("#deadline")).to_contain_text("31/3/26")
        expect(page.locator('#official-forms li[data-form="apology"]')).to_be_visible()
        expect(page.locator("#timeline")).to_contain_text("Chờ kết quả xác minh của Công an tỉnh")
    finally:
        context.close()
