"""Bilingual messages: Vietnamese first, English second.

Field validation messages are written in English in the schemas (marshmallow's own
and ours); ``to_vietnamese`` gives each its Vietnamese text so every API error can
name the field in both languages.
"""

from __future__ import annotations

import re
from typing import NamedTuple


class Text(NamedTuple):
    vi: str
    en: str

    def get(self, lang: str) -> str:
        return self.vi if lang == "vi" else self.en


# Exact English messages (marshmallow's defaults and the project's validators).
_EXACT = {
    "Missing data for required field.": "Thiếu trường bắt buộc.",
    "Field may not be null.": "Trường này không được để trống (null).",
    "Unknown field.": "Trường không được hỗ trợ.",
    "Invalid input type.": "Kiểu dữ liệu không hợp lệ.",
    "Invalid value.": "Giá trị không hợp lệ.",
    "Not a valid string.": "Không phải chuỗi ký tự hợp lệ.",
    "Not a valid integer.": "Không phải số nguyên hợp lệ.",
    "Not a valid number.": "Không phải số hợp lệ.",
    "Not a valid boolean.": "Không phải giá trị đúng/sai hợp lệ.",
    "Not a valid email address.": "Địa chỉ email không hợp lệ.",
    "Not a valid datetime.": "Ngày giờ không hợp lệ.",
    "Not a valid date.": "Ngày không hợp lệ.",
    "Not a valid URL.": "Địa chỉ URL không hợp lệ.",
    "Not a valid mapping type.": "Phải là một đối tượng JSON.",
    "Not a valid list.": "Phải là một danh sách.",
    "Special numeric values (nan or infinity) are not permitted.": "Không chấp nhận giá trị NaN hoặc vô cực.",
    "Must not be blank.": "Không được để trống.",
    "Must be exactly 12 digits.": "Phải gồm đúng 12 chữ số.",
    "The first three digits are not a Vietnamese province code.":
        "Ba chữ số đầu không phải mã tỉnh/thành phố của Việt Nam.",
    "Not a valid phone number.": "Số điện thoại không hợp lệ.",
    "Must be a mobile number that can receive SMS.": "Phải là số di động nhận được tin nhắn SMS.",
    "The location is not in Vietnam.": "Vị trí không nằm trong lãnh thổ Việt Nam.",
    "This code is already used.": "Mã này đã được dùng.",
    "Must list as many documents as required_documents.": "Phải liệt kê số giấy tờ bằng required_documents.",
    "This email is already used.": "Email này đã được dùng.",
    "You cannot deactivate yourself.": "Bạn không thể tự khóa tài khoản của mình.",
    "The location is outside Hanoi: the centre serves Hanoi only.":
        "Vị trí nằm ngoài Hà Nội: trung tâm chỉ phục vụ địa bàn Hà Nội.",
    "Required when the result is delivered by courier.": "Bắt buộc khi trả kết quả qua bưu chính.",
    "Required when choosing another service point.": "Bắt buộc khi chọn điểm phục vụ khác.",
    "Must be a single file in the 'file' field.": "Phải gửi đúng một tệp trong trường 'file'.",
    "The Idempotency-Key header is required.": "Thiếu tiêu đề Idempotency-Key.",
    "Not a valid opening-hours rule.": "Không phải quy tắc giờ làm việc hợp lệ.",
    "Not a valid time (use HH:MM from 00:00 to 24:00).": "Giờ không hợp lệ (dùng HH:MM, từ 00:00 đến 24:00).",
    "A time range may not cross midnight (split it over two days).":
        "Khoảng giờ không được kéo qua nửa đêm (hãy tách thành hai ngày).",
    "A time range must end after it starts.": "Giờ kết thúc phải sau giờ bắt đầu.",
    "Time ranges must be in order and must not overlap.":
        "Các khoảng giờ phải theo thứ tự và không được chồng lên nhau.",
    "'PH off' must be the last rule.": "'PH off' phải là quy tắc cuối cùng.",
    "'24/7' cannot be combined with other rules.": "'24/7' không được kết hợp với quy tắc khác.",
    "A rule is hidden by later rules for the same days (list several time ranges in one rule, separated by commas).":
        "Quy tắc bị các quy tắc sau cho cùng các ngày thay thế hoàn toàn "
        "(hãy ghi nhiều khoảng giờ trong một quy tắc, cách nhau bằng dấu phẩy).",
    "The hours never open (give at least one time range).":
        "Giờ làm việc không có lúc nào mở cửa (cần ít nhất một khoảng giờ).",
    "This code is already used by another service point.": "Mã này đã được dùng cho một điểm phục vụ khác.",
    "Must be on or after active_from.": "Phải bằng hoặc sau ngày active_from.",
    "Must be on or before active_to.": "Phải bằng hoặc trước ngày active_to.",
    "Must be after active_from.": "Phải sau ngày active_from.",
    "The file must be UTF-8 encoded CSV.": "Tệp phải là CSV mã hóa UTF-8.",
    "Required unless the citizen's address is given.": "Bắt buộc nếu không có địa chỉ của công dân.",
    "The address could not be located.": "Không xác định được vị trí của địa chỉ này.",
    "Unknown or inactive service point.": "Điểm phục vụ không tồn tại hoặc không hoạt động.",
    "This service point does not receive procedures of this level.":
        "Điểm phục vụ này không tiếp nhận thủ tục ở cấp này.",
    "Unknown or inactive procedure.": "Thủ tục không tồn tại hoặc đã ngừng áp dụng.",
    "A reason is required for this change.": "Cần ghi lý do cho thay đổi này.",
    "The file type is not accepted: send PDF, JPEG, PNG, WebP or HEIC.":
        "Loại tệp không được chấp nhận: hãy gửi PDF, JPEG, PNG, WebP hoặc HEIC.",
    "The file is empty.": "Tệp rỗng.",
    "The file is larger than the limit.": "Tệp vượt quá dung lượng cho phép.",
}

# Parametrised messages: (pattern, Vietnamese template using the groups).
_PATTERNS = [
    (re.compile(r"^Must be one of: (.*)\.$"), "Phải là một trong: {0}."),
    (re.compile(r"^Shorter than minimum length (\d+)\.$"), "Ngắn hơn độ dài tối thiểu {0}."),
    (re.compile(r"^Longer than maximum length (\d+)\.$"), "Dài hơn độ dài tối đa {0}."),
    (re.compile(r"^Length must be between (\d+) and (\d+)\.$"), "Độ dài phải từ {0} đến {1}."),
    (re.compile(r"^Length must be (\d+)\.$"), "Độ dài phải bằng {0}."),
    (re.compile(r"^Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$"),
     "Phải từ {0} đến {1}."),
    (re.compile(r"^Must be greater than or equal to (\S+)\.$"), "Phải lớn hơn hoặc bằng {0}."),
    (re.compile(r"^Must be less than or equal to (\S+)\.$"), "Phải nhỏ hơn hoặc bằng {0}."),
    (re.compile(r"^String does not match expected pattern\.$"), "Không đúng định dạng."),
]


def to_vietnamese(message: str) -> str:
    """Vietnamese text for an English validation message (the English itself if unknown)."""
    if message in _EXACT:
        return _EXACT[message]
    for pattern, template in _PATTERNS:
        match = pattern.match(message)
        if match:
            return template.format(*match.groups())
    return message


def field_text(message: str) -> Text:
    return Text(vi=to_vietnamese(message), en=message)
