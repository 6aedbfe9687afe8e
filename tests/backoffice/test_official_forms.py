"""The forms of Circular 01/2018/TT-VPCP: filled from the dossier, as A4 pages and PDFs, for the point's officers."""

from __future__ import annotations

import io
import re
from datetime import datetime

import pytest
from pypdf import PdfReader

from backoffice import forms_pdf
from backoffice.official_forms import Apology, DossierFacts, ReceiptSlip, Refusal, SupplementRequest
from core.timeutil import LOCAL_TZ
from tests import factories
from tests.backoffice.conftest import move
from tests.factories import auth, sign_in

FACTS = DossierFacts(
    number="000.02.98.H26-260310-0007", citizen_name="Nguyễn Thị Ngọc Ánh",
    procedure_name="Cấp Phiếu lý lịch tư pháp", processing_days=10,
    received_at=datetime(2026, 3, 10, 9, 5, tzinfo=LOCAL_TZ), deadline_at=datetime(2026, 3, 24, 17, 0, tzinfo=LOCAL_TZ),
    point_name="Chi nhánh số 2", point_address="258 Võ Chí Công, Tây Hồ", citizen_phone="+84912345678",
    documents=("to-khai.pdf (form)", "cccd.jpg (id)"), delivery="Chi nhánh số 2, 258 Võ Chí Công",
    officer_name="Trần Văn Bình")
AT = datetime(2026, 3, 23, 10, 0, tzinfo=LOCAL_TZ)
FORMS = {
    "receipt": ReceiptSlip(FACTS),
    "supplement": SupplementRequest(FACTS, AT, ("Bản chụp giấy tờ chứng minh nơi cư trú",), "Bản chụp bị mờ"),
    "refusal": Refusal(FACTS, AT, "Hồ sơ không thuộc thẩm quyền giải quyết"),
    "apology": Apology(FACTS, serial=4, unit_code="HN-CN02", at=AT, reason="Chờ kết quả xác minh",
                       old_deadline=FACTS.deadline_at, new_deadline=datetime(2026, 3, 31, 17, 0, tzinfo=LOCAL_TZ)),
}
TITLES = {"receipt": "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", "supplement": "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ",
          "refusal": "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ",
          "apology": "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ"}


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.1)  # A4: 210 mm
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


@pytest.mark.parametrize("name", list(FORMS))
def test_each_pdf_is_an_a4_form_in_vietnamese_with_the_dossier(name):
    form = FORMS[name].render()
    text = pdf_text(forms_pdf.render_pdf(form, qr_url="http://127.0.0.1:5000/t/abc" if name == "receipt" else None))
    for expected in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", TITLES[name],
                     FACTS.number, FACTS.citizen_name, FACTS.procedure_name, "CHI NHÁNH SỐ 2"):
        assert expected in text, (name, expected)
    assert f"Mẫu số 0{list(FORMS).index(name) + 1}" in text
    assert "ngày 23 tháng 03 năm 2026" in text or name == "receipt"


def test_the_receipt_slip_has_the_received_and_due_times_and_the_documents():
    form = FORMS["receipt"].render()
    text = pdf_text(forms_pdf.render_pdf(form))
    assert "4. Thời gian nhận hồ sơ: 09 giờ 05 phút, ngày 10 tháng 03 năm 2026" in text
    assert "5. Thời gian trả kết quả giải quyết hồ sơ: 17 giờ 00 phút, ngày 24 tháng 03 năm 2026" in text
    assert "10 ngày làm việc" in text and "(1) to-khai.pdf (form)" in text and "(2) cccd.jpg (id)" in text
    assert "Hà Nội, ngày 10 tháng 03 năm 2026" in text and "Mã hồ sơ: 000.02.98.H26-260310-0007" in text
    assert "NGƯỜI NỘP HỒ SƠ" in text and "NGƯỜI TIẾP NHẬN HỒ SƠ" in text and "Trần Văn Bình" in text


def test_the_apology_has_the_old_and_new_dates_and_the_reason():
    form = FORMS["apology"].render()
    text = form.text()
    assert form.reference == "Số: 004/PXL-HN-CN02"
    assert "17 giờ 00 phút, ngày 24 tháng 03 năm 2026" in text  # the date first given
    assert "vào 17 giờ 00 phút, ngày 31 tháng 03 năm 2026" in text  # the new one
    assert "Lý do: Chờ kết quả xác minh" in text and "xin lỗi" in text
    early = Apology(FACTS, 5, "HN-CN02", datetime(2026, 3, 20, 9, 0, tzinfo=LOCAL_TZ), "x", FACTS.deadline_at,
                    FACTS.deadline_at, late_already=False).render().text()
    assert "không thể trả kết quả giải quyết hồ sơ cho Ông/Bà đúng thời gian đã hẹn" in early


# ---------------------------------------------------------------- the pages, for the point's officers


def test_the_point_officer_gets_the_receipt_page_and_pdf(app, client, branch):
    page = client.get(f"/branch/dossiers/{branch.number}/forms/receipt")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert TITLES["receipt"] in html and branch.number in html and "Nguyễn Văn An" in html
    assert "17 giờ 00 phút, ngày 24 tháng 03 năm 2026" in html  # ten working days after Tuesday 10/03
    assert "size: A4" in html and "<svg" in html and "/t/" in html  # print CSS, the tracking QR code
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline script (CSP)
    pdf = client.get(f"/branch/dossiers/{branch.number}/forms/receipt.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    assert branch.number in text and "Nguyễn Văn An" in text and "Cấp Phiếu lý lịch tư pháp" in text
    assert "ngày 10 tháng 03 năm 2026" in text and "ngày 24 tháng 03 năm 2026" in text
    assert "Test branch_officer" in text  # the officer printing it receives it


def test_forms_that_do_not_apply_yet_are_404(client, branch):
    for form in ("supplement", "refusal", "apology"):
        assert client.get(f"/branch/dossiers/{branch.number}/forms/{form}").status_code == 404, form
        assert client.get(f"/branch/dossiers/{branch.number}/forms/{form}.pdf").status_code == 404, form
    assert client.get(f"/branch/dossiers/{branch.number}/forms/other").status_code == 404


def test_supplement_and_refusal_forms_come_from_their_events(app, client, branch):
    move(client, branch.officer_key, branch.number, "accepted")
    move(client, branch.officer_key, branch.number, "supplement_requested",
         "Bản chụp giấy tờ chứng minh nơi cư trú\nTờ khai có chữ ký của người yêu cầu")
    text = pdf_text(client.get(f"/branch/dossiers/{branch.number}/forms/supplement.pdf").data)
    assert TITLES["supplement"] in text and branch.number in text and "Nguyễn Văn An" in text
    assert "(1) Bản chụp giấy tờ chứng minh nơi cư trú" in text and "(2) Tờ khai có chữ ký" in text
    assert "Hà Nội, ngày 10 tháng 03 năm 2026" in text
    with app.app_context():
        factories.create_user("admin", email="quantri@test.vn")
    admin = app.test_client()
    sign_in(admin, "quantri@test.vn")
    text = pdf_text(admin.get(f"/branch/dossiers/{branch.number}/forms/supplement.pdf").data)
    assert "NGƯỜI HƯỚNG DẪN" in text and "Test branch_officer" in text  # who asked, whoever prints it
    move(client, branch.officer_key, branch.number, "rejected", "Người yêu cầu không bổ sung hồ sơ")
    html = client.get(f"/branch/dossiers/{branch.number}/forms/refusal").get_data(as_text=True)
    assert TITLES["refusal"] in html and "Người yêu cầu không bổ sung hồ sơ" in html
    text = pdf_text(client.get(f"/branch/dossiers/{branch.number}/forms/refusal.pdf").data)
    assert "Người yêu cầu không bổ sung hồ sơ" in text and "Cấp Phiếu lý lịch tư pháp" in text


def test_another_point_an_agent_and_admin(app, client, branch):
    other = app.test_client()
    sign_in(other, "canbo.khac@test.vn")
    assert other.get(f"/branch/dossiers/{branch.number}/forms/receipt").status_code == 404
    assert other.get(f"/branch/dossiers/{branch.number}/forms/receipt.pdf").status_code == 404
    assert other.get(f"/branch/dossiers/{branch.number}/forms/receipt",
                     headers=auth(branch.other_key)).status_code == 404
    anonymous = app.test_client()
    assert anonymous.get(f"/branch/dossiers/{branch.number}/forms/receipt").status_code == 302  # to sign-in
    with app.app_context():
        factories.create_user("agent", email="lan@test.vn", org=factories.create_org())
        factories.create_user("admin", email="quantri@test.vn")
    agent = app.test_client()
    sign_in(agent, "lan@test.vn")
    assert agent.get(f"/branch/dossiers/{branch.number}/forms/receipt").status_code == 403
    assert agent.get(f"/branch/dossiers/{branch.number}/forms/receipt.pdf",
                     headers=auth(branch.agent_key)).status_code == 403
    admin = app.test_client()
    sign_in(admin, "quantri@test.vn")
    assert admin.get(f"/branch/dossiers/{branch.number}/forms/receipt").status_code == 200
