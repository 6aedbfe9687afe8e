"""An issued statement as an A4 PDF (fpdf2, the receipts' bundled DejaVu fonts): bilingual, Vietnamese first,
the figures, the lines (the first ``MAX_LINES``; the XLSX has them all), the signature, and the signed JSON
attached so the PDF alone verifies offline."""

from __future__ import annotations

import json
import unicodedata

from core.timeutil import as_utc, to_local
from finance.statement_export import FIGURE_ROWS, PARTS, figure, scope_text
from payments.receipt_pdf import FONT_DIR, format_vnd

MAX_LINES = 1000
METHOD_TEXT = {"card": "Thẻ / Card", "vietqr": "VietQR", "cash": "Tiền mặt / Cash", None: "—"}
KIND_TEXT = {"payment": "Thu / Payment", "refund": "Hoàn / Refund"}


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def render(view: dict, lines: list[dict], methods=()) -> bytes:
    from fpdf import FPDF  # imported here: only the PDF needs it

    font = "DejaVu"
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_margins(12, 12, 12)
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_font(font, "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font(font, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_lang("vi")
    pdf.set_title(f"Bảng kê {view['number']}")
    pdf.set_subject(f"Statement {view['number']}")
    pdf.set_creator("Hanoi public-service agents")
    pdf.set_creation_date(view["issued_at"])
    pdf.add_page()
    width = pdf.epw
    muted = (85, 85, 85)

    def text(size: float, style: str = "", color=(0, 0, 0)) -> None:
        pdf.set_font(font, style, size)
        pdf.set_text_color(*color)

    def line(value: str, size: float, height: float, *, style: str = "", color=(0, 0, 0), align: str = "L") -> None:
        text(size, style, color)
        pdf.multi_cell(width, height, _nfc(value), align=align, new_x="LMARGIN", new_y="NEXT")

    line("BẢNG KÊ THU PHÍ ĐẠI LÝ DỊCH VỤ CÔNG", 14, 7, style="B", align="C")
    line("Public-service agent statement", 9, 4.5, color=muted, align="C")
    line(f"Số / No.: {view['number']}", 10, 5.5, style="B", align="C")
    pdf.ln(2)
    vi, en = scope_text(view["scope"])
    line(f"Phạm vi: {vi}", 9, 4.5)
    line(f"Scope: {en}", 7.5, 3.8, color=muted)
    line(f"Kỳ / Period: {view['from'].strftime('%d/%m/%Y')} – {view['to'].strftime('%d/%m/%Y')}", 9, 4.5)
    issued = to_local(as_utc(view["issued_at"]))
    line(f"Phát hành / Issued: {issued:%d/%m/%Y %H:%M} — {view['issued_by']}", 9, 4.5)
    pdf.ln(3)

    label_w = width - 3 * 34
    pdf.set_fill_color(235, 235, 235)
    text(8, "B")
    pdf.cell(label_w, 6, " Số liệu / Figure", fill=True)
    for _key, p_vi, _p_en in PARTS:
        pdf.cell(34, 6, f"{p_vi} ", align="R", fill=True)
    pdf.ln(6)
    for key, f_vi, f_en in FIGURE_ROWS:
        y0 = pdf.get_y()
        text(8.5)
        pdf.multi_cell(label_w, 4, _nfc(f" {f_vi}"), new_x="LMARGIN", new_y="NEXT")
        text(6.5, color=muted)
        pdf.multi_cell(label_w, 3, f" {f_en}", new_x="LMARGIN", new_y="NEXT")
        y1 = pdf.get_y()
        pdf.set_xy(pdf.l_margin + label_w, y0)
        text(8.5, "B" if key == "net_vnd" else "")
        for part, _v, _e in PARTS:
            value = figure(view["figures"][part], key) or 0
            shown = str(value) if key == "dossiers_registered" else format_vnd(int(value))
            pdf.cell(34, 4, shown + " ", align="R")
        pdf.set_y(y1 + 0.8)
    pdf.ln(3)

    line(f"Các bút toán / Ledger lines ({len(lines)})", 10, 5.5, style="B")
    widths = (16, 26, 46, 22, 24, 28, 24)
    heads = ("Bút toán", "Ngày / Date", "Hồ sơ / Dossier", "Loại / Kind", "Hình thức", "Số tiền", "Phí DV")
    text(7, "B")
    for w, h in zip(widths, heads, strict=True):
        pdf.cell(w, 5, h, fill=True)
    pdf.ln(5)
    text(7)
    for item in lines[:MAX_LINES]:
        booked = to_local(as_utc(item["booked_at"])) if item["booked_at"] else None
        cells = (str(item["ledger_transaction_id"]), f"{booked:%d/%m/%Y}" if booked else "",
                 (item["dossier_number"] or "") + (" *" if item["correction"] else ""),
                 KIND_TEXT.get(item["kind"], item["kind"]), METHOD_TEXT.get(item["method"], item["method"]),
                 format_vnd(item["amount_vnd"]), format_vnd(item["service_fee_vnd"]))
        for w, value in zip(widths, cells, strict=True):
            pdf.cell(w, 4.2, value)
        pdf.ln(4.2)
    if len(lines) > MAX_LINES:
        line(f"… {len(lines) - MAX_LINES} dòng nữa trong tệp XLSX / {len(lines) - MAX_LINES} more lines in the XLSX",
             7.5, 4, color=muted)
    line("* Điều chỉnh muộn của kỳ đã phát hành / late correction of an issued period", 6.5, 3.2, color=muted)
    pdf.ln(3)
    line("Chữ ký số (Ed25519) / Digital signature", 8, 4, style="B")
    line(f"Mã khóa / Key id: {view['key_id']}", 7, 3.5)
    text(6)
    pdf.multi_cell(width, 3, view["signature"], wrapmode="CHAR", new_x="LMARGIN", new_y="NEXT")
    line("Bảng kê đã phát hành không thay đổi; kiểm tra chữ ký bằng tệp JSON đính kèm và khóa công khai của biên lai.",
         6.5, 3.2)
    line("An issued statement never changes; verify it with the attached JSON and the receipts' public key.",
         6, 3, color=muted)
    document = json.dumps({"statement": json.loads(view["canonical"]), "signature": view["signature"],
                           "key_id": view["key_id"], "alg": "Ed25519"}, ensure_ascii=False, sort_keys=True)
    pdf.embed_file(bytes=document.encode("utf-8"), basename=f"{view['number']}.json",
                   modification_date=view["issued_at"], mime_type="application/json",
                   desc="Signed statement (JSON) / Bảng kê có chữ ký số (JSON)")
    return bytes(pdf.output())
