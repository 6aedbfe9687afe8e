"""Made-up citizens for the demo month: Vietnamese names, CCCD numbers, mobiles and Hanoi addresses,
drawn from a seeded ``random.Random`` (the same seed gives the same people)."""

from __future__ import annotations

import random

from marshmallow import ValidationError

from dossiers.validators import normalise_mobile

FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ",
          "Ngô", "Dương", "Lý", "Đinh", "Trịnh", "Mai", "Cao")
FAMILY_WEIGHTS = (38, 11, 9, 7, 5, 2, 4, 4, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1)
MIDDLE_MALE = ("Văn", "Đức", "Minh", "Quốc", "Hữu", "Công", "Thành", "Xuân", "Anh", "Tuấn")
MIDDLE_FEMALE = ("Thị", "Thu", "Ngọc", "Thanh", "Minh", "Phương", "Hồng", "Bích", "Kim", "Diệu")
GIVEN_MALE = ("An", "Bình", "Cường", "Dũng", "Đạt", "Giang", "Hải", "Hiếu", "Hùng", "Huy", "Khánh", "Long",
              "Mạnh", "Nam", "Phong", "Quân", "Sơn", "Thắng", "Trung", "Tú", "Việt", "Vinh")
GIVEN_FEMALE = ("Anh", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hiền", "Hoa", "Hương", "Lan", "Linh", "Mai",
                "Ngân", "Nhung", "Oanh", "Phương", "Quỳnh", "Thảo", "Trang", "Vân", "Yến")
# Mobile prefixes of Viettel, Vinaphone and MobiFone.
MOBILE_PREFIXES = ("086", "096", "097", "098", "032", "033", "034", "035", "036", "037", "038", "039", "088",
                   "091", "094", "083", "084", "085", "081", "082", "089", "090", "093", "070", "079", "077")
STREETS = ("Hàng Bài", "Bà Triệu", "Kim Mã", "Giảng Võ", "Xuân Thủy", "Cầu Giấy", "Trần Duy Hưng", "Láng Hạ",
           "Nguyễn Trãi", "Tây Sơn", "Minh Khai", "Giải Phóng", "Nguyễn Văn Cừ", "Ngọc Lâm", "Lạc Long Quân",
           "Âu Cơ", "Quang Trung", "Trần Phú", "Phạm Văn Đồng", "Hoàng Quốc Việt", "Nguyễn Văn Linh",
           "Tam Trinh", "Lĩnh Nam", "Trường Chinh")
WARDS = ("Hoàn Kiếm", "Ba Đình", "Cầu Giấy", "Đống Đa", "Hai Bà Trưng", "Thanh Xuân", "Hoàng Mai", "Long Biên",
         "Tây Hồ", "Hà Đông", "Bồ Đề", "Yên Hòa", "Láng", "Kim Liên", "Tương Mai", "Nghĩa Đô")


def citizen(rng: random.Random) -> dict:
    """A citizen as an agent types them in: full name, CCCD (Hanoi or another province), mobile, address."""
    male = rng.random() < 0.5
    family = rng.choices(FAMILY, FAMILY_WEIGHTS)[0]
    middle = rng.choice(MIDDLE_MALE if male else MIDDLE_FEMALE)
    given = rng.choice(GIVEN_MALE if male else GIVEN_FEMALE)
    year = rng.randint(1950, 2006)
    # CCCD: province (001 Hanoi, mostly), then century and sex (0/1: 1900s, 2/3: 2000s), year, six digits.
    province = "001" if rng.random() < 0.8 else rng.choice(("030", "034", "036", "037", "038", "040", "022"))
    century_sex = (0 if year < 2000 else 2) + (0 if male else 1)
    cccd = f"{province}{century_sex}{year % 100:02d}{rng.randint(0, 999_999):06d}"
    return {"full_name": f"{family} {middle} {given}", "cccd": cccd, "phone": mobile(rng), "address": address(rng)}


def mobile(rng: random.Random) -> str:
    """A mobile number in its national form, one that the platform accepts as able to receive SMS."""
    while True:
        phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randint(0, 9_999_999):07d}"
        try:
            normalise_mobile(phone)
            return phone
        except ValidationError:
            continue


def address(rng: random.Random) -> str:
    return f"{rng.randint(1, 250)} {rng.choice(STREETS)}, phường {rng.choice(WARDS)}, Hà Nội"
