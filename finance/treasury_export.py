"""The treasury report as CSV and XLSX (openpyxl): the same rows as the page, amounts as whole đồng."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from openpyxl import Workbook
from openpyxl.styles import Font

Labels = Callable[[str], str]
COLUMNS = ("level", "sector", "dossiers", "collected_vnd", "refunded_vnd", "adjusted_vnd", "net_vnd")


def rows(report: dict, label: Callable[[str, str], str]) -> list[list]:
    """Header, one row per level and sector, then the totals, the transfers and what is outstanding."""
    out: list[list] = [[label("header", c) for c in COLUMNS]]
    for group in report["groups"]:
        out.append([label("level", group["level"]), group["sector"] or "", group["dossiers"],
                    group["collected_vnd"], group["refunded_vnd"], group["adjusted_vnd"], group["net_vnd"]])
    totals = report["totals"]
    out.append([label("total", ""), "", totals["dossiers"], totals["collected_vnd"], totals["refunded_vnd"],
                totals["adjusted_vnd"], totals["net_vnd"]])
    out.append([label("transferred", ""), "", "", "", "", "", totals["transferred_vnd"]])
    out.append([label("outstanding", ""), "", "", "", "", "", totals["outstanding_vnd"]])
    return out


def to_csv(report: dict, label: Callable[[str, str], str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(rows(report, label))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # the BOM: Excel opens UTF-8 as such


def to_xlsx(report: dict, label: Callable[[str, str], str], title: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Treasury"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=13)
    data = rows(report, label)
    for row in data:
        sheet.append(row)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in sheet.iter_rows(min_row=3, min_col=3, max_col=len(COLUMNS)):
        for cell in row:
            if isinstance(cell.value, int):
                cell.number_format = "#,##0"
    for letter, width in zip("ABCDEFG", (14, 36, 10, 16, 16, 16, 16), strict=True):
        sheet.column_dimensions[letter].width = width
    transfers = book.create_sheet("Transfers")
    transfers.append([label("transfer", c) for c in ("transferred_on", "reference", "amount_vnd", "recorded_by")])
    for t in report["transfers"]:
        transfers.append([t["transferred_on"], t["reference"], t["amount_vnd"], t["recorded_by"]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
