"""The one-stop-shop forms of Circular 01/2018/TT-VPCP, as lines and fields: pure Python, no Flask.

Circular 01/2018/TT-VPCP of 23 November 2018 (Văn phòng Chính phủ), guiding Decree 61/2018/NĐ-CP on the
"one-stop shop" (cơ chế một cửa, một cửa liên thông), annexes the forms a reception desk hands out:

- Mẫu số 01, Giấy tiếp nhận hồ sơ và hẹn trả kết quả: who submitted, what is asked, "1. Thành phần hồ sơ
  nộp gồm", "2. Số lượng hồ sơ", "3. Thời gian giải quyết hồ sơ theo quy định", "4. Thời gian nhận hồ sơ",
  "5. Thời gian trả kết quả giải quyết hồ sơ", "6. Đăng ký nhận kết quả tại", signed by the submitter and
  the receiving officer;
- Mẫu số 02, Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ: "Yêu cầu hoàn thiện hồ sơ gồm những nội dung sau",
  "Lý do", whom to ask, signed by the officer who guides (người hướng dẫn);
- Mẫu số 03, Phiếu từ chối tiếp nhận giải quyết hồ sơ: the dossier, "từ chối tiếp nhận giải quyết hồ sơ
  này vì lý do sau", "Xin thông báo cho Ông/Bà được biết và thực hiện";
- Mẫu số 04, Phiếu xin lỗi và hẹn lại ngày trả kết quả, numbered ("Số: …/PXL-…"): received on, the
  dossier's code, the date first given, "Tuy nhiên, đến nay … chưa trả kết quả", "Lý do", "Sự chậm trễ này
  đã gây phiền hà, tốn kém chi phí đi lại của Ông/Bà … xin lỗi … và sẽ trả kết quả … vào ngày …", signed
  by the head of the agency.

Each carries the agency on the left (the parent body, then the unit) and the national motto on the
right ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM / Độc lập - Tự do - Hạnh phúc"), then the place and date.
The wording follows the Circular's annex as published; the stored pages searched for this work held the
Circular's citation and purpose (e.g. the Kon Tum decision 575/QĐ-UBND of 2020 citing "Thông tư số
01/2018/TT-VPCP ngày 23 tháng 11 năm 2018 … hướng dẫn thi hành một số quy định của Nghị định số
61/2018/NĐ-CP", phapluatcongdong.vn; the Ministry of Defence's one-stop regulation, thuvienluat.bepro.vn)
and the apology's use (sent on paper at the counter, or by e-mail or SMS when the dossier was filed
online: thuvienphapluat.vn; its "sự chậm trễ này đã gây phiền hà, tốn kém chi phí" wording: baolamdong.vn),
not the annex itself; where a field of the annex has no counterpart here (the register's volume, the
number of copies), the platform's own record stands in (the dossier number, one set).

``ReceiptSlip``, ``SupplementRequest``, ``Refusal`` and ``Apology`` take plain values (``DossierFacts``
and the record's own) and give an ``OfficialForm``: the heading, the lines and the signature blocks,
drawn the same way by the HTML page and the PDF (``backoffice.forms_pdf``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from core.timeutil import to_local

FORMS = ("receipt", "supplement", "refusal", "apology")
PARENT_BODY = "ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI"
AGENCY = "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG"
MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")
PLACE = "Hà Nội"
NONE = "…………………"  # a field the record does not have, left to be filled by hand, as on the paper form


def day_text(when: datetime) -> str:
    """``ngày 10 tháng 03 năm 2026`` (Hanoi time)."""
    local = to_local(when)
    return f"ngày {local:%d} tháng {local:%m} năm {local:%Y}"


def time_text(when: datetime) -> str:
    """``09 giờ 00 phút, ngày 10 tháng 03 năm 2026`` (Hanoi time)."""
    local = to_local(when)
    return f"{local:%H} giờ {local:%M} phút, {day_text(when)}"


@dataclass(frozen=True)
class DossierFacts:
    """What every form says of the dossier, as plain values (times aware, in UTC or local)."""

    number: str
    citizen_name: str
    procedure_name: str
    processing_days: int
    received_at: datetime
    deadline_at: datetime
    point_name: str
    point_address: str = ""
    citizen_address: str | None = None
    citizen_phone: str | None = None
    citizen_email: str | None = None
    documents: tuple[str, ...] = ()
    delivery: str = ""  # where the result is returned: the point, or by post to an address
    officer_name: str | None = None  # the officer printing the form


@dataclass(frozen=True)
class Line:
    """One line of a form: ``field`` (a label and its value), ``text`` (a sentence), ``item`` (of a list)."""

    kind: str
    text: str
    value: str = ""


@dataclass(frozen=True)
class Signature:
    title: str
    note: str
    name: str = ""


@dataclass(frozen=True)
class OfficialForm:
    form: str  # receipt | supplement | refusal | apology
    code: str  # "Mẫu số 01"
    title: str
    title_en: str
    number: str  # the dossier's number
    unit: str  # the receiving point, in capitals, under the agency
    place_date: str  # "Hà Nội, ngày … tháng … năm …"
    reference: str  # "Mã hồ sơ: …" or "Số: …/PXL-…"
    lines: tuple[Line, ...]
    signatures: tuple[Signature, ...]
    parent: str = PARENT_BODY
    agency: str = AGENCY
    motto: tuple[str, str] = MOTTO

    def text(self) -> str:
        """Everything the form says, one line each (for search and checks)."""
        parts = [self.parent, self.agency, self.unit, *self.motto, self.place_date, self.reference, self.code,
                 self.title]
        for line in self.lines:
            parts.append(f"{line.text} {line.value}".strip())
        for sig in self.signatures:
            parts.extend(p for p in (sig.title, sig.note, sig.name) if p)
        return "\n".join(parts)


def _or_blank(value: str | None) -> str:
    value = (value or "").strip()
    return value or NONE


def _items(values: tuple[str, ...] | list[str]) -> list[Line]:
    return [Line("item", f"({i}) {value}") for i, value in enumerate(values, start=1)]


def _applicant(d: DossierFacts, label: str) -> list[Line]:
    return [
        Line("field", label, d.citizen_name),
        Line("field", "Địa chỉ:", _or_blank(d.citizen_address)),
        Line("field", "Số điện thoại:", _or_blank(d.citizen_phone)),
        Line("field", "Email:", _or_blank(d.citizen_email)),
        Line("field", "Nội dung yêu cầu giải quyết:", d.procedure_name),
    ]


def _form(form: str, code: str, title: str, title_en: str, d: DossierFacts, issued_at: datetime,
          reference: str, lines: list[Line], signatures: list[Signature]) -> OfficialForm:
    return OfficialForm(form=form, code=code, title=title, title_en=title_en, number=d.number,
                        unit=d.point_name.upper(), place_date=f"{PLACE}, {day_text(issued_at)}",
                        reference=reference, lines=tuple(lines), signatures=tuple(signatures))


@dataclass(frozen=True)
class ReceiptSlip:
    """Mẫu số 01: Giấy tiếp nhận hồ sơ và hẹn trả kết quả."""

    dossier: DossierFacts

    def render(self) -> OfficialForm:
        d = self.dossier
        documents = _items(d.documents) if d.documents else [Line("item", "(Không có tài liệu điện tử kèm theo)")]
        lines = [
            Line("text", f"{d.point_name} (Bộ phận tiếp nhận và trả kết quả)"),
            *_applicant(d, "Tiếp nhận hồ sơ của:"),
            Line("text", "1. Thành phần hồ sơ nộp gồm:"),
            *documents,
            Line("field", "2. Số lượng hồ sơ:", "01 (bộ)"),
            Line("field", "3. Thời gian giải quyết hồ sơ theo quy định là:", f"{d.processing_days} ngày làm việc"),
            Line("field", "4. Thời gian nhận hồ sơ:", time_text(d.received_at)),
            Line("field", "5. Thời gian trả kết quả giải quyết hồ sơ:", time_text(d.deadline_at)),
            Line("field", "6. Đăng ký nhận kết quả tại:", _or_blank(d.delivery)),
            Line("text", f"Vào Sổ theo dõi hồ sơ điện tử, số hồ sơ: {d.number}"),
        ]
        return _form("receipt", "Mẫu số 01", "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
                     "Receipt and appointment slip", d, d.received_at, f"Mã hồ sơ: {d.number}", lines,
                     [Signature("NGƯỜI NỘP HỒ SƠ", "(Ký và ghi rõ họ tên)", d.citizen_name),
                      Signature("NGƯỜI TIẾP NHẬN HỒ SƠ", "(Ký và ghi rõ họ tên)", d.officer_name or "")])


@dataclass(frozen=True)
class SupplementRequest:
    """Mẫu số 02: Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (which documents or contents, and why)."""

    dossier: DossierFacts
    requested_at: datetime
    items: tuple[str, ...]
    reason: str | None = None
    officer_name: str | None = None

    def render(self) -> OfficialForm:
        d = self.dossier
        guide = self.officer_name or d.officer_name
        contact = f"{guide}, {d.point_name}" if guide else d.point_name
        if d.point_address:
            contact += f" ({d.point_address})"
        lines = [
            *_applicant(d, "Hồ sơ của:"),
            Line("field", "Ngày tiếp nhận:", time_text(d.received_at)),
            Line("text", "Yêu cầu hoàn thiện hồ sơ gồm những nội dung sau:"),
            *_items(self.items or (NONE,)),
            Line("field", "Lý do:", _or_blank(self.reason)),
            Line("text", "Trong quá trình hoàn thiện hồ sơ nếu có vướng mắc, Ông/Bà liên hệ với "
                         f"{contact} để được hướng dẫn./."),
        ]
        return _form("supplement", "Mẫu số 02", "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ",
                     "Request to supplement the dossier", d, self.requested_at, f"Mã hồ sơ: {d.number}", lines,
                     [Signature("NGƯỜI HƯỚNG DẪN", "(Ký và ghi rõ họ tên)", guide or "")])


@dataclass(frozen=True)
class Refusal:
    """Mẫu số 03: Phiếu từ chối tiếp nhận giải quyết hồ sơ (with the reason)."""

    dossier: DossierFacts
    refused_at: datetime
    reason: str
    officer_name: str | None = None

    def render(self) -> OfficialForm:
        d = self.dossier
        lines = [
            Line("text", f"{d.point_name} (Bộ phận tiếp nhận và trả kết quả)"),
            *_applicant(d, "Tiếp nhận hồ sơ của:"),
            Line("field", "Ngày tiếp nhận:", time_text(d.received_at)),
            Line("text", "Căn cứ quy định của thủ tục hành chính nêu trên, cơ quan, đơn vị từ chối tiếp nhận "
                         "giải quyết hồ sơ này vì lý do sau:"),
            Line("item", self.reason.strip() or NONE),
            Line("text", "Xin thông báo cho Ông/Bà được biết và thực hiện./."),
        ]
        return _form("refusal", "Mẫu số 03", "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ",
                     "Refusal to accept the dossier", d, self.refused_at, f"Mã hồ sơ: {d.number}", lines,
                     [Signature("NGƯỜI TIẾP NHẬN HỒ SƠ", "(Ký và ghi rõ họ tên)",
                                self.officer_name or d.officer_name or "")])


@dataclass(frozen=True)
class Apology:
    """Mẫu số 04: Phiếu xin lỗi và hẹn lại ngày trả kết quả."""

    dossier: DossierFacts
    serial: int  # the apology's own number
    unit_code: str
    at: datetime
    reason: str
    old_deadline: datetime
    new_deadline: datetime
    officer_name: str | None = None
    late_already: bool = field(default=True)  # written after the date first given (else: it will be late)

    def render(self) -> OfficialForm:
        d = self.dossier
        point = d.point_name
        not_yet = (f"Tuy nhiên, đến nay {point} chưa trả kết quả giải quyết hồ sơ cho Ông/Bà."
                   if self.late_already else
                   f"Tuy nhiên, {point} không thể trả kết quả giải quyết hồ sơ cho Ông/Bà đúng thời gian đã hẹn.")
        lines = [
            Line("field", "Kính gửi:", f"Ông/Bà {d.citizen_name}"),
            Line("text", f"Ngày {to_local(d.received_at):%d/%m/%Y}, {point} tiếp nhận giải quyết hồ sơ đề nghị "
                         f"{d.procedure_name} của Ông/Bà {d.citizen_name}."),
            Line("field", "Mã hồ sơ:", d.number),
            Line("field", "Thời gian hẹn trả kết quả giải quyết hồ sơ:", time_text(self.old_deadline)),
            Line("text", not_yet),
            Line("field", "Lý do:", self.reason.strip() or NONE),
            Line("text", f"Sự chậm trễ này đã gây phiền hà, tốn kém chi phí đi lại của Ông/Bà, {point} xin lỗi "
                         "Ông/Bà và sẽ trả kết quả giải quyết hồ sơ cho Ông/Bà vào "
                         f"{time_text(self.new_deadline)}."),
            Line("text", "Xin trân trọng cảm ơn sự hợp tác của Ông/Bà./."),
        ]
        return _form("apology", "Mẫu số 04", "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ",
                     "Apology and new date for the result", d, self.at,
                     f"Số: {self.serial:03d}/PXL-{self.unit_code}", lines,
                     [Signature("NGƯỜI LẬP PHIẾU", "(Ký và ghi rõ họ tên)", self.officer_name or ""),
                      Signature("THỦ TRƯỞNG CƠ QUAN", "(Ký, ghi rõ họ tên và đóng dấu)")])
