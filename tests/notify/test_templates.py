"""Every SMS fits one GSM-7 part at its longest, in unaccented Vietnamese."""

from __future__ import annotations

import csv
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from core.config import load_config
from notify import templates
from notify.templates import (
    AMOUNT_MAX_VND,
    NUMBER_MAX,
    POINT_MIN,
    SEGMENT_SEPTETS,
    TEMPLATES,
    TOKEN_LENGTH,
    NotGsm7,
    SmsTooLong,
    fields,
    render,
    septets,
    unaccent,
)

POINTS_CSV = Path(__file__).resolve().parents[2] / "geo" / "data" / "hanoi_service_points.csv"
POINT_NAMES = [row["name"] for row in csv.DictReader(POINTS_CSV.open(encoding="utf-8"))]
LONGEST_NUMBER = ("HN-X" + "9" * (NUMBER_MAX - len("HN-X-261124-0001")) + "-261124-0001")
LONGEST_POINT = max(POINT_NAMES, key=len) + " – " + "Phường Đống Đa " * 10  # longer than any real one
LINK_BASE_MAX = int(load_config()["SMS_LINK_BASE_MAX"])
# The longest base URL the templates are sized for, with extension characters (2 septets each) in it.
LONGEST_BASE = "https://" + "~" * 2 + "a" * (LINK_BASE_MAX - len("https://") - 2)
LONGEST_LINK = LONGEST_BASE + "/t/" + "A" * TOKEN_LENGTH
SLOT = datetime(2026, 12, 31, 16, 59, tzinfo=timezone.utc)  # 31/12 23:59 in Hanoi
DAY = date(2026, 12, 31)  # every date is ten characters

VARIANTS = [(event, variant) for event, variants in TEMPLATES.items() for variant in variants]


def longest_values(variant: str) -> dict:
    values = {"number": LONGEST_NUMBER, "link": LONGEST_LINK, "amount": AMOUNT_MAX_VND, "slot": SLOT,
              "point": LONGEST_POINT, "date": DAY}
    return {name: values[name] for name in fields(variant)}


def test_the_longest_values_are_the_longest():
    assert len(LONGEST_NUMBER) == NUMBER_MAX
    assert len(LONGEST_BASE) == LINK_BASE_MAX
    assert templates.format_amount(AMOUNT_MAX_VND) == "9.999.999.999d"
    assert templates.format_slot(SLOT) == "31/12 23:59"
    assert templates.format_date(DAY) == "31/12/2026" and templates.format_date(SLOT) == "31/12/2026"


@pytest.mark.parametrize(("event", "variant"), VARIANTS, ids=[f"{e}-{i}" for i, (e, _) in enumerate(VARIANTS)])
def test_every_template_fits_one_gsm7_part_at_its_longest(event, variant):
    values = longest_values(variant)
    assert templates.variant_for(event, set(values)) == variant
    body = render(event, **values)
    assert septets(body) <= SEGMENT_SEPTETS  # raises NotGsm7 for anything outside GSM-7
    assert body.isascii(), body  # unaccented: no diacritics, no typographic punctuation
    assert LONGEST_LINK in body and LONGEST_NUMBER in body
    if "point" in values:  # the point's name is cut to the room left, and that room is still useful
        room = SEGMENT_SEPTETS - septets(variant.format(**{**{k: templates._clean(k, v) for k, v in values.items()
                                                               if k != "point"}, "point": ""}))
        assert room >= POINT_MIN
        assert body.count("Chi nhanh so") == 1


def test_realistic_messages_read_as_written():
    link = "https://dichvucong.hanoi.gov.vn/t/" + "a" * 22
    assert render("received", number="HN-CN02-261124-0001", link=link) == (
        f"Ho so HN-CN02-261124-0001 da duoc tiep nhan. Theo doi: {link}")
    assert render("paid", number="HN-CN02-261124-0001", amount=220_000, link=link) == (
        f"Ho so HN-CN02-261124-0001 da thanh toan 220.000d. Bien lai: {link}")
    assert render("returned_to_branch", number="HN-X00126-261124-0001", link=link,
                  point="Điểm tiếp nhận Quận Hoàn Kiếm") == (
        f"Giao ho so HN-X00126-261124-0001 that bai, moi nhan tai Diem tiep nhan Quan Hoan Kiem. {link}")
    assert render("apology", number="HN-CN02-261124-0001", date=date(2026, 12, 7), link=link) == (
        f"Xin loi, ho so HN-CN02-261124-0001 tra cham, hen lai 07/12/2026. {link}")
    # No slot known: the variant without it.
    assert render("out_for_delivery", number="HN-CN02-261124-0001", link=link, slot=None).startswith(
        "Ho so HN-CN02-261124-0001 dang duoc giao den ban.")


def test_every_real_point_name_fits_and_is_unaccented():
    link = "http://127.0.0.1:5000/t/" + "a" * 22
    for name in POINT_NAMES:
        for event in ("result_ready", "returned_to_branch"):
            body = render(event, number="101.05.97.H26-261124-0001", link=link, point=name)
            assert body.isascii() and septets(body) <= SEGMENT_SEPTETS
            assert templates.short_point(name)[:4] in body


def test_a_legal_number_goes_out_whole_in_every_template():
    """Circular 01/2018/TT-VPCP Art. 19 numbers (dots and dashes, 25 characters) are GSM-7 and fit."""
    link = "http://127.0.0.1:5000/t/" + "a" * 22
    number = "000.02.98.H26-261124-0001"
    for event in templates.TEMPLATES:
        body = render(event, number=number, link=link, amount=220_000, slot=None, point="Chi nhánh số 2",
                      date=date(2026, 12, 7))
        assert number in body and septets(body) <= SEGMENT_SEPTETS, event


def test_values_lose_their_diacritics():
    assert unaccent("Đường Nguyễn Trãi – Thanh Xuân, Hà Nội") == "Duong Nguyen Trai - Thanh Xuan, Ha Noi"
    assert unaccent("ĐẶNG Thị Ưng “Hoà” … 220.000 ₫") == 'DANG Thi Ung "Hoa" ... 220.000 d'
    assert unaccent("Tên 中文") == "Ten ??"  # never a UCS-2 message
    assert templates.short_point("Chi nhánh số 1 – Trung tâm Phục vụ hành chính công TP Hà Nội", 20) == "Chi nhanh so 1"


def test_gsm7_extension_characters_count_two_and_others_are_refused():
    assert septets("abc") == 3
    assert septets("[x]") == 5
    assert septets("€^{}\\~|") == 14
    for text in ("ă", "Đ", "“", "中", "😀"):
        with pytest.raises(NotGsm7):
            septets(text)


def test_too_long_is_refused():
    with pytest.raises(SmsTooLong):
        render("received", number=LONGEST_NUMBER, link="https://" + "a" * 150 + "/t/x")
    with pytest.raises(SmsTooLong):  # extension characters count twice
        render("received", number=LONGEST_NUMBER, link="https://" + "~" * 60 + "/t/x")
    with pytest.raises(ValueError):
        render("received", number="X" * (NUMBER_MAX + 1), link="https://a/t/x")
    with pytest.raises(KeyError):
        render("no_such_event", number="X", link="https://a/t/x")
