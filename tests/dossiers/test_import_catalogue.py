"""The catalogue importer (tools/import_catalogue.py): the portal's fields, the 2025 levels, the merge with
the hand-checked rows, the report of what is unsourced, and the committed catalogue it wrote."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

import pytest
from sqlalchemy import delete

from core import versions
from core.extensions import db
from dossiers import catalogue
from dossiers.models import Procedure
from tests.factories import auth
from tests.tools_loader import import_catalogue as tool

HAND = (
    "code,name,name_en,level,sector,fee_vnd,fee_note,processing_days,required_documents,"
    "required_documents_en,fee_note_vi\n"
    "HN-X-101,Đăng ký thành lập hộ kinh doanh,Household business registration,district,Hộ kinh doanh,100000,"
    "Hanoi People's Council fee resolution,3,Giấy đề nghị | Bản sao CCCD,Application | Copy of ID,"
    "Nghị quyết HĐND thành phố\n"
    "HN-X-201,Đăng ký khai sinh,Birth registration,commune,Hộ tịch,0,Civil Status Law 2014 Art. 11 (exempt),1,"
    "Tờ khai | Giấy chứng sinh,Declaration | Birth certificate from the hospital,Luật Hộ tịch 2014\n"
    "HN-X-301,Cấp bản sao văn bằng,Copy of a diploma,province,Giáo dục,5000,illustrative,1,Đơn,Application,"
    "minh họa\n"
)
CHANNELS = "Hình thức nộpThời gianPhí, lệ phíMô tả"


def record(code, name, level, fee, days="3", documents="--Tên giấy tờMẫu đơn, tờ khaiSố lượngĐơn đề nghị1 bản chính",
           basis="Tên văn bản pháp lýMã văn bảnLuật Hộ tịch60/2014/QH13"):
    return {"ma_thu_tuc": code, "detail_url": f"https://dichvucong.gov.vn/thu-tuc-hanh-chinh/{code}",
            "ten_thu_tuc": name, "cap_thuc_hien": level, "linh_vuc": "Hộ tịch",
            "cach_thuc_thuc_hien": f"{CHANNELS}Trực tuyến{days}{fee}Trực tiếp{days}{fee}",
            "thanh_phan_ho_so": documents, "can_cu_phap_ly": basis}


PORTAL = [
    record("1.001193", "Thủ tục đăng ký khai sinh", "Cấp xã", "Miễn phí"),  # merges with HN-X-201
    record("1.000001", "Thủ tục cấp giấy phép thử nghiệm", "Cấp huyện", "100.000 VNĐ(Thông tư số 85/2019/TT-BTC)",
           days="7 Ngày làm việc"),
    record("1.000002", "Cấp thị thực", "Cấp bộ", "25 USD"),
    record("1.000003", "Đăng ký lại kết hôn", "Cấp xã",
           "Miễn phí(Mức lệ phí cụ thể do Hội đồng nhân dân tỉnh, thành phố trực thuộc Trung ương quyết định.)"),
    record("1.000004", "Đăng ký hoạt động tổ chức hành nghề luật sư", "Cấp tỉnh",
           "50 VNĐ((áp dụng mức phí 25.000 đồng/hồ sơ kể từ ngày 01/7/2025 theo Thông tư số 64/2025/TT-BTC))",
           days="7 Ngày làm việc"),
    record("1.000005", "Cấp giấy phép không rõ cấp", "", "Miễn phí"),
    record("1.000006", "Cấp giấy phép có phí lạ", "Cấp tỉnh", "50 VNĐ", days="5 Ngày làm việc"),
]


def _build():
    return tool.build_catalogue(HAND, PORTAL, ["fixture"])


def _kind(build, kind):
    return {f.code: f.detail for f in build.findings if f.kind == kind}


def test_levels_after_the_2025_reform_no_district():
    build = _build()
    rows = {r["code"]: r for r in build.rows}
    assert {r["level"] for r in build.rows} == {"province", "commune"}
    assert rows["HN-X-101"]["level"] == "commune" and rows["1.000001"]["level"] == "commune"
    assert set(_kind(build, "level_mapped")) == {"HN-X-101", "1.000001"}
    assert "1/7/2025" in _kind(build, "level_mapped")["1.000001"]
    assert "1.000002" not in rows and "ministry" in _kind(build, "skipped")["1.000002"]  # Cấp bộ: not at Hanoi
    assert "1.000005" not in rows and set(_kind(build, "level_missing")) == {"1.000005"}


def test_fees_from_the_portal_and_unsourced_ones_at_zero():
    rows = {r["code"]: r for r in _build().rows}
    assert (rows["1.000001"]["fee_vnd"], rows["1.000001"]["fee_note"]) == (
        "100000", "100000 VND (national portal 1.000001); per 85/2019/TT-BTC")
    assert rows["1.000004"]["fee_vnd"] == "25000" and "reduced rate" in rows["1.000004"]["fee_note"]
    for code in ("1.000003", "1.000006", "HN-X-101", "HN-X-301"):  # council-set, implausible, unnumbered, illustrative
        assert rows[code]["fee_vnd"] == "0" and rows[code]["fee_note"].startswith("unsourced"), code
        assert rows[code]["fee_note_vi"].startswith("chưa có nguồn"), code
    build = _build()
    assert set(_kind(build, "fee_unsourced")) == {"1.000003", "1.000006", "HN-X-101", "HN-X-301"}
    assert _kind(build, "fee_unsourced")["HN-X-101"] == "was 100000 VND, \"Hanoi People's Council fee resolution\""
    assert _kind(build, "fee_suspect") == {"1.000006": "50 VND listed"}


def test_a_portal_record_merges_into_the_hand_checked_row():
    build = _build()
    rows = {r["code"]: r for r in build.rows}
    assert "1.001193" not in rows  # no second birth registration
    birth = rows["HN-X-201"]
    assert (birth["name"], birth["name_en"], birth["national_code"]) == (
        "Đăng ký khai sinh", "Birth registration", "1.001193")
    assert birth["required_documents"] == "Tờ khai | Giấy chứng sinh"  # the hand-checked, translated checklist
    assert birth["legal_basis"] == "60/2014/QH13" and birth["source"].endswith("/1.001193")
    assert birth["fee_vnd"] == "0" and birth["fee_note"] == "exempt (national portal 1.001193)"
    assert "HN-X-201" in _kind(build, "merged")
    assert set(_kind(build, "legal_basis_missing")) == {"HN-X-101", "HN-X-301"}
    assert set(_kind(build, "untranslated")) == {"1.000001", "1.000003", "1.000004", "1.000006"}


def test_the_portal_text_fields_are_parsed():
    glued = ("Tên văn bản pháp lýMã văn bảnNghị định số 123/2015/NĐ-CP ngày 15/11/2015 hướng dẫn Luật Hộ tịch"
             "123/2015/NĐ-CPLuật 60/2014/QH1360/2014/QH13Thông tư sửa đổi Thông tư 85/2019/TT-BTC.106/2021/TT-BTC"
             "Nghị quyết66.7/2025/NQ-CPThông tư số 03/2023/TT-BTP ngày 02/8/2023Thông tư số 03/2023/TT-BTP")
    assert tool.legal_codes(glued) == ["123/2015/NĐ-CP", "60/2014/QH13", "85/2019/TT-BTC", "106/2021/TT-BTC",
                                       "66.7/2025/NQ-CP", "03/2023/TT-BTP"]
    assert tool.processing_days(f"{CHANNELS}Trực tuyến0.5Miễn phíTrực tiếp60 Ngày làm việcKhông có thông tin") == 60
    assert tool.processing_days("Không có thông tin") is None
    documents = ("* Giấy tờ phải nộp:Tên giấy tờMẫu đơn, tờ khaiSố lượng- Giấy chứng sinh; trường hợp không có "
                 "thì nộp văn bản của người làm chứng.1 bản chínhTrường hợp đã nộp bản điện tử thì không phải nộp."
                 "0 bản chính* Lưu ý:Tên giấy tờMẫu đơn, tờ khaiSố lượng- Cá nhân có quyền lựa chọn nơi nộp.0 bản "
                 "chính- Một lưu ý có số lượng.1 bản chính--Tên giấy tờMẫu đơn, tờ khaiSố lượng- Tờ khai theo mẫu "
                 "thống nhấtMẫu TP-LS-02-sđ.docx1 bản chínhBản sao giấy tờ nhà.0 bản chính,1 bản sao")
    assert tool.required_documents(documents) == ["Giấy chứng sinh", "Tờ khai theo mẫu thống nhất",
                                                  "Bản sao giấy tờ nhà"]
    assert tool.procedure_name("Thủ tục đăng ký khai tử") == "Đăng ký khai tử"


def test_template_file_names_glued_to_an_item_are_cut_and_tables_without_headings_read():
    cut = tool._document
    assert cut("Giấy đề nghị cấp giấy phép theo mẫuTK 1.001023 (all).docx") == "Giấy đề nghị cấp giấy phép theo mẫu"
    assert cut("Đơn đề nghị theo mẫu quy định;văn bản đề nghị.docx") == "Đơn đề nghị theo mẫu quy định"
    assert cut("Văn bản đề nghị bãi bỏ đường ngang theo quy định1.4. Don de nghi bai bo duong ngang.docx") == \
        "Văn bản đề nghị bãi bỏ đường ngang theo quy định"
    assert cut("Bản khai theo Mẫu số 13 ban hành kèm theo Nghị định số 39/2026/NĐ -CPmau so 13 (1).doc") == \
        "Bản khai theo Mẫu số 13 ban hành kèm theo Nghị định số 39/2026/NĐ -CP"
    assert cut("Đơn theo Mẫu số 03 kèm theo Thông tư số 26/2025/TT-BNNMTMẫu số 03.docx") == \
        "Đơn theo Mẫu số 03 kèm theo Thông tư số 26/2025/TT-BNNMT"
    assert cut("Phương án theo Thông tư số 16/2025/TT-BNNMT;Mus01.docxPhlcIV.docx") == \
        "Phương án theo Thông tư số 16/2025/TT-BNNMT"
    # Tables under captions, not under the "* Giấy tờ phải nộp" headings: each caption stays out.
    tables = ("Hồ sơ đề nghị cấp lại gồm:Tên giấy tờMẫu đơn, tờ khaiSố lượngVăn bản đề nghị cấp lại (Mẫu 02)"
              "Mẫu số 02.docx1 bản chínhMột ảnh màu cỡ 3cm x 4cm1 bản chính* Trường hợp bị mất Tên giấy tờMẫu "
              "đơn, tờ khaiSố lượngGiấy cam đoan1 bản chính")
    assert tool.required_documents(tables) == ["Văn bản đề nghị cấp lại (Mẫu 02)", "Một ảnh màu cỡ 3cm x 4cm",
                                               "Giấy cam đoan"]


def test_procedures_hanois_points_do_not_receive_are_skipped_with_the_reason():
    elsewhere = [
        {**record("1.000110", "Thủ tục đăng ký khai sinh có yếu tố nước ngoài tại khu vực biên giới", "Cấp xã",
                  "Miễn phí")},
        {**record("1.000005", "Thủ tục hải quan đối với khí", "Cấp xã", "Miễn phí"), "linh_vuc": "Hải quan"},
        {**record("1.001613", "Giải quyết hưởng bảo hiểm xã hội một lần", "Cấp tỉnh, Cấp xã", "Miễn phí"),
         "linh_vuc": "Thực hiện chính sách BHXH"},
        {**record("1.000942", "Trả lại giấy phép nhận chìm (cấp tỉnh)", "Cấp tỉnh", "Miễn phí"),
         "linh_vuc": "Biển và hải đảo"},
        {**record("1.002544", "Hỗ trợ phát triển sản xuất cộng đồng", "Cấp xã", "Miễn phí"),
         "so_quyet_dinh": "226/QĐ-UBND"},
        record("1.009999", "Cấp giấy phép không có hồ sơ", "Cấp tỉnh", "Miễn phí", documents="Không có thông tin"),
    ]
    build = tool.build_catalogue(HAND, elsewhere, ["fixture"])
    assert not [r for r in build.rows if r["national_code"]]
    skipped = {f.code: f.detail for f in build.findings if f.kind == "skipped"}
    assert set(skipped) == {r["ma_thu_tuc"] for r in elsewhere}
    assert "land border" in skipped["1.000110"] and "customs" in skipped["1.000005"]
    assert "Social Security" in skipped["1.001613"] and "coast" in skipped["1.000942"]
    assert "226/QĐ-UBND" in skipped["1.002544"] and "checklist" in skipped["1.009999"]


def test_the_report_lists_what_is_unsourced():
    report = tool.to_report(_build())
    assert "district 0" in report and "- fixture" in report
    unsourced = report.split("## Fee unsourced")[1].split("\n## ")[0]
    for code in ("1.000003", "1.000006", "HN-X-101", "HN-X-301"):
        assert f"| {code} |" in unsourced
    assert "| 1.000001 |" not in unsourced
    legal = report.split("## No legal basis")[1].split("\n## ")[0]
    assert "(2)" in legal and "| HN-X-101 |" in legal and "| HN-X-201 |" not in legal
    assert "## No level in the source (1)" in report and "## Skipped" in report


@pytest.fixture
def fixture_rows_removed(app):
    """Procedures are reference data, kept from test to test: the rows this test imports go again."""
    yield
    with app.app_context():
        db.session.execute(delete(Procedure).where(Procedure.code.in_([r["code"] for r in _build().rows])))
        versions.bump(versions.PROCEDURES)
        db.session.commit()


def test_the_importer_output_loads_into_the_platform(app, fixture_rows_removed):
    text = tool.to_csv(_build())
    assert next(csv.reader(io.StringIO(text))) == catalogue.CSV_COLUMNS
    with app.app_context():
        report = catalogue.import_csv(text)
    assert report.rejected == [] and report.created == 7  # 3 hand-checked rows, 4 from the portal


def test_a_district_row_is_refused_by_the_platform(app):
    header = ",".join(catalogue.CSV_COLUMNS)
    with app.app_context():
        report = catalogue.import_csv(f"{header}\nHN-X-001,Thủ tục thử,,district,Thử,0,,1,Giấy A,,\n")
    assert report.created == 0 and report.rejected[0]["errors"][0]["field"] == "level"


def test_the_committed_catalogue_and_report_are_the_importers_output():
    """dossiers/data/procedures.csv and catalogue_report.md are rebuilt from the committed sources."""
    done = subprocess.run([sys.executable, str(tool.ROOT / "tools" / "import_catalogue.py"), "--check"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(tool.OUTPUT_CSV.read_text(encoding="utf-8"))))
    assert {r["level"] for r in rows} == {"province", "commune"}
    report = tool.OUTPUT_REPORT.read_text(encoding="utf-8")
    for row in rows:
        if row["fee_note"].startswith("unsourced"):
            assert row["fee_vnd"] == "0" and f"| {row['code']} |" in report.split("## Fee unsourced")[1]
        if not row["legal_basis"]:
            assert f"| {row['code']} |" in report.split("## No legal basis")[1].split("\n## ")[0]


def test_the_api_shows_legal_basis_and_source(client, agent_key):
    birth = client.get("/api/v1/procedures", query_string={"q": "HN-HT-201"}, headers=auth(agent_key)).get_json()[0]
    assert birth["national_code"] == "1.001193" and "60/2014/QH13" in birth["legal_basis"].split("; ")
    assert birth["source"].startswith("https://dichvucong.gov.vn/thu-tuc-hanh-chinh/")
    lawyers = client.get("/api/v1/procedures", query_string={"q": "1.002010"}, headers=auth(agent_key)).get_json()[0]
    assert (lawyers["level"], lawyers["fee_vnd"], lawyers["name_en"]) == ("province", 25000, None)
