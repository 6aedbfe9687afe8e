"""The monitoring's tables as CSV (UTF-8 with a BOM, so Excel reads it) and XLSX (openpyxl)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Font


def to_csv(headers: Sequence[str], rows: Sequence[Sequence]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(title: str, headers: Sequence[str], rows: Sequence[Sequence], sheet_name: str = "Monitoring") -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = sheet_name[:31]
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(list(headers))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row))
    for row in sheet.iter_rows(min_row=3):
        for cell in row:
            if isinstance(cell.value, int):
                cell.number_format = "#,##0"
    sheet.column_dimensions["A"].width = 40
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
