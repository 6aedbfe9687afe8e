"""Uploaded documents that pass the magic-number test but are not what they claim: decompression bombs,
polyglots (PDF or image that is also a ZIP, bytes after the end marker), misleading names."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest

from core.extensions import db
from dossiers.files import stored_filename
from tests.dossiers.test_documents import PDF, _upload, png_bytes
from tests.factories import auth, create_dossier

pytestmark = pytest.mark.smoke


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int) -> bytes:
    """A small file whose header declares width × height (its pixels would take gigabytes once decoded)."""
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(b"\x00" * 65536, 9)) + _chunk(b"IEND", b""))


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.html", "<script>alert(1)</script>")
    return buffer.getvalue()


JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffc0000b080002000301011100"
                     "ffc4001f0000010501010101010100000000000000000102030405060708090a0b"
                     "ffda0008010100003f00d2cf20ffd9")


def _documents(app, number: str) -> list:
    with app.app_context():
        return db.session.execute(db.text(
            "SELECT d.filename, d.content_type FROM documents d JOIN dossiers s ON s.id = d.dossier_id "
            "WHERE s.number = :n ORDER BY d.id"), {"n": number}).all()


def test_a_png_declaring_50000_by_50000_is_refused_before_decoding(app, client, agent_key):
    number = create_dossier(client, agent_key)["number"]
    bomb = png_declaring(50000, 50000)
    assert len(bomb) < 2048
    response = _upload(client, agent_key, number, bomb, "scan.png")
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["code"] == "document_refused" and "50000×50000" in body["detail_en"]
    assert _documents(app, number) == []
    # A real-sized scan still goes in.
    assert _upload(client, agent_key, number, png_declaring(3000, 4000), "ok.png").status_code == 201


@pytest.mark.parametrize("content, mime", [
    (PDF + zip_bytes(), "application/pdf"),  # a PDF viewer and an unzip tool each see their own file
    (png_bytes() + zip_bytes(), "image/png"),
    (JPEG + zip_bytes(), "image/jpeg"),
    (PDF.replace(b"%%EOF", b"%" + zip_bytes() + b"\n%%EOF"), "application/pdf"),  # a ZIP inside, %%EOF last
], ids=["pdf+zip", "png+zip", "jpeg+zip", "zip-inside-pdf"])
def test_polyglots_with_a_zip_are_refused(app, client, agent_key, content, mime):
    number = create_dossier(client, agent_key)["number"]
    response = _upload(client, agent_key, number, content, "scan.bin")
    assert response.status_code == 422 and "ZIP" in response.get_json()["detail_en"]
    assert _documents(app, number) == []


@pytest.mark.parametrize("content", [
    PDF + b"<html><script>alert(1)</script></html>",
    png_bytes() + b"<?php system($_GET['c']); ?>",
    JPEG + b"GIF89a trailing",
    png_bytes()[:-12],  # no IEND: truncated
], ids=["pdf+html", "png+php", "jpeg+trailer", "png-truncated"])
def test_content_after_the_end_marker_is_refused(app, client, agent_key, content):
    number = create_dossier(client, agent_key)["number"]
    response = _upload(client, agent_key, number, content, "scan.pdf")
    assert response.status_code == 422 and "end marker" in response.get_json()["detail_en"]


def test_plain_files_pass_and_keep_no_misleading_extension(app, client, agent_key):
    number = create_dossier(client, agent_key)["number"]
    for content, name in ((PDF + b"\r\n\x00", "to-khai.pdf.exe"), (png_bytes(), "scans/anh.php.png"),
                          (JPEG, "giấy khai sinh.html"), (png_bytes(4, 4), "")):
        response = _upload(client, agent_key, number, content, name)
        assert response.status_code == 201, response.get_json()
    assert _documents(app, number) == [("to-khai.pdf", "application/pdf"), ("anh.png", "image/png"),
                                       ("giấy khai sinh.jpg", "image/jpeg"), ("document.png", "image/png")]
    detail = client.get(f"/api/v1/dossiers/{number}", headers=auth(agent_key)).get_json()
    assert [d["filename"] for d in detail["documents"]][:2] == ["to-khai.pdf", "anh.png"]


def test_stored_filename_rules():
    assert stored_filename("scan.pdf.exe", "pdf") == "scan.pdf"
    assert stored_filename("../../etc/passwd", "png") == "passwd.png"
    assert stored_filename("Bản sao CCCD 001.090", "jpg") == "Bản sao CCCD 001.090.jpg"
    assert stored_filename("a\x00b\u202egnp.exe", "png") == "abgnp.png"  # control and bidi characters out
    assert stored_filename("C:\\Users\\a\\anh.php.png", "png") == "anh.png"
    assert stored_filename(None, "heic") == "document.heic"
