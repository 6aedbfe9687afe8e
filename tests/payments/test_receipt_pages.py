"""E-receipts as the citizen meets them: from the tracking link, verified, PDF, offline document."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from core.extensions import db
from tests.factories import auth
from tests.payments.conftest import card, pay

ROOT = Path(__file__).resolve().parents[2]


def _paid_receipt(client, agent_key, number: str) -> dict:
    pay(client, agent_key, number)
    body = card(client, agent_key, number).get_json()
    assert body["status"] == "paid"
    return body["receipts"][0]


def test_the_tracking_page_leads_to_a_genuine_receipt(app, client, agent_key, dossier):
    receipt = _paid_receipt(client, agent_key, dossier["number"])
    from tracking import service as tracking

    with app.app_context():
        dossier_id = db.session.execute(db.text("SELECT id FROM dossiers WHERE number = :n"),
                                        {"n": dossier["number"]}).scalar_one()
        token = tracking.share_link(dossier_id, "sms").rsplit("/", 1)[1]
    page = client.get(f"/t/{token}").get_data(as_text=True)
    assert "Đã thanh toán" in page and f"{receipt['series']}/{receipt['number']:07d}" in page
    assert "Biên lai thu phí, lệ phí" in page and "Hóa đơn dịch vụ" not in page  # no service fee: no invoice
    path = receipt["url"].split("://", 1)[1].split("/", 1)[1]
    verify = client.get("/" + path)
    html = verify.get_data(as_text=True)
    assert verify.status_code == 200 and "chữ ký số hợp lệ" in html.lower()
    assert verify.headers["Referrer-Policy"] == "no-referrer" and "noindex" in verify.headers["X-Robots-Tag"]
    assert dossier["number"] in html and "Nguyễn Văn An" not in html  # the payer is masked

    pdf = client.get("/" + path + ".pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert client.get("/r/not-a-real-receipt-token-at-all").status_code == 404


def test_the_signed_document_verifies_offline_and_a_tampered_one_does_not(app, client, agent_key, dossier,
                                                                         tmp_path):
    receipt = _paid_receipt(client, agent_key, dossier["number"])
    path = "/" + receipt["url"].split("://", 1)[1].split("/", 1)[1]
    document = tmp_path / "bien-lai.json"
    document.write_bytes(client.get(path + ".json").data)
    key = tmp_path / "key.pem"
    key.write_bytes(client.get("/receipts/public-key.pem").data)
    tool = [sys.executable, str(ROOT / "tools" / "verify_receipt.py"), str(document), str(key)]
    assert subprocess.run(tool, capture_output=True, check=False).returncode == 0
    document.write_text(document.read_text().replace('"total_vnd": ', '"total_vnd": 1'))
    assert subprocess.run(tool, capture_output=True, check=False).returncode == 1


def test_a_receipt_altered_in_the_database_shows_as_not_genuine(app, client, agent_key, dossier):
    receipt = _paid_receipt(client, agent_key, dossier["number"])
    with app.app_context():
        db.session.execute(db.text("UPDATE receipts SET canonical = replace(canonical, :was, :forged)"),
                           {"was": '"state_fee":200000', "forged": '"state_fee":20000'})
        db.session.commit()
    path = "/" + receipt["url"].split("://", 1)[1].split("/", 1)[1]
    page = client.get(path)  # an amount changed: the stored receipt no longer even adds up
    assert page.status_code == 200 and "không hợp lệ" in page.get_data(as_text=True).lower()
    with app.app_context():
        db.session.execute(db.text("UPDATE receipts SET canonical = replace(canonical, :was, :forged)"),
                           {"was": '"state_fee":20000', "forged": '"state_fee":200000'})
        db.session.execute(db.text("UPDATE receipts SET canonical = replace(canonical, :was, :forged)"),
                           {"was": dossier["number"], "forged": dossier["number"][:-1] + "9"})
        db.session.commit()
    forged = client.get(path).get_data(as_text=True)  # well-formed, but the signature no longer matches
    assert "không hợp lệ" in forged.lower() and dossier["number"][:-1] + "9" in forged


def test_receipt_numbers_run_without_gaps_per_series(app, client, agent_key):
    from tests import factories

    numbers = []
    for _ in range(3):
        number = factories.create_dossier(client, agent_key, procedure_code="HN-TP-001")["number"]
        numbers.append(_paid_receipt(client, agent_key, number)["number"])
    assert numbers == [1, 2, 3]
    cash = factories.create_dossier(client, agent_key, procedure_code="HN-TP-001")["number"]
    paid = client.post(f"/api/v1/dossiers/{cash}/payment/cash", headers=auth(agent_key)).get_json()
    assert paid["receipts"][0]["number"] == 1 and paid["receipts"][0]["series"].startswith("VNPOST-HN-")


def test_the_citizen_sees_the_verdict_and_amounts_and_the_program_only_in_a_collapsed_section(
        app, client, agent_key, dossier):
    import re

    receipt = _paid_receipt(client, agent_key, dossier["number"])
    html = client.get("/" + receipt["url"].split("://", 1)[1].split("/", 1)[1]).get_data(as_text=True)
    verifiers = re.search(r'<details class="verifiers">(.*?)</details>', html, re.S)
    assert verifiers, "the offline check sits in a collapsed section"
    outside = html.replace(verifiers.group(0), "")
    assert "import base64" in verifiers.group(1) and "import base64" not in outside
    assert "Key id" not in outside and "Mã khóa" not in outside
    assert "chữ ký số hợp lệ" in outside.lower() and "Tổng cộng" in outside
