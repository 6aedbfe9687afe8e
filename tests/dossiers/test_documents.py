"""Attaching scanned documents: type sniffed from content, size limit, checksum."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from pathlib import Path

from tests.factories import auth, create_dossier


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _upload(client, key, number, content: bytes, filename: str, kind: str = "cccd_copy"):
    return client.post(
        f"/api/v1/dossiers/{number}/documents",
        data={"kind": kind, "file": (io.BytesIO(content), filename)},
        headers=auth(key), content_type="multipart/form-data",
    )


def test_upload_stores_type_from_content_and_checksum(app, client, agent_key):
    number = create_dossier(client, agent_key)["number"]
    content = png_bytes()
    # Named .pdf, but it is a PNG: the content decides.
    response = _upload(client, agent_key, number, content, "scan.pdf")
    assert response.status_code == 201, response.get_json()
    doc = response.get_json()
    assert doc["content_type"] == "image/png"
    assert doc["sha256"] == hashlib.sha256(content).hexdigest()
    assert doc["size_bytes"] == len(content)
    stored = Path(app.config["DOCUMENT_STORAGE_DIR"]) / doc["sha256"][:2] / f"{doc['sha256']}.png"
    assert stored.read_bytes() == content
    dossier = client.get(f"/api/v1/dossiers/{number}", headers=auth(agent_key)).get_json()
    assert [d["sha256"] for d in dossier["documents"]] == [doc["sha256"]]
    assert _upload(client, agent_key, number, PDF, "form.pdf").get_json()["content_type"] == "application/pdf"


def test_text_disguised_as_pdf_is_refused(client, agent_key):
    number = create_dossier(client, agent_key)["number"]
    response = _upload(client, agent_key, number, b"just some text, not a scan", "scan.pdf")
    assert response.status_code == 415
    assert response.get_json()["errors"][0]["field"] == "file"


def test_empty_and_oversized_files_are_refused(app, client, agent_key):
    number = create_dossier(client, agent_key)["number"]
    assert _upload(client, agent_key, number, b"", "empty.png").status_code == 422
    limit = app.config["MAX_DOCUMENT_BYTES"]
    app.config["MAX_DOCUMENT_BYTES"] = 1024
    try:
        response = _upload(client, agent_key, number, png_bytes(200, 200) + b"\0" * 2048, "big.png")
    finally:
        app.config["MAX_DOCUMENT_BYTES"] = limit
    assert response.status_code == 413
    assert response.get_json()["limit_bytes"] == 1024


def test_missing_file_field_is_a_422(client, agent_key):
    number = create_dossier(client, agent_key)["number"]
    response = client.post(f"/api/v1/dossiers/{number}/documents", data={"kind": "x"},
                           headers=auth(agent_key), content_type="multipart/form-data")
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "file"


def test_no_documents_after_the_dossier_is_cancelled(client, agent_key):
    number = create_dossier(client, agent_key)["number"]
    client.post(f"/api/v1/dossiers/{number}/transitions", json={"to": "cancelled", "reason": "rút"},
                headers=auth(agent_key))
    response = _upload(client, agent_key, number, png_bytes(), "late.png")
    assert response.status_code == 409 and response.get_json()["code"] == "documents_closed"


def test_another_organisation_cannot_attach(client, agent_key, other_agent_key):
    number = create_dossier(client, agent_key)["number"]
    assert _upload(client, other_agent_key, number, png_bytes(), "x.png").status_code == 404
