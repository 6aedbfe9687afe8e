"""The demo month's scanned documents: each procedure's request form (tờ khai) as a one-page A4 PDF
(fpdf2, the receipts' DejaVu fonts), made once per procedure and attached by the agent to its dossiers."""

from __future__ import annotations

from functools import cache

from fpdf import FPDF

from payments.receipt_pdf import FONT_DIR

FONT = "DejaVu"


@cache
def request_form(procedure_code: str, procedure_name: str, documents: tuple[str, ...]) -> bytes:
    """A blank request form of the procedure, as an agent scans it at the counter (~0.2 s each: made once
    per procedure and process, a second demo load in the same process reuses it)."""
    pdf = FPDF(format="A4")
    pdf.set_title(f"Tờ khai {procedure_code}")
    pdf.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.add_page()
    pdf.set_font(FONT, "B", 11)
    pdf.cell(0, 6, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 11)
    pdf.cell(0, 6, "Độc lập - Tự do - Hạnh phúc", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font(FONT, "B", 13)
    pdf.multi_cell(0, 7, f"TỜ KHAI\n{procedure_name}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(FONT, "", 11)
    pdf.cell(0, 7, f"Mã thủ tục: {procedure_code}", new_x="LMARGIN", new_y="NEXT")
    for label in ("Họ, chữ đệm, tên người yêu cầu", "Số định danh cá nhân (CCCD)", "Nơi cư trú", "Số điện thoại"):
        pdf.cell(0, 8, f"{label}: " + "." * 60, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(FONT, "B", 11)
    pdf.cell(0, 7, "Giấy tờ kèm theo:", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    for document in documents:
        pdf.multi_cell(0, 6, f"- {document}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    pdf.cell(0, 6, "NGƯỜI YÊU CẦU (ký, ghi rõ họ tên)", align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
