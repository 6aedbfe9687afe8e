"""An issued statement as XLSX (openpyxl) and PDF (statement_pdf): bilingual, Vietnamese first, whole đồng.

Both are drawn from the statement as issued (its stored figures and lines), never from the live ledger.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font

from core.timeutil import as_utc, to_local
from finance import statement_queries as q
from finance import statements
from finance.statement_models import Statement

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# (key in the figures, Vietnamese, English); "collected.card" reads figures["collected"]["card"].
FIGURE_ROWS = (
    ("dossiers_registered", "Hồ sơ tiếp nhận", "Dossiers registered"),
    ("collected.card", "Thu qua thẻ", "Collected by card"),
    ("collected.vietqr", "Thu qua VietQR", "Collected by VietQR"),
    ("collected.cash", "Thu tiền mặt", "Collected in cash"),
    ("collected.total", "Tổng thu", "Total collected"),
    ("refunded.total", "Hoàn trả", "Refunds"),
    ("state_fee_vnd", "Phí, lệ phí nộp Kho bạc", "State fees owed to the treasury"),
    ("service_fee_vnd", "Phí dịch vụ của đại lý", "Agent's service fee owed to the agent"),
    ("courier_fee_vnd", "Phí chuyển phát", "Courier fees"),
    ("cash_net_vnd", "Tiền mặt thu (sau hoàn trả)", "Cash collected, net of refunds"),
    ("net_vnd", "Đại lý phải nộp Trung tâm (âm: Trung tâm phải trả đại lý)",
     "Net the agent owes the centre (negative: the centre owes the agent)"),
)
PARTS = (("period", "Trong kỳ", "In the period"), ("corrections", "Điều chỉnh kỳ trước", "Corrections carried forward"),
         ("total", "Tổng cộng", "Total"))
LINE_COLUMNS = (("ledger_transaction_id", "Bút toán", "Ledger transaction"), ("booked_at", "Ngày ghi", "Booked"),
                ("dossier_number", "Hồ sơ", "Dossier"), ("kind", "Loại", "Kind"), ("method", "Hình thức", "Method"),
                ("amount_vnd", "Số tiền", "Amount"), ("state_fee_vnd", "Phí, lệ phí", "State fee"),
                ("service_fee_vnd", "Phí dịch vụ", "Service fee"),
                ("courier_fee_vnd", "Phí chuyển phát", "Courier fee"),
                ("correction", "Điều chỉnh", "Correction"), ("reference", "Tham chiếu", "Reference"))


def figure(figures: dict, key: str):
    value = figures
    for part in key.split("."):
        value = (value or {}).get(part)
    return value


def scope_text(scope: dict) -> tuple[str, str]:
    if scope["kind"] == "centre":
        return "Toàn Trung tâm", "Whole centre"
    kind = ("Tổ chức đại lý", "Agent organisation") if scope["kind"] == "organisation" else \
        ("Điểm đại lý", "Agent point")
    return f"{kind[0]} {scope['name']} ({scope['code']})", f"{kind[1]} {scope['name']} ({scope['code']})"


def to_xlsx(row: Statement) -> bytes:
    view = statements.view(row)
    book = Workbook()
    sheet = book.active
    sheet.title = "Bang ke - Statement"
    vi, en = scope_text(view["scope"])
    sheet.append([f"Bảng kê / Statement {view['number']}"])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([f"{vi} / {en}"])
    sheet.append([f"Kỳ / Period: {row.period_start.isoformat()} – {row.period_end.isoformat()}"])
    sheet.append([f"Phát hành / Issued: {view['issued_at'].isoformat()} — {row.issued_by}"])
    sheet.append([])
    sheet.append(["Số liệu / Figure", *(f"{p_vi} / {p_en}" for _k, p_vi, p_en in PARTS)])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for key, f_vi, f_en in FIGURE_ROWS:
        sheet.append([f"{f_vi} / {f_en}", *(figure(row.figures[part], key) for part, _v, _e in PARTS)])
        for cell in sheet[sheet.max_row][1:]:
            cell.number_format = "#,##0"
    sheet.append([])
    sheet.append([f"Chữ ký / Signature (Ed25519, key {row.key_id})", row.signature])
    sheet.column_dimensions["A"].width = 60
    for letter in "BCD":
        sheet.column_dimensions[letter].width = 22

    lines = book.create_sheet("Dong - Lines")
    lines.append([f"{c_vi} / {c_en}" for _k, c_vi, c_en in LINE_COLUMNS])
    for cell in lines[1]:
        cell.font = Font(bold=True)
    for line in statements.all_lines(row.id):
        values = []
        for key, _v, _e in LINE_COLUMNS:
            value = line[key]
            if key == "booked_at":
                value = to_local(as_utc(value)).replace(tzinfo=None) if value is not None else None
            values.append(value)
        lines.append(values)
    for column in ("F", "G", "H", "I"):
        for cell in lines[column][1:]:
            cell.number_format = "#,##0"
    lines.column_dimensions["B"].width = 20
    lines.column_dimensions["C"].width = 24
    lines.column_dimensions["K"].width = 28
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_pdf(row: Statement) -> bytes:
    from finance import statement_pdf

    view = statements.view(row)
    return statement_pdf.render(view, statements.all_lines(row.id), q.METHODS)
