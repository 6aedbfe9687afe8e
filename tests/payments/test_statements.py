"""Bank statements: CSV with Vietnamese or English headers, camt.053, and every error with its line."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.statements import LOCAL_TZ, StatementError, StatementLine, parse_statement
from payments.vietqr import find_reference

REFERENCE = "HSHNCN022611240001"


def local(*args) -> datetime:
    return datetime(*args, tzinfo=LOCAL_TZ)


def parse(text: str, filename: str = "statement.csv", *, bom: bool = False) -> list[StatementLine]:
    return parse_statement(("\ufeff" if bom else "").encode() + text.encode("utf-8"), filename)


def error(text: str | bytes, filename: str = "statement.csv") -> StatementError:
    data = text.encode("utf-8") if isinstance(text, str) else text
    with pytest.raises(StatementError) as info:
        parse_statement(data, filename)
    return info.value


# ------------------------------------------------------------------------------------------------ header styles

VIETCOMBANK_STYLE = (
    "NGÂN HÀNG TMCP NGOẠI THƯƠNG VIỆT NAM\n"
    "Sao kê tài khoản,0011001234567\n"
    "Từ ngày 24/11/2026 đến ngày 24/11/2026\n"
    "\n"
    "STT,Ngày giao dịch,Số tham chiếu,Số tiền ghi nợ,Số tiền ghi có,Số dư,Nội dung\n"  # line 5
    '1,24/11/2026 09:15:02,5213 - 41234,,"242.000","10.242.000",'
    '"MBVCB.5678.123456.HSHNCN022611240001.CT tu 0011009876543 NGUYEN VAN A"\n'  # line 6
    '2,24/11/2026 10:01:00,5213 - 41235,"11.000",,"10.231.000",Phi dich vu SMS\n'  # line 7: a debit
    '3,24/11/2026 16:40:59,5213 - 41236,,"1.250.000","11.481.000","IBFT HS HN-CN02-261124-0002"\n'  # line 8
    ',,,"11.000","1.492.000",,Tổng cộng\n'
    ",Số dư cuối kỳ,,,,11.481.000,\n"
)


def test_vietnamese_headers_after_a_preamble_with_a_bom():
    lines = parse(VIETCOMBANK_STYLE, bom=True)
    assert lines == [
        StatementLine("5213 - 41234", local(2026, 11, 24, 9, 15, 2), 242_000,
                      "MBVCB.5678.123456.HSHNCN022611240001.CT tu 0011009876543 NGUYEN VAN A", 6),
        StatementLine("5213 - 41236", local(2026, 11, 24, 16, 40, 59), 1_250_000, "IBFT HS HN-CN02-261124-0002", 8),
    ]
    assert [find_reference(line.description) for line in lines] == [REFERENCE, "HSHNCN022611240002"]


def test_short_vietnamese_headers_semicolons_and_commas_for_thousands():
    text = ("Ngày GD;Mã GD;Ghi nợ;Ghi có;Diễn giải\n"
            "24/11/2026;FT26328000001;;1,250,000;HSHNCN022611240001 nop le phi\n"
            "25/11/2026;FT26329000002;;242,000;ND: hs hncn02 261124 0003\n")
    lines = parse(text, bom=True)
    assert [(line.bank_reference, line.booked_at, line.amount_vnd, line.line_number) for line in lines] == [
        ("FT26328000001", local(2026, 11, 24), 1_250_000, 2),
        ("FT26329000002", local(2026, 11, 25), 242_000, 3),
    ]
    assert find_reference(lines[1].description) == "HSHNCN022611240003"


def test_english_headers_iso_dates_plain_amounts_without_bom():
    text = ("Transaction date,Reference,Debit,Credit,Balance,Description\n"
            "2026-11-24T09:15:02,TX1,,242000,0,HSHNCN022611240001\n"
            "2026-11-24,TX2,5000,,0,fee\n"
            "2026-11-24T02:15:02Z,TX3,0,1250000,0,HSHNCN022611240002\n"
            "2026-11-24 09:15:02+07:00,TX4,-,1250000,0,x\n")
    lines = parse(text)
    assert [(line.bank_reference, line.booked_at, line.amount_vnd) for line in lines] == [
        ("TX1", local(2026, 11, 24, 9, 15, 2), 242_000),
        ("TX3", local(2026, 11, 24, 9, 15, 2), 1_250_000),  # 02:15:02 UTC
        ("TX4", local(2026, 11, 24, 9, 15, 2), 1_250_000),
    ]
    assert lines[1].booked_at.utcoffset() == timedelta(hours=7)
    assert lines[1].booked_at == datetime(2026, 11, 24, 2, 15, 2, tzinfo=timezone.utc)


def test_header_names_with_currency_suffix_and_odd_case():
    text = ("ngày giao dịch;SỐ THAM CHIẾU;Ghi có (VND);Ghi nợ (VND);Nội dung giao dịch\n"
            "24/11/2026 09:15;R1;242.000 VND;;HSHNCN022611240001\n")
    assert parse(text)[0].amount_vnd == 242_000


def test_one_signed_amount_column():
    text = ("Ngày giao dịch,Số tham chiếu,Số tiền,Nội dung\n"
            "24/11/2026,R1,+242.000,HSHNCN022611240001\n"
            "24/11/2026,R2,-11.000,Phi\n"
            "24/11/2026,R3,(5.000),Phi\n"
            "24/11/2026,R4,1.250.000,HSHNCN022611240002\n")
    assert [(line.bank_reference, line.amount_vnd) for line in parse(text)] == [("R1", 242_000), ("R4", 1_250_000)]


def test_tab_separated_utf16_as_excel_writes_it():
    text = "Ngày GD\tMã GD\tGhi có\tDiễn giải\r\n24/11/2026\tR1\t242.000\tHSHNCN022611240001\r\n"
    lines = parse_statement(text.encode("utf-16"), "statement.txt")
    assert [(line.bank_reference, line.amount_vnd, line.line_number) for line in lines] == [("R1", 242_000, 2)]


def test_quoted_multi_line_description_keeps_line_numbers():
    text = ('Ngày GD,Mã GD,Ghi có,Diễn giải\n'
            '24/11/2026,R1,242.000,"HSHNCN022611240001\nCT tu 0011"\n'  # lines 2-3
            '24/11/2026,R2,1.000,x\n')  # line 4
    lines = parse(text)
    assert [line.line_number for line in lines] == [2, 4]
    assert lines[0].description == "HSHNCN022611240001 CT tu 0011"


def test_a_header_without_rows_is_an_empty_statement():
    assert parse("Ngày GD,Mã GD,Ghi có,Diễn giải\n") == []
    assert parse("Ngày GD,Mã GD,Ghi có,Diễn giải\n,,,\n,,,Tổng cộng\n") == []


def test_statement_lines_are_frozen():
    line = parse("Ngày GD,Mã GD,Ghi có,Diễn giải\n24/11/2026,R1,1,x\n")[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        line.amount_vnd = 2


# ------------------------------------------------------------------------------------------------ values

@pytest.mark.parametrize("cell, amount", [
    ("1.250.000", 1_250_000), ("1,250,000", 1_250_000), ("1250000", 1_250_000), ("1 250 000", 1_250_000),
    ("1\u00a0250\u00a0000", 1_250_000), ("1,250,000.00", 1_250_000), ("1.250.000,00", 1_250_000),
    ("1250000.0", 1_250_000), ("1.250.000 VND", 1_250_000), ("1.250.000 đ", 1_250_000), ("+1,250,000", 1_250_000),
    ("500", 500), ("1.000", 1_000), ("", None), ("0", None), ("-", None),
])
def test_amount_formats(cell, amount):
    lines = parse(f'Ngày GD;Mã GD;Ghi có;Diễn giải\n24/11/2026;R1;{cell};x\n')
    assert [line.amount_vnd for line in lines] == ([amount] if amount else [])
    assert all(type(line.amount_vnd) is int for line in lines)


@pytest.mark.parametrize("cell", ["1.25", "12,50", "1,250,00", "1.250.000,50", "1,250,000.5", "abc", "1.2.3",
                                  "12.34.567", "1,250.000", "-1.000", "1e6", "0x10"])
def test_bad_amount_names_the_line(cell):
    text = f"Ngày GD;Mã GD;Ghi có;Diễn giải\n24/11/2026;R1;1.000;x\n\n24/11/2026;R2;{cell};x\n"
    exc = error(text)
    assert exc.line_number == 4
    assert exc.en.startswith("Line 4: ") and "credit amount" in exc.en and repr(cell) in exc.en
    assert exc.vi.startswith("Dòng 4: ") and "số tiền ghi có" in exc.vi


def test_bad_debit_amount_is_an_error_too():
    text = "Ngày GD,Mã GD,Ghi nợ,Ghi có,Diễn giải\n24/11/2026,R1,1.2,,x\n"
    exc = error(text)
    assert exc.line_number == 2 and "debit amount" in exc.en and "ghi nợ" in exc.vi


@pytest.mark.parametrize("cell, expected", [
    ("24/11/2026", local(2026, 11, 24)),
    ("24/11/2026 09:15:02", local(2026, 11, 24, 9, 15, 2)),
    ("24/11/2026 9:15", local(2026, 11, 24, 9, 15)),
    ("1/2/2026", local(2026, 2, 1)),
    ("24-11-2026", local(2026, 11, 24)),
    ("24.11.2026", local(2026, 11, 24)),
    ("24/11/26", local(2026, 11, 24)),
    ("2026-11-24", local(2026, 11, 24)),
    ("2026-11-24T09:15:02", local(2026, 11, 24, 9, 15, 2)),
    ("2026-11-24 09:15:02", local(2026, 11, 24, 9, 15, 2)),
    ("2026-11-24T02:15:02Z", local(2026, 11, 24, 9, 15, 2)),
    ("2026-11-24T03:15:02+01:00", local(2026, 11, 24, 9, 15, 2)),
])
def test_date_formats(cell, expected):
    line = parse(f"Ngày GD;Mã GD;Ghi có;Diễn giải\n{cell};R1;1.000;x\n")[0]
    assert line.booked_at == expected
    assert line.booked_at.utcoffset() == timedelta(hours=7)


@pytest.mark.parametrize("cell", ["31/02/2026", "24/13/2026", "2026/11/24", "24/11", "hôm qua", "2026-13-01",
                                  "24/11/2026 25:00", "11/24/2026"])
def test_bad_date_names_the_line(cell):
    text = f"Ngày GD;Mã GD;Ghi có;Diễn giải\n24/11/2026;R1;1.000;x\n{cell};R2;1.000;x\n"
    exc = error(text)
    assert exc.line_number == 3
    assert "Line 3: the date" in exc.en and "Dòng 3: ngày" in exc.vi


# ------------------------------------------------------------------------------------------------ errors

@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"  \r\n\n", "\ufeff\n".encode("utf-16")])
def test_empty_file(data):
    exc = error(data)
    assert exc.line_number is None
    assert exc.en == "The file is empty." and exc.vi == "Tệp rỗng."


def test_unrecognised_header():
    exc = error("\n\nfoo,bar,baz\n1,2,3\n")
    assert exc.line_number == 3  # the first non-blank row
    assert "header is not recognised" in exc.en and "Transaction date" in exc.en
    assert "không nhận ra dòng tiêu đề" in exc.vi
    assert isinstance(exc, ValueError) and str(exc) == exc.en


def test_partial_header_names_the_missing_columns():
    exc = error("Sao kê\nNgày giao dịch;Số tham chiếu;Số tiền ghi nợ;Nội dung\n24/11/2026;R1;1.000;x\n")
    assert exc.line_number == 2
    assert "credit amount (Số tiền ghi có)" in exc.en and "số tiền ghi có (Credit)" in exc.vi
    assert "description" not in exc.en


def test_duplicate_reference_names_both_lines():
    text = ("Ngày GD,Mã GD,Ghi nợ,Ghi có,Diễn giải\n"
            "24/11/2026,R1,,242.000,HSHNCN022611240001\n"
            "24/11/2026,R1,1.100,,Phi giao dich\n"  # the bank's fee under the same reference: allowed
            "24/11/2026,R2,,1.000,x\n"
            "24/11/2026,R1,,242.000,HSHNCN022611240001\n")  # line 5
    exc = error(text)
    assert exc.line_number == 5
    assert "'R1' already appears on line 2" in exc.en and "đã xuất hiện ở dòng 2" in exc.vi


def test_credit_and_debit_on_one_row():
    exc = error("Ngày GD,Mã GD,Ghi nợ,Ghi có,Diễn giải\n24/11/2026,R1,1.000,1.000,x\n")
    assert exc.line_number == 2 and "both" in exc.en


def test_credit_without_reference():
    exc = error("Ngày GD,Mã GD,Ghi có,Diễn giải\n24/11/2026,,1.000,x\n")
    assert exc.line_number == 2 and "no bank reference" in exc.en and "số tham chiếu" in exc.vi


def test_not_utf8():
    data = "Ngày GD,Mã GD,Ghi có,Diễn giải\n".encode() + "24/11/2026,R1,1.000,Nop phí\n".encode("cp1252")
    exc = error(data)
    assert exc.line_number == 2 and "UTF-8" in exc.en and "UTF-8" in exc.vi


def test_excel_is_refused_with_advice():
    exc = error(b"PK\x03\x04" + b"\x00" * 40, "statement.xlsx")
    assert "CSV" in exc.en and "CSV" in exc.vi and exc.line_number is None


# ------------------------------------------------------------------------------------------------ camt.053

CAMT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <Stmt>
      <Ntry>
        <Amt Ccy="VND">242000</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><DtTm>2026-11-24T09:15:02+07:00</DtTm></BookgDt>
        <AcctSvcrRef>FT26328000001</AcctSvcrRef>
        <NtryDtls><TxDtls><RmtInf><Ustrd>MBVCB.123.HSHNCN022611240001.CT tu 0011</Ustrd></RmtInf></TxDtls></NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="VND">11000.00</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2026-11-24</Dt></BookgDt>
        <AcctSvcrRef>FT26328000002</AcctSvcrRef>
      </Ntry>
      <Ntry>
        <Amt Ccy="VND">500000</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts><Cd>PDNG</Cd></Sts>
        <BookgDt><Dt>2026-11-24</Dt></BookgDt>
        <AcctSvcrRef>FT26328000003</AcctSvcrRef>
      </Ntry>
      <Ntry>
        <Amt Ccy="VND">1250000.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>2026-11-25</Dt></BookgDt>
        <NtryDtls><TxDtls><Refs><AcctSvcrRef>FT26329000004</AcctSvcrRef></Refs></TxDtls></NtryDtls>
        <AddtlNtryInf>IBFT HS HN-CN02-261124-0002</AddtlNtryInf>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
"""


def test_camt053():
    lines = parse(CAMT, "statement.xml")
    assert lines == [
        StatementLine("FT26328000001", local(2026, 11, 24, 9, 15, 2), 242_000,
                      "MBVCB.123.HSHNCN022611240001.CT tu 0011", 5),
        StatementLine("FT26329000004", local(2026, 11, 25), 1_250_000, "IBFT HS HN-CN02-261124-0002", 27),
    ]
    assert parse(CAMT, "STATEMENT") == lines  # recognised by its content too


@pytest.mark.parametrize("change, line, words", [
    (("242000</Amt>", "242000.5</Amt>"), 5, "whole number"),
    (('<Amt Ccy="VND">242000', '<Amt Ccy="USD">242000'), 5, "USD"),
    (("2026-11-24T09:15:02+07:00", "yesterday"), 5, "date"),
    (("<AcctSvcrRef>FT26328000001</AcctSvcrRef>", ""), 5, "no bank reference"),
    (("<CdtDbtInd>CRDT</CdtDbtInd>", ""), 5, "indicator"),
    (("<AcctSvcrRef>FT26329000004</AcctSvcrRef>", "<AcctSvcrRef>FT26328000001</AcctSvcrRef>"), 27, "already"),
    (("</Ntry>", "</Entry>"), 12, "malformed"),
])
def test_camt053_errors(change, line, words):
    exc = error(CAMT.replace(*change, 1), "statement.xml")
    assert exc.line_number == line and words in exc.en and exc.vi.startswith(f"Dòng {line}: ")


def test_camt053_refuses_a_dtd():
    bomb = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>\n'
            "<Document><Ntry><AddtlNtryInf>&lol2;</AddtlNtryInf></Ntry></Document>")
    exc = error(bomb, "statement.xml")
    assert "DTD" in exc.en and exc.line_number == 2


BILLION_LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
                  + "".join(f' <!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">\n'
                            for n in range(1, 10))
                  + ']>\n<Document><BkToCstmrStmt><Stmt><Ntry><AddtlNtryInf>&lol9;</AddtlNtryInf>'
                  '</Ntry></Stmt></BkToCstmrStmt></Document>')


@pytest.mark.parametrize("document", [
    BILLION_LAUGHS,
    # External entities (XXE): a file of the server, and a URL.
    '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    "<Document><Ntry><AddtlNtryInf>&xxe;</AddtlNtryInf></Ntry></Document>",
    '<?xml version="1.0"?>\n<!DOCTYPE d SYSTEM "http://127.0.0.1:9/evil.dtd">\n<Document/>',
    # A parameter entity, expanded inside the DTD itself.
    '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY % p "<!ENTITY x \'y\'>"> %p;]>\n<Document/>',
], ids=["billion-laughs", "xxe-file", "external-dtd", "parameter-entity"])
def test_camt053_refuses_entity_expansion_and_external_references(document):
    exc = error(document, "statement.xml")
    assert "DTD" in exc.en and exc.line_number >= 1


def test_camt053_an_undeclared_entity_is_malformed_not_expanded():
    exc = error("<Document><Ntry><AddtlNtryInf>&lol9;</AddtlNtryInf></Ntry></Document>", "statement.xml")
    assert "malformed" in exc.en and "lol" not in exc.en.split("(", 1)[0]


# ------------------------------------------------------------------------------------------------ properties

def group(n: int, separator: str) -> str:
    return f"{n:,}".replace(",", separator)


@given(amount=st.integers(min_value=1, max_value=10 ** 12), style=st.sampled_from(["plain", ".", ",", " ", ".00"]),
       delimiter=st.sampled_from([",", ";"]))
def test_amounts_round_trip(amount, style, delimiter):
    cell = {"plain": str(amount), ".00": f"{amount:,}.00"}.get(style) or group(amount, style)
    header = delimiter.join(["Ngày GD", "Mã GD", "Ghi có", "Diễn giải"])
    text = header + "\n" + delimiter.join(["24/11/2026", "R1", f'"{cell}"', "x"]) + "\n"
    assert [line.amount_vnd for line in parse(text)] == [amount]
