"""Bank statements that finance staff download from the centre's bank, read to confirm VietQR transfers.

``parse_statement(data, filename)`` gives the statement's credits as ``StatementLine``s:

* CSV, UTF-8 with or without a BOM (or UTF-16 with a BOM, as Excel's "Unicode text" writes it),
  separated by commas, semicolons or tabs. The header row may follow a preamble (bank name,
  account, period), which is skipped; it is recognised by its Vietnamese or English column names,
  compared without case, diacritics, punctuation or a "(VND)" suffix:

  ==============  ==========================================================================
  date            Ngày giao dịch, Ngày GD, Ngày hạch toán, Transaction date, Date, …
  reference       Số tham chiếu, Mã GD, Mã giao dịch, Số bút toán, Reference, Ref no, …
  credit          Số tiền ghi có, Ghi có, Có, Credit, Credit amount, …
  debit           Số tiền ghi nợ, Ghi nợ, Nợ, Debit, Debit amount, … (optional)
  description     Nội dung, Diễn giải, Nội dung giao dịch, Description, Details, …
  ==============  ==========================================================================

  Instead of credit/debit columns a statement may have one signed amount column
  (Số tiền, Amount): positive is a credit. Other columns (STT, balance…) are ignored.
  Rows without a reference whose date cell is empty or not a date (totals, opening and closing
  balances) are skipped, and so are blank rows.
* ISO 20022 camt.053 XML (``.xml``, or any file starting with ``<``): the ``Ntry`` elements,
  booked (``BOOK``) entries only; a DTD is refused.

Amounts are whole đồng, written ``1.250.000``, ``1,250,000``, ``1 250 000`` or ``1250000``; a
decimal part of zeros (``1,250,000.00``) is accepted, any other is an error. Dates are day first
(``24/11/2026``, ``24/11/2026 09:15:02``, ``24-11-2026``) or ISO 8601.

``booked_at`` is timezone-aware, in Asia/Ho_Chi_Minh (UTC+07:00): a time without an offset is
taken as Vietnamese local time, a date without a time as midnight; an ISO time with an offset is
converted.

Only credits are returned (``amount_vnd`` > 0); debit rows are checked (a bad amount or date is
still an error) and left out. A bank reference may appear on one credit only: a second one is an
error, since it would count the same transfer twice (a debit such as the bank's fee may share the
reference of a credit).

Every problem raises ``StatementError`` (a ValueError) with ``en`` and ``vi`` messages and the
``line_number`` (1-based, in the file; None for the file as a whole).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from xml.sax import SAXParseException
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import InputSource
from zoneinfo import ZoneInfo

import defusedxml.sax as defused_sax
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

__all__ = ["LOCAL_TZ", "StatementError", "StatementLine", "parse_statement"]

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MAX_STATEMENT_VND = 2**63 - 1  # a line's amount is stored in a BIGINT column
HEADER_SEARCH_ROWS = 30  # how far down a preamble may push the header row


@dataclass(frozen=True)
class StatementLine:
    bank_reference: str
    booked_at: datetime  # aware, Asia/Ho_Chi_Minh
    amount_vnd: int  # a credit, > 0
    description: str  # as the bank wrote it, runs of whitespace (and line breaks) made one space
    line_number: int  # 1-based line in the file where the row (or camt.053 <Ntry>) starts


class StatementError(ValueError):
    """A statement that cannot be read, with the reason in English (``en``) and Vietnamese (``vi``)."""

    def __init__(self, en: str, vi: str, line_number: int | None = None):
        if line_number is None:
            en, vi = en[:1].upper() + en[1:], vi[:1].upper() + vi[1:]
        else:
            en, vi = f"Line {line_number}: {en}", f"Dòng {line_number}: {vi}"
        self.en, self.vi, self.line_number = en, vi, line_number
        super().__init__(en)


# ---------------------------------------------------------------------------------------------- columns

def _key(text: str) -> str:
    """A header cell compared without case, diacritics, punctuation, currency suffix."""
    text = text.replace("đ", "d").replace("Đ", "D")
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()
    text = re.sub(r"\((?:vnd|d|dong)\)|\bvnd\b", " ", text)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


# Per field, its names in order of preference (when two columns match, the earlier name wins).
_ALIASES = {
    "date": ("ngay giao dich", "ngay gd", "transaction date", "ngay hach toan", "ngay ghi so", "booking date",
             "posting date", "ngay thuc hien", "thoi gian giao dich", "thoi gian", "ngay", "date", "txn date",
             "value date", "ngay hieu luc"),
    "reference": ("so tham chieu", "ma gd", "ma giao dich", "so giao dich", "so but toan", "so ct", "so chung tu",
                  "ma tham chieu", "reference", "reference no", "reference number", "ref no", "ref",
                  "transaction id", "transaction no", "transaction number", "txn id", "trans id"),
    "credit": ("so tien ghi co", "ghi co", "so tien co", "phat sinh co", "co", "tien vao", "credit",
               "credit amount", "credits", "cr", "deposit", "money in"),
    "debit": ("so tien ghi no", "ghi no", "so tien no", "phat sinh no", "no", "tien ra", "debit", "debit amount",
              "debits", "dr", "withdrawal", "money out"),
    "amount": ("so tien", "so tien giao dich", "amount", "transaction amount"),
    "description": ("noi dung", "dien giai", "noi dung giao dich", "noi dung chi tiet", "mo ta", "chi tiet giao dich",
                    "description", "transaction description", "details", "transaction details", "narrative",
                    "remarks", "memo"),
}
_NAMES = {  # how a missing column is named in errors
    "date": ("transaction date (Ngày giao dịch)", "ngày giao dịch (Transaction date)"),
    "reference": ("reference (Số tham chiếu)", "số tham chiếu (Reference)"),
    "credit": ("credit amount (Số tiền ghi có)", "số tiền ghi có (Credit)"),
    "description": ("description (Nội dung)", "nội dung (Description)"),
}
_REQUIRED = ("date", "reference", "credit", "description")


def _columns(row: list[str]) -> dict[str, int]:
    """Field → column index for the cells of ``row`` that name a known column."""
    best: dict[str, tuple[int, int]] = {}
    for index, cell in enumerate(row):
        key = _key(cell)
        for field, names in _ALIASES.items():
            if key in names:
                rank = names.index(key)
                if field not in best or rank < best[field][0]:
                    best[field] = (rank, index)
    return {field: index for field, (_, index) in best.items()}


def _missing(columns: dict[str, int]) -> list[str]:
    present = set(columns) | ({"credit"} if "amount" in columns else set())
    return [field for field in _REQUIRED if field not in present]


# ---------------------------------------------------------------------------------------------- values

_GROUPED = {  # thousands separator → pattern of the integer part
    ".": re.compile(r"\d{1,3}(?:\.\d{3})+"),
    ",": re.compile(r"\d{1,3}(?:,\d{3})+"),
    " ": re.compile(r"\d{1,3}(?: \d{3})+"),
}
_CURRENCY = re.compile(r"(?i)\s*(?:vnd|vnđ|đ|₫|d)\s*$")


def _amount(text: str, what: tuple[str, str], line: int, *, signed: bool) -> int:
    """Whole đồng from an amount cell; 0 for an empty cell or a dash."""
    raw = text
    text = text.replace("\u00a0", " ").replace("\u202f", " ").strip()
    text = _CURRENCY.sub("", text).strip()
    if text in ("", "-", "–"):
        return 0
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip()
    if text[:1] in "+-" or text[-1:] in "+-":
        negative = negative or "-" in (text[:1], text[-1:])
        text = text.strip("+-").strip()
    # More than 30 digits is past BIGINT anyway (and int() refuses 4,300 or more).
    value = _whole(text) if sum(ch.isdigit() for ch in text) <= 30 else MAX_STATEMENT_VND + 1
    if value is not None and value > MAX_STATEMENT_VND:
        raise StatementError(f"the {what[0]} {raw.strip()!r} is larger than any amount a bank books.",
                             f"{what[1]} {raw.strip()!r} lớn hơn mọi số tiền ngân hàng ghi sổ.", line)
    if value is None or (negative and not signed):
        raise StatementError(f"the {what[0]} {raw.strip()!r} is not a whole number of đồng.",
                             f"{what[1]} {raw.strip()!r} không phải là số đồng nguyên.", line)
    return -value if negative else value


def _whole(text: str) -> int | None:
    if re.fullmatch(r"\d+", text):
        return int(text)
    for separator, pattern in _GROUPED.items():
        if pattern.fullmatch(text):
            return int(text.replace(separator, ""))
    # A decimal part of zeros: the decimal mark is whichever of . and , is not the grouping one.
    match = re.fullmatch(r"(?P<int>[\d., ]+?)(?P<mark>[.,])0{1,2}", text)
    if match:
        whole, other = match["int"], "," if match["mark"] == "." else "."
        if re.fullmatch(r"\d+", whole):
            return int(whole)
        for separator in (other, " "):
            if _GROUPED[separator].fullmatch(whole):
                return int(whole.replace(separator, ""))
    return None


_DAY_FIRST = re.compile(r"(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4}|\d{2})"
                        r"(?:[ T,]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?")


def _booked_at(text: str, line: int) -> datetime:
    value = text.strip()
    try:
        match = _DAY_FIRST.fullmatch(value)
        if match:
            year = int(match["y"]) + (2000 if len(match["y"]) == 2 else 0)
            return datetime(year, int(match["m"]), int(match["d"]), int(match["H"] or 0), int(match["M"] or 0),
                            int(match["S"] or 0), tzinfo=LOCAL_TZ)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}(?:[T ].*)?", value):
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
            return parsed.replace(tzinfo=LOCAL_TZ) if parsed.tzinfo is None else parsed.astimezone(LOCAL_TZ)
    except ValueError:
        pass
    raise StatementError(f"the date {value!r} is not a date (use DD/MM/YYYY, DD/MM/YYYY HH:MM:SS or ISO 8601).",
                         f"ngày {value!r} không hợp lệ (dùng DD/MM/YYYY, DD/MM/YYYY HH:MM:SS hoặc ISO 8601).", line)


class _Collector:
    """Turns rows into credits, checking duplicate references."""

    def __init__(self) -> None:
        self.lines: list[StatementLine] = []
        self.seen: dict[str, int] = {}

    def add(self, reference: str, booked_at: datetime, amount: int, description: str, line: int) -> None:
        if amount <= 0:
            return
        first = self.seen.get(reference)
        if first is not None:
            raise StatementError(f"the bank reference {reference!r} already appears on line {first}.",
                                 f"số tham chiếu {reference!r} đã xuất hiện ở dòng {first}.", line)
        self.seen[reference] = line
        self.lines.append(StatementLine(reference, booked_at, amount, " ".join(description.split()), line))


# ---------------------------------------------------------------------------------------------- files

def parse_statement(data: bytes, filename: str) -> list[StatementLine]:
    """The credits of a bank statement file (CSV or camt.053 XML), in file order."""
    if not data or not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise StatementError("the file is empty.", "tệp rỗng.")
    name = (filename or "").lower()
    if data[:4] == b"PK\x03\x04" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" or name.endswith((".xls", ".xlsx")):
        raise StatementError("Excel files are not read: save the statement as CSV (UTF-8) and upload that.",
                             "Không đọc được tệp Excel: hãy lưu sao kê dưới dạng CSV (UTF-8) rồi tải lên.")
    text = _decode(data)
    if not text.strip():
        raise StatementError("the file is empty.", "tệp rỗng.")
    if name.endswith(".xml") or text.lstrip().startswith("<"):
        return _parse_camt(text)
    return _parse_csv(text)


def _decode(data: bytes) -> str:
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise StatementError("the file is not UTF-8 text: save the statement as CSV UTF-8.",
                             "tệp không phải văn bản UTF-8: hãy lưu sao kê dưới dạng CSV UTF-8.", line) from exc


def _records(text: str, delimiter: str):
    """(first line, cells) for each CSV record."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    previous = 0
    try:
        for row in reader:
            yield previous + 1, [cell.strip() for cell in row]
            previous = reader.line_num
    except csv.Error as exc:
        raise StatementError(f"the CSV is malformed ({exc}).", f"tệp CSV sai định dạng ({exc}).",
                             reader.line_num) from exc


def _find_header(text: str) -> tuple[str, int, dict[str, int]]:
    """The delimiter, the header's line and its columns; the best partial header's gaps otherwise."""
    best: tuple[int, int, dict[str, int]] | None = None  # (fields recognised, line, columns)
    first_line = None
    for delimiter in (",", ";", "\t"):
        for count, (line, row) in enumerate(_records(text, delimiter)):
            if count >= HEADER_SEARCH_ROWS:
                break
            if not any(row):
                continue
            first_line = first_line or line
            columns = _columns(row)
            if not _missing(columns):
                return delimiter, line, columns
            if len(columns) >= 2 and (best is None or len(columns) > best[0]):
                best = (len(columns), line, columns)
    if best is not None:
        missing = _missing(best[2])
        raise StatementError(
            "the header is not recognised: no column for " + ", ".join(_NAMES[f][0] for f in missing) + ".",
            "không nhận ra dòng tiêu đề: thiếu cột " + ", ".join(_NAMES[f][1] for f in missing) + ".", best[1])
    raise StatementError(
        "the header is not recognised: expected columns such as Ngày giao dịch / Transaction date, "
        "Số tham chiếu / Reference, Số tiền ghi có / Credit, Nội dung / Description.",
        "không nhận ra dòng tiêu đề: cần các cột như Ngày giao dịch, Số tham chiếu, Số tiền ghi có, Nội dung.",
        first_line or 1)


def _parse_csv(text: str) -> list[StatementLine]:
    delimiter, header_line, columns = _find_header(text)
    collector = _Collector()
    width = max(columns.values()) + 1
    for line, row in _records(text, delimiter):
        if line <= header_line or not any(row):
            continue
        row = row + [""] * (width - len(row))
        reference, day = row[columns["reference"]], row[columns["date"]]
        if not reference:
            if not day:
                continue  # a totals or balance row
            try:
                _booked_at(day, line)
            except StatementError:
                continue  # "Tổng cộng", "Số dư cuối kỳ"… in the date column
        booked_at = _booked_at(day, line)
        if "credit" in columns:
            credit = _amount(row[columns["credit"]], ("credit amount", "số tiền ghi có"), line, signed=False)
            debit = (_amount(row[columns["debit"]], ("debit amount", "số tiền ghi nợ"), line, signed=True)
                     if "debit" in columns else 0)
            if credit and debit:
                raise StatementError("a row may not have both a credit and a debit amount.",
                                     "một dòng không được có cả số tiền ghi có và ghi nợ.", line)
        else:
            credit = _amount(row[columns["amount"]], ("amount", "số tiền"), line, signed=True)
        if credit > 0 and not reference:
            raise StatementError("the credit has no bank reference.", "khoản ghi có không có số tham chiếu.", line)
        collector.add(reference, booked_at, credit, row[columns["description"]], line)
    return collector.lines


# ---------------------------------------------------------------------------------------------- camt.053

class _CamtHandler(ContentHandler):
    """Collects each ``Ntry``'s values by their path below it, with the line the entry starts on."""

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[tuple[int, dict[str, list[tuple[str, dict]]]]] = []
        self._stack: list[str] = []
        self._buffer: list[str] = []
        self._attributes: list[dict] = []
        self._current: dict[str, list[tuple[str, dict]]] | None = None

    def line(self) -> int:
        return self._locator.getLineNumber() if self._locator is not None else 0

    def startElement(self, name, attrs):  # noqa: N802 - SAX's names
        local = name.rsplit(":", 1)[-1]
        self._stack.append(local)
        self._attributes.append(dict(attrs.items()))
        self._buffer.clear()
        if local == "Ntry":
            self._current = {}
            self.entries.append((self.line(), self._current))

    def endElement(self, name):  # noqa: N802
        stack = self._stack
        if self._current is not None and "Ntry" in stack:
            path = "/".join(stack[stack.index("Ntry") + 1:])
            if path:
                self._current.setdefault(path, []).append(("".join(self._buffer).strip(), self._attributes[-1]))
        if stack[-1] == "Ntry":
            self._current = None
        stack.pop()
        self._attributes.pop()
        self._buffer.clear()

    def characters(self, content):
        self._buffer.append(content)


def _parse_camt(text: str) -> list[StatementLine]:
    """camt.053 through defusedxml: a DTD, entity declarations and external references are refused before
    anything is expanded (billion laughs, quadratic blow-up, XXE)."""
    handler = _CamtHandler()
    try:
        source = InputSource()
        source.setByteStream(io.BytesIO(text.encode("utf-8")))
        source.setEncoding("utf-8")  # the text is decoded already, whatever its declaration says
        defused_sax.parse(source, handler, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as exc:
        raise StatementError("a statement XML may not contain a DTD.", "tệp XML sao kê không được chứa DTD.",
                             handler.line()) from exc
    except SAXParseException as exc:
        reason = exc.getMessage()
        raise StatementError(f"the XML is malformed ({reason}).", f"tệp XML sai định dạng ({reason}).",
                             exc.getLineNumber()) from exc
    entries = handler.entries

    collector = _Collector()
    for line, entry in entries:
        def first(*paths, entry=entry):
            for path in paths:
                for value, _ in entry.get(path, []):
                    if value:
                        return value
            return ""

        status = first("Sts/Cd", "Sts")
        if status and status != "BOOK":
            continue
        indicator = first("CdtDbtInd")
        if indicator not in ("CRDT", "DBIT"):
            raise StatementError("the entry has no credit/debit indicator (CRDT or DBIT).",
                                 "bút toán thiếu chỉ báo ghi có/ghi nợ (CRDT hoặc DBIT).", line)
        amounts = entry.get("Amt", [])
        currency = amounts[0][1].get("Ccy", "VND") if amounts else "VND"
        if currency != "VND":
            raise StatementError(f"the entry is in {currency}, not VND.", f"bút toán bằng {currency}, không phải VND.",
                                 line)
        amount = _camt_amount(first("Amt"), line)
        booked_at = _booked_at(first("BookgDt/DtTm", "BookgDt/Dt", "ValDt/DtTm", "ValDt/Dt"), line)
        reference = first("AcctSvcrRef", "NtryDtls/TxDtls/Refs/AcctSvcrRef", "NtryRef", "NtryDtls/TxDtls/Refs/TxId",
                          "NtryDtls/TxDtls/Refs/EndToEndId")
        if indicator == "CRDT" and (not reference or reference == "NOTPROVIDED"):
            raise StatementError("the credit has no bank reference.", "khoản ghi có không có số tham chiếu.", line)
        parts = [value for path in ("NtryDtls/TxDtls/RmtInf/Ustrd", "NtryDtls/TxDtls/AddtlTxInf", "AddtlNtryInf")
                 for value, _ in entry.get(path, []) if value]
        description = " ".join(dict.fromkeys(parts))
        collector.add(reference, booked_at, amount if indicator == "CRDT" else 0, description, line)
    return collector.lines


def _camt_amount(text: str, line: int) -> int:
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value != value.to_integral_value() or value < 0:
        raise StatementError(f"the amount {text!r} is not a whole number of đồng.",
                             f"số tiền {text!r} không phải là số đồng nguyên.", line)
    if value > MAX_STATEMENT_VND:
        raise StatementError(f"the amount {text!r} is larger than any amount a bank books.",
                             f"số tiền {text!r} lớn hơn mọi số tiền ngân hàng ghi sổ.", line)
    return int(value)
