"""VietQR payloads: the CRC checked by an independent implementation, structure, references in statements."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.vietqr import (
    VietQRError,
    build_payload,
    crc16,
    find_reference,
    parse_payload,
    qr_svg,
    reference_for,
)

VCB = "970436"
ACCOUNT = "0011001234567"
DOSSIER = "HN-CN02-261124-0001"
REFERENCE = "HSHNCN022611240001"

# The sample of NAPAS's VietQR specification (also in napas-qr-python's README), CRC 2E2E.
NAPAS_SAMPLE = ("00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA530370454061800005802VN"
                "62340107NPS68690819thanh toan don hang63042E2E")


def crc_ccitt_false(data: str) -> str:
    """CRC-16/CCITT-FALSE bit by bit, straight from its definition (poly 0x1021, init 0xFFFF)."""
    crc = 0xFFFF
    for byte in data.encode("ascii"):
        for bit in range(7, -1, -1):
            top = bool(crc & 0x8000) ^ bool((byte >> bit) & 1)
            crc = (crc << 1) & 0xFFFF
            if top:
                crc ^= 0x1021
    return f"{crc:04X}"


def tlv(payload: str) -> list[tuple[str, str]]:
    """The top-level tags, read independently of the module."""
    out, i = [], 0
    while i < len(payload):
        tag, length = payload[i:i + 2], int(payload[i + 2:i + 4])
        out.append((tag, payload[i + 4:i + 4 + length]))
        i += 4 + length
    return out


def vcb_payload(**overrides) -> str:
    args = {"bank_bin": VCB, "account_number": ACCOUNT, "amount_vnd": 242_000, "reference": reference_for(DOSSIER)}
    return build_payload(**{**args, **overrides})


# ------------------------------------------------------------------------------------------------ CRC

def test_crc_check_values():
    assert crc_ccitt_false("123456789") == "29B1"  # the catalogued check value of CRC-16/CCITT-FALSE
    assert crc16("123456789") == "29B1"
    assert crc16("") == "FFFF"


def test_published_sample_parses_and_its_crc_is_the_published_one():
    assert crc_ccitt_false(NAPAS_SAMPLE[:-4]) == "2E2E"
    parsed = parse_payload(NAPAS_SAMPLE)
    assert parsed["38"] == {"00": "A000000727", "01": {"00": "970403", "01": "0011012345678"}, "02": "QRIBFTTA"}
    assert parsed["54"] == "180000"
    assert parsed["62"] == {"01": "NPS6869", "08": "thanh toan don hang"}
    assert parsed["63"] == "2E2E"


def test_vietcombank_payload_exactly():
    payload = vcb_payload()
    body = ("00020101021238570010A00000072701270006970436011300110012345670208QRIBFTTA"
            "53037045406242000" "5802VN" "62220818HSHNCN022611240001" "6304")
    assert payload[:-4] == body
    assert payload[-4:] == crc_ccitt_false(body)  # over the payload including "6304"
    assert re.fullmatch(r"[0-9A-F]{4}", payload[-4:])


def test_fields_of_the_payload():
    payload = vcb_payload(merchant_name="Trung tâm PVHCC Hà Nội")
    tags = dict(tlv(payload))
    assert [tag for tag, _ in tlv(payload)] == ["00", "01", "38", "53", "54", "58", "59", "62", "63"]
    assert tags["00"] == "01" and tags["01"] == "12"  # dynamic QR
    assert tags["38"] == "0010A000000727" "0127" "0006970436" "0113" + ACCOUNT + "0208QRIBFTTA"
    assert tags["53"] == "704" and tags["58"] == "VN"
    assert tags["54"] == "242000"  # whole đồng, no decimal point
    assert tags["59"] == "TRUNG TAM PVHCC HA NOI"
    assert tags["62"] == "0818" + REFERENCE  # 62/08 purpose of transaction
    assert crc_ccitt_false(payload[:-4]) == tags["63"]


def test_round_trip():
    parsed = parse_payload(vcb_payload())
    assert parsed == {
        "00": "01", "01": "12",
        "38": {"00": "A000000727", "01": {"00": VCB, "01": ACCOUNT}, "02": "QRIBFTTA"},
        "53": "704", "54": "242000", "58": "VN", "62": {"08": REFERENCE}, "63": parsed["63"],
    }


# ------------------------------------------------------------------------------------------------ parse errors

def test_tampered_payload_fails_the_crc():
    payload = vcb_payload()
    tampered = payload.replace("5406242000", "5406942000")
    with pytest.raises(VietQRError, match="CRC"):
        parse_payload(tampered)
    with pytest.raises(VietQRError, match="CRC"):
        parse_payload(payload[:-4] + ("0000" if payload[-4:] != "0000" else "1111"))


def with_crc(body: str) -> str:
    return body + "6304" + crc_ccitt_false(body + "6304")


@pytest.mark.parametrize("payload", [
    "",
    "0002010102",  # truncated
    "00020101021238",  # a header without its value
    "0002AB6304FFFF",  # well-formed, a wrong CRC
    "00020101021238570010A00000072701270006970436011300110012345670208QRIBFTTA5303704é",  # not ASCII
])
def test_malformed_is_refused(payload):
    with pytest.raises(VietQRError):
        parse_payload(payload)


@pytest.mark.parametrize("body", [
    "000201" "010212" "3814" "0012A000000727",  # 38/00 says 12 characters, 10 are left
    "000201" "010212" "3812" "0008QRIBFTTA" "6206" "08XXHS",  # 62/08's length is not a number
    "000201" "010212" "5303704" "5303704",  # a repeated tag
    "010212" "000201",  # 00 not first
])
def test_malformed_tlv_with_a_valid_crc(body):
    with pytest.raises(VietQRError, match="TLV|tag 00"):
        parse_payload(with_crc(body))


def test_an_empty_subfield_is_well_formed():
    assert parse_payload(with_crc("000201" "6204" "0800"))["62"] == {"08": ""}


def test_crc_must_be_last():
    body = "000201010212"
    crc = crc_ccitt_false(body + "6304")
    with pytest.raises(VietQRError, match="tag 63"):
        parse_payload(body + "6304" + crc + "5303704")


def test_lowercase_crc_is_accepted():
    payload = vcb_payload()
    assert parse_payload(payload[:-4] + payload[-4:].lower())["54"] == "242000"


# ------------------------------------------------------------------------------------------------ build errors

@pytest.mark.parametrize("overrides, message", [
    ({"bank_bin": "97043"}, "BIN"),
    ({"bank_bin": 970436}, "BIN"),
    ({"account_number": ""}, "account"),
    ({"account_number": "0011 0012"}, "account"),
    ({"account_number": "1" * 20}, "account"),
    ({"amount_vnd": 0}, "more than 0"),
    ({"amount_vnd": -5}, "more than 0"),
    ({"amount_vnd": 10 ** 13}, "13 digits"),
    ({"amount_vnd": 242000.0}, "integer"),
    ({"amount_vnd": True}, "integer"),
    ({"amount_vnd": "242000"}, "integer"),
    ({"reference": ""}, "reference"),
    ({"reference": "hshn"}, "reference"),
    ({"reference": "HS HN"}, "reference"),
    ({"reference": "HS.HN"}, "reference"),
    ({"reference": "HỒSƠ"}, "reference"),
    ({"reference": "A" * 26}, "reference"),
    ({"merchant_name": "TRUNG TAM PHUC VU HANH CHINH CONG HA NOI"}, "merchant name"),
    ({"merchant_name": "   "}, "merchant name"),
    ({"merchant_name": "A@B"}, "merchant name"),
])
def test_build_validates(overrides, message):
    with pytest.raises(ValueError, match=message):
        vcb_payload(**overrides)


def test_the_largest_reference_and_amount_fit():
    payload = vcb_payload(reference="A-" * 12 + "Z", amount_vnd=10 ** 13 - 1)
    parsed = parse_payload(payload)
    assert parsed["62"]["08"] == "A-" * 12 + "Z"
    assert parsed["54"] == "9" * 13


# ------------------------------------------------------------------------------------------------ references

def test_reference_for():
    assert reference_for(DOSSIER) == REFERENCE
    assert reference_for(" hn-cn02-261124-0001 ") == REFERENCE
    assert reference_for("HN-Q-HK-01-260101-12345") == "HSHNQHK0126010112345"
    # The legal number (Circular 01/2018/TT-VPCP Art. 19): the agency code's dots go too.
    assert reference_for("000.02.98.H26-261124-0001") == "HS0000298H262611240001"
    assert reference_for(" 123.45.97.h26-261124-0012 ") == "HS1234597H262611240012"


@pytest.mark.parametrize("description", [
    "Nop phi HS 000.02.98.H26-261124-0001 cho ho so",
    "ck hs.000.02.98.h26.261124.0001",
    "IBFT HS0000298H26 2611240001 NGUYEN VAN A",
    "MBVCB.5678.HS0000298H262611240001.Le phi",
])
def test_find_reference_of_a_legal_number(description):
    assert find_reference(description) == reference_for("000.02.98.H26-261124-0001")


@pytest.mark.parametrize("number", [
    "", "HN-CN02", "HN-CN02-261124", "HN-CN02-261324-0001", "HN-CN02-261124-01", "HN CN02 261124 0001",
    "HN-CN02-261124-0001-X", "HN-CNĐ2-261124-0001", "H-261124-0001",
    "000.02.98.H26-261324-0001", "000.02.98.H26-261124-01", "000.02.98.H26 261124 0001",
    "HN-VERY-LONG-POINT-CODE-261124-0001",  # the reference would exceed 25 characters
])
def test_reference_for_refuses(number):
    with pytest.raises(ValueError):
        reference_for(number)


@pytest.mark.parametrize("description", [
    "CT DEN:0123 MBVCB.123.HSHNCN022611240001.CT tu 0011001234567 NGUYEN VAN A toi 1234",
    "HSHNCN022611240001",
    "hshncn022611240001",
    "Nop phi HS HN-CN02-261124-0001 cho ho so",
    "nop phi hs.hn.cn02.261124.0001",
    "IBFT HSHNCN02 2611240001 NGUYEN VAN A",
    "TRAN THI B chuyen tien HSHNCN022611240001-0011001234567",
    "REM Tfr Ac: 0011001234567 HSHNCN022611240001FT24329123",  # letters glued after the digits
    "HSHNCN022611240001 241125",  # another date-like number after a space
    "MBVCB.5678.HSHNCN02 261124 0001.Le phi",  # wrapped by the bank
    "GD 123456-HSHNCN022611240001",
    "Thanh toán hồ sơ HSHNCN022611240001 phí",
])
def test_find_reference_in_noisy_descriptions(description):
    assert find_reference(description) == REFERENCE


@pytest.mark.parametrize("description", [
    "",
    "CT DEN:0123 MBVCB.123.CT tu 0011001234567 NGUYEN VAN A",
    "HSHNCN022611",  # cut off by the bank
    "HSHNCN0226112400010011001234567",  # other digits glued on: cannot be told apart
    "HS HN CN02 261324 0001",  # month 13
    "HSABC",
])
def test_find_reference_finds_nothing(description):
    assert find_reference(description) is None


def test_find_reference_returns_the_first_of_two():
    assert find_reference("HSHNCN022611240001 va HSHNCN022611240002") == REFERENCE


# ------------------------------------------------------------------------------------------------ SVG

def test_qr_svg_is_inline_svg():
    svg = qr_svg(vcb_payload())
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "<?xml" not in svg


# ------------------------------------------------------------------------------------------------ properties

references = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=25)
amounts = st.integers(min_value=1, max_value=10 ** 13 - 1)
accounts = st.text(alphabet="0123456789", min_size=1, max_size=19)
bins = st.text(alphabet="0123456789", min_size=6, max_size=6)


@given(bank_bin=bins, account=accounts, amount=amounts, reference=references)
def test_round_trip_and_crc_property(bank_bin, account, amount, reference):
    payload = build_payload(bank_bin=bank_bin, account_number=account, amount_vnd=amount, reference=reference)
    assert payload[-4:] == crc_ccitt_false(payload[:-4])
    parsed = parse_payload(payload)
    assert parsed["38"]["01"] == {"00": bank_bin, "01": account}
    assert int(parsed["54"]) == amount and parsed["54"] == str(amount)
    assert parsed["62"] == {"08": reference}


@given(payload_index=st.integers(min_value=0), replacement=st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
       amount=amounts, reference=references)
def test_any_single_character_change_is_detected(payload_index, replacement, amount, reference):
    payload = build_payload(bank_bin=VCB, account_number=ACCOUNT, amount_vnd=amount, reference=reference)
    i = payload_index % len(payload)
    if payload[i] == replacement:
        return
    with pytest.raises(VietQRError):  # a CRC-16 detects every single-character error
        parse_payload(payload[:i] + replacement + payload[i + 1:])


dossier_numbers = st.builds(
    lambda point, day, seq: f"{point}-{day:%y%m%d}-{seq:04d}",
    st.from_regex(r"[A-Z]{2}-[A-Z]{1,3}[0-9]{0,3}", fullmatch=True),
    st.dates(),
    st.integers(min_value=0, max_value=9999),
)
noise = st.text(alphabet="abcxyz ABCXYZ.:0123456789", max_size=30)


@given(number=dossier_numbers, before=noise, after=noise)
def test_reference_is_found_again_in_a_description(number, before, after):
    reference = reference_for(number)
    assert re.fullmatch(r"HS[A-Z0-9]{1,23}", reference)
    assert find_reference(f"{before} {reference} {after}") == reference  # the noise holds no "HS"
