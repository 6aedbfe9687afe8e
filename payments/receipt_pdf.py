"""A receipt or a service invoice as an A5 PDF (fpdf2): bilingual, Vietnamese first, with its QR
code, its signature, and the signed JSON document attached so the PDF alone verifies offline.

A state fee receipt names the collecting unit and shows the state fee only; a service invoice names
the seller (the agent organisation) and shows, per component, the amount before VAT, the rate and
the VAT.

Pure Python, no database; receipts.py builds and signs what is drawn here.
"""

from __future__ import annotations

import io
import unicodedata
from functools import cache
from pathlib import Path

import segno

from payments.receipts import (
    COMPONENT_LABELS,
    COMPONENTS,
    METHOD_LABELS,
    NOT_SUBJECT,
    SERVICE_INVOICE,
    SignedReceipt,
    document_bytes,
)

FONT_DIR = Path(__file__).resolve().parent / "fonts"


@cache
def _font_has(char: str) -> bool:
    from fontTools.ttLib import TTFont  # fpdf2's own dependency

    with TTFont(FONT_DIR / "DejaVuSans.ttf", lazy=True) as font:
        return ord(char) in font.getBestCmap()


def currency_sign() -> str:
    """``₫`` when the shipped font draws it, else ``đ``."""
    return "₫" if _font_has("₫") else "đ"


def format_vnd(amount: int) -> str:
    """150000 → ``"150.000 ₫"`` (Vietnamese grouping; the đồng has no minor unit)."""
    return f"{amount:,}".replace(",", ".") + " " + currency_sign()


def _nfc(text: str) -> str:
    # Names typed on some keyboards arrive decomposed (e + combining marks); the PDF draws precomposed.
    return unicodedata.normalize("NFC", text)


def render_pdf(signed: SignedReceipt, *, qr_url: str) -> bytes:
    """The receipt as an A5 PDF: bilingual (Vietnamese first), the QR code of ``qr_url``, the signature.

    The signed JSON document is attached to the PDF (``<series>-<number>.json``), so the PDF alone is
    enough to verify the receipt offline.
    """
    from fpdf import FPDF  # imported here: only the PDF needs it

    d = signed.data
    title_vi, title_en = d.title
    invoice = d.document == SERVICE_INVOICE
    font = "DejaVu"
    pdf = FPDF(orientation="P", unit="mm", format=(148, 210))  # A5, in mm
    pdf.set_margins(10, 9, 10)
    pdf.set_auto_page_break(True, margin=9)
    pdf.add_font(font, "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font(font, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_lang("vi")
    pdf.set_title(f"{title_vi} {d.series} {d.number_text}")
    pdf.set_author(_nfc(d.issuer_name))
    pdf.set_subject(f"{title_en} {d.receipt_id}")
    pdf.set_creator("Hanoi public-service agents")
    pdf.set_creation_date(d.issued_at)
    pdf.add_page()
    width = pdf.epw
    ink, muted = (0, 0, 0), (85, 85, 85)

    def text(size: float, style: str = "", color: tuple[int, int, int] = ink) -> None:
        pdf.set_font(font, style, size)
        pdf.set_text_color(*color)

    def line(value: str, size: float, height: float, *, style: str = "", color=ink, align: str = "C") -> None:
        text(size, style, color)
        pdf.multi_cell(width, height, _nfc(value), align=align, new_x="LMARGIN", new_y="NEXT")

    def row(vi: str, en: str, value: str, *, bold: bool = False, label_w: float = 38) -> None:
        y0 = pdf.get_y()
        text(8.5)
        pdf.multi_cell(label_w, 4, vi, align="L", new_x="LMARGIN", new_y="NEXT")
        text(6.5, color=muted)
        pdf.multi_cell(label_w, 3, en, align="L", new_x="LMARGIN", new_y="NEXT")
        y_label = pdf.get_y()
        pdf.set_xy(pdf.l_margin + label_w + 2, y0)
        text(9, "B" if bold else "")
        pdf.multi_cell(width - label_w - 2, 4.5, _nfc(value), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(max(y_label, pdf.get_y()) + 1.2)

    # Heading: who issues it, what it is, its series and number.
    if invoice:
        line("Đơn vị bán hàng / Seller", 7, 3.5, color=muted)
    elif d.version > 1:
        line("Đơn vị thu phí, lệ phí / Collecting unit", 7, 3.5, color=muted)
    line(d.issuer_name, 9, 4.5, style="B")
    line(f"Mã đơn vị / Issuer code: {d.issuer_code}", 7, 3.5, color=muted)
    pdf.ln(3)
    line(title_vi, 14, 7, style="B")
    line(title_en, 9, 4.5, color=muted)
    pdf.ln(1.5)
    half = width / 2
    text(8.5)
    pdf.cell(half, 5, f"Ký hiệu (Series): {d.series}", align="C")
    pdf.cell(half, 5, f"Số (No.): {d.number_text}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_draw_color(0, 0, 0)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
    pdf.ln(2.5)

    local = d.issued_at_local
    row("Ngày, giờ lập", "Issued (Hanoi time)", local.strftime("%d/%m/%Y %H:%M"))
    row("Số hồ sơ", "Dossier number", d.dossier_number)
    row("Thủ tục", "Procedure", d.procedure_name)
    row("Người nộp", "Payer", d.payer_name_masked)
    method_vi, method_en = METHOD_LABELS[d.method]
    row("Hình thức thanh toán", "Payment method", f"{method_vi} ({method_en})")
    row("Mã giao dịch", "Payment reference", d.payment_reference)
    if d.original_receipt:
        if invoice:
            row("Điều chỉnh cho hóa đơn", "Adjusts invoice", d.original_receipt)
        else:
            row("Hoàn trả cho biên lai", "Refund of receipt", d.original_receipt)
    pdf.ln(1)

    # The amounts.
    amount_w, label_w = 36.0, width - 36.0
    pdf.set_fill_color(235, 235, 235)
    text(8.5, "B")
    pdf.cell(label_w, 6, " Khoản thu / Item", fill=True)
    pdf.cell(amount_w, 6, "Số tiền / Amount ", align="R", fill=True, new_x="LMARGIN", new_y="NEXT")
    for key in COMPONENTS:
        if key not in d.components:
            continue
        vi, en = COMPONENT_LABELS[key]
        y0 = pdf.get_y() + 0.8
        pdf.set_xy(pdf.l_margin, y0)
        text(9)
        pdf.cell(pdf.get_string_width(f" {vi}") + 1.5, 5, f" {vi}")
        text(6.5, color=muted)
        pdf.cell(label_w - pdf.get_x() + pdf.l_margin, 5, en)
        text(9)
        pdf.cell(amount_w, 5, format_vnd(d.components[key]) + " ", align="R", new_x="LMARGIN", new_y="NEXT")
        if invoice:
            vat = d.vat[key]
            rate = "không chịu thuế / not subject" if vat["rate"] == NOT_SUBJECT else vat["rate"]
            text(7, color=muted)
            pdf.set_x(pdf.l_margin + 3)
            pdf.multi_cell(width - 3, 3.4, f"Chưa thuế / Before VAT: {format_vnd(vat['before_vat_vnd'])} · "
                                           f"Thuế suất / VAT rate: {rate} · "
                                           f"Tiền thuế / VAT: {format_vnd(vat['vat_vnd'])}",
                           align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(0.8)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
    text(10, "B")
    y0 = pdf.get_y() + 0.8
    pdf.set_xy(pdf.l_margin, y0)
    pdf.cell(pdf.get_string_width(" Tổng cộng") + 1.5, 6, " Tổng cộng")
    text(6.5, color=muted)
    pdf.cell(label_w - pdf.get_x() + pdf.l_margin, 6, "Total")
    text(10, "B")
    pdf.cell(amount_w, 6, format_vnd(d.total_vnd) + " ", align="R", new_x="LMARGIN", new_y="NEXT")
    if invoice:
        text(7.5, color=muted)
        pdf.cell(width, 4, f" Trong đó thuế GTGT / of which VAT: {format_vnd(d.vat_total_vnd)}", new_x="LMARGIN",
                 new_y="NEXT")
    pdf.ln(4)

    # The QR code to the verification page, and the signature.
    qr_size = 30.0
    if pdf.get_y() + qr_size > pdf.h - pdf.b_margin:
        pdf.add_page()
    top = pdf.get_y()
    png = io.BytesIO()
    segno.make(qr_url, error="m").save(png, kind="png", scale=8, border=2)
    png.seek(0)
    pdf.image(png, x=pdf.l_margin, y=top, w=qr_size, h=qr_size, alt_text="QR: " + qr_url)
    left = pdf.l_margin + qr_size + 4
    right_w = width - qr_size - 4

    def side(value: str, size: float, height: float, *, style: str = "", color=ink, gap: float = 0,
             wrap: str = "WORD") -> None:
        text(size, style, color)
        pdf.set_xy(left, pdf.get_y() + gap)
        pdf.multi_cell(right_w, height, value, align="L", wrapmode=wrap, new_x="LMARGIN", new_y="NEXT")

    pdf.set_y(top + 1)
    side("Quét mã để kiểm tra biên lai", 8, 3.8, style="B")
    side("Scan to verify this receipt", 6.5, 3, color=muted)
    side(qr_url, 6.5, 3, wrap="CHAR")
    side("Chữ ký số (Ed25519)", 7.5, 3.5, style="B", gap=1.8)
    side("Digital signature", 6.5, 3, color=muted)
    side(f"Mã khóa / Key id: {signed.key_id}", 6.5, 3)
    side(signed.signature_b64, 5.5, 2.6, wrap="CHAR")
    pdf.set_y(max(pdf.get_y(), top + qr_size) + 3)
    what_vi, what_en = ("Hóa đơn điện tử", "Electronic invoice") if invoice else \
        ("Biên lai điện tử", "Electronic receipt")
    line(f"{what_vi} có chữ ký số: kiểm tra tại địa chỉ trên, hoặc ngoại tuyến bằng tệp JSON đính kèm "
         "và khóa công khai đã công bố.", 6.5, 3, align="L")
    line(f"{what_en}, digitally signed: verify it at the address above, or offline with the attached "
         "JSON file and the published public key.", 6, 2.8, color=muted, align="L")

    pdf.embed_file(bytes=document_bytes(signed), basename=f"{d.series}-{d.number_text}.json",
                   modification_date=d.issued_at, mime_type="application/json",
                   desc="Signed receipt (JSON) / Biên lai có chữ ký số (JSON)")
    return bytes(pdf.output())
