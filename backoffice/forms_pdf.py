"""An official form (``backoffice.official_forms``) as an A4 PDF (fpdf2), laid out as the Circular's annex.

The agency on the left and the national motto on the right, the reference and the place and date under
them, the title, the lines, the signature blocks side by side; a QR code to the citizen's tracking page
when one is given (the receipt slip). Vietnamese is drawn with the DejaVu fonts the receipts embed.
Pure Python, no database.
"""

from __future__ import annotations

import io
import unicodedata

import segno

from backoffice.official_forms import OfficialForm
from payments.receipt_pdf import FONT_DIR  # the embedded Unicode font the platform ships

FONT = "DejaVu"


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def render_pdf(form: OfficialForm, *, qr_url: str | None = None) -> bytes:
    from fpdf import FPDF  # imported here: only the PDF needs it

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_margins(25, 15, 15)  # a wider binding margin, as administrative documents have
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_lang("vi")
    pdf.set_title(_nfc(f"{form.title} {form.number}"))
    pdf.set_subject(f"{form.title_en} {form.number}")
    pdf.set_author(_nfc(form.agency))
    pdf.set_creator("Hanoi public-service agents")
    pdf.add_page()
    width = pdf.epw
    left_w, right_w = width * 0.45, width * 0.55

    def font(size: float, style: str = "") -> None:
        pdf.set_font(FONT, style, size)

    def cell_at(x: float, w: float, h: float, text: str, size: float, style: str = "", align: str = "C") -> None:
        font(size, style)
        pdf.set_x(x)
        pdf.multi_cell(w, h, _nfc(text), align=align, new_x="LMARGIN", new_y="NEXT")

    # The form's number, top right, as the annex prints it.
    cell_at(pdf.l_margin, width, 4, form.code, 8, align="R")
    top = pdf.get_y() + 1
    x_left, x_right = pdf.l_margin, pdf.l_margin + left_w
    pdf.set_y(top)
    cell_at(x_left, left_w, 4.5, form.parent, 9)
    cell_at(x_left, left_w, 4.5, form.agency, 9, "B")
    cell_at(x_left, left_w, 4.5, form.unit, 9, "B")
    pdf.line(x_left + left_w / 2 - 15, pdf.get_y() + 0.8, x_left + left_w / 2 + 15, pdf.get_y() + 0.8)
    bottom_left = pdf.get_y() + 2
    pdf.set_y(top)
    cell_at(x_right, right_w, 4.5, form.motto[0], 9.5, "B")
    cell_at(x_right, right_w, 5, form.motto[1], 10.5, "B")
    font(10.5, "B")
    motto_w = pdf.get_string_width(form.motto[1])
    mid = x_right + right_w / 2
    pdf.line(mid - motto_w / 2, pdf.get_y() + 0.5, mid + motto_w / 2, pdf.get_y() + 0.5)
    bottom_right = pdf.get_y() + 2
    y = max(bottom_left, bottom_right) + 1
    pdf.set_y(y)
    cell_at(x_left, left_w, 5, form.reference, 9.5)
    pdf.set_y(y)
    cell_at(x_right, right_w, 5, form.place_date, 9.5)
    pdf.ln(6)

    cell_at(pdf.l_margin, width, 7, form.title, 13.5, "B")
    pdf.ln(4)

    for line in form.lines:
        if line.kind == "field":  # the label in bold, the value flowing after it as on the paper form
            pdf.set_x(pdf.l_margin)
            font(10.5, "B")
            pdf.write(6, _nfc(line.text) + " ")
            font(10.5)
            pdf.write(6, _nfc(line.value))
            pdf.ln(6)
        elif line.kind == "item":
            cell_at(pdf.l_margin + 6, width - 6, 6, line.text, 10.5, align="L")
        else:
            cell_at(pdf.l_margin, width, 6, line.text, 10.5, align="J")
        pdf.ln(0.8)

    pdf.ln(6)
    if pdf.get_y() + 40 > pdf.h - pdf.b_margin:
        pdf.add_page()
    columns = len(form.signatures) or 1
    col_w = width / columns
    y = pdf.get_y()
    for i, sig in enumerate(form.signatures):
        x = pdf.l_margin + i * col_w
        pdf.set_y(y)
        cell_at(x, col_w, 5, sig.title, 10, "B")
        cell_at(x, col_w, 4.5, sig.note, 8.5)
        if sig.name:
            pdf.set_y(y + 30)
            cell_at(x, col_w, 5, sig.name, 10, "B")
    pdf.set_y(y + 40)

    if qr_url:
        size = 28.0
        if pdf.get_y() + size > pdf.h - pdf.b_margin:
            pdf.add_page()
        png = io.BytesIO()
        segno.make(qr_url, error="m").save(png, kind="png", scale=8, border=2)
        png.seek(0)
        top = pdf.get_y()
        pdf.image(png, x=pdf.l_margin, y=top, w=size, h=size, alt_text="QR: " + qr_url)
        pdf.set_xy(pdf.l_margin + size + 4, top + 4)
        font(9, "B")
        pdf.multi_cell(width - size - 4, 4.5, "Quét mã để theo dõi hồ sơ", align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_x(pdf.l_margin + size + 4)
        font(8)
        pdf.multi_cell(width - size - 4, 4, qr_url, align="L", wrapmode="CHAR", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
