"""What an uploaded document must be beyond its magic number: one file of one type, of a sane size.

Pure functions over bytes (no Flask): ``problem_with`` names what is wrong with the content, or None;
``stored_filename`` is the name kept for the download, its extension the detected type's.

- **Decompression bombs**: an image's width and height come from its header alone (``imagesize``: PNG,
  JPEG, WebP, HEIC), before anything decodes it; more than ``max_pixels`` is refused, and so is an
  image whose header cannot be read.
- **Polyglots**: a ZIP archive inside (a ZIP reader finds it by its end record, or by local and central
  directory headers), or bytes after the format's end marker (PDF ``%%EOF``, PNG ``IEND``, JPEG ``EOI``,
  WebP's RIFF length): the file is refused, since another program would read it as something else.
"""

from __future__ import annotations

import io
import re
import struct
import unicodedata
import zipfile

import imagesize

PNG_END = b"IEND\xaeB`\x82"
JPEG_END = b"\xff\xd9"
_PADDING = b" \t\r\n\x00\x0c"
_ZIP_LOCAL, _ZIP_CENTRAL = b"PK\x03\x04", b"PK\x01\x02"


def _trailing(content: bytes, end: int) -> bool:
    """Whether anything but padding follows offset ``end``."""
    return bool(content[end:].strip(_PADDING))


def _contains_zip(content: bytes) -> bool:
    if _ZIP_LOCAL in content and _ZIP_CENTRAL in content:
        return True
    try:
        return zipfile.is_zipfile(io.BytesIO(content))
    except (OSError, ValueError):
        return False


def _after_end_marker(content: bytes, mime: str) -> bool:
    if mime == "application/pdf":
        at = content.rfind(b"%%EOF")
        return at < 0 or _trailing(content, at + len(b"%%EOF"))
    if mime == "image/png":
        at = content.rfind(PNG_END)
        return at < 0 or _trailing(content, at + len(PNG_END))
    if mime == "image/jpeg":
        at = content.rfind(JPEG_END)
        return at < 0 or _trailing(content, at + len(JPEG_END))
    if mime == "image/webp" and len(content) >= 8:
        riff_size = struct.unpack("<I", content[4:8])[0]
        return _trailing(content, 8 + riff_size + (riff_size & 1))
    return False  # HEIC/HEIF: boxes to the end; the ZIP check still applies


def image_size(content: bytes) -> tuple[int, int] | None:
    try:
        width, height = imagesize.get(io.BytesIO(content), exif_rotation=False)
    except (OSError, ValueError, struct.error):
        return None
    return (width, height) if width > 0 and height > 0 else None


def problem_with(content: bytes, mime: str, max_pixels: int) -> tuple[str, str] | None:
    """(Vietnamese, English) of what makes this file unacceptable, or None."""
    if _contains_zip(content):
        return ("Tệp chứa một tệp nén ZIP bên trong: chỉ gửi một tệp PDF hoặc ảnh.",
                "The file has a ZIP archive inside: send a plain PDF or image.")
    if _after_end_marker(content, mime):
        return ("Tệp có dữ liệu lạ sau phần kết thúc của định dạng, hoặc bị cắt cụt.",
                "The file has data after its format's end marker, or is truncated.")
    if mime.startswith("image/"):
        size = image_size(content)
        if size is None:
            return ("Không đọc được kích thước ảnh.", "The image's dimensions cannot be read.")
        width, height = size
        if width * height > max_pixels:
            return (f"Ảnh {width}×{height} điểm ảnh vượt quá giới hạn {max_pixels:,} điểm ảnh.",
                    f"The image is {width}×{height} pixels, over the limit of {max_pixels:,} pixels.")
    return None


_EXTENSION = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,5}$")


def stored_filename(given: str | None, extension: str) -> str:
    """The client's name without folders, control characters or extensions of its own, then the
    detected type's extension: ``scan.pdf.exe`` holding a PDF is kept as ``scan.pdf``."""
    name = unicodedata.normalize("NFC", given or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    while _EXTENSION.search(name):
        name = _EXTENSION.sub("", name).rstrip(" .")
    name = name.strip(" .")[:200] or "document"
    return f"{name}.{extension}"
