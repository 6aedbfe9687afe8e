"""The state fee receipt apart from the service invoice (issue 14.4), as agents, citizens and auditors
meet them over HTTP: two signed documents per payment, each in its own gap-free series, refunds
reversing each in its own refund series, both verifiable offline, both shown where receipts are."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from core.extensions import db
from payments import receipting, receipts
from tests import factories
from tests.factories import auth, sign_in
from tests.payments.conftest import PAID_PROCEDURE, card, pay

ROOT = Path(__file__).resolve().parents[2]
CENTRE = "TTPVHCC-HN"  # RECEIPT_ISSUER_CODE: the collecting unit of card and VietQR payments
AGENT = "VNPOST-HN"  # the agent organisation of the test dossiers


@pytest.fixture
def service_fee(client, finance_key):
    """VNPOST-HN charges a 20.000 ₫ service fee."""
    added = client.post(f"/api/v1/organisations/{AGENT}/fee-rules",
                        json={"effective_from": "2025-01-01", "flat_vnd": 20_000}, headers=auth(finance_key))
    assert added.status_code == 201, added.get_json()


def _courier_dossier(client, agent_key, procedure: str = PAID_PROCEDURE) -> str:
    return factories.create_dossier(client, agent_key, procedure_code=procedure,
                                    delivery={"method": "courier", "address": "5 Lý Thái Tổ, Hoàn Kiếm"})["number"]


def _paid_by_card(client, agent_key, number: str) -> dict:
    pay(client, agent_key, number)
    body = card(client, agent_key, number).get_json()
    assert body["status"] == "paid", body
    return body


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def _document(client, link: dict) -> dict:
    response = client.get(_path(link["url"]) + ".json")
    assert response.status_code == 200
    return response.get_json()


def _by_document(links: list[dict], kind: str = "payment") -> dict[str, dict]:
    return {r["document"]: r for r in links if r["kind"] == kind}


def test_a_payment_gets_a_state_fee_receipt_and_a_service_invoice_that_add_up_to_what_was_paid(
        app, client, agent_key, service_fee, clock, tmp_path):
    paid = _paid_by_card(client, agent_key, _courier_dossier(client, agent_key))
    assert [(r["document"], r["kind"]) for r in paid["receipts"]] == [("fee_receipt", "payment"),
                                                                      ("service_invoice", "payment")]
    fee_doc, invoice_doc = (_document(client, r) for r in paid["receipts"])
    fee, invoice = fee_doc["receipt"], invoice_doc["receipt"]

    # The state fee alone, from the unit that collected it, in the receipt series.
    assert fee["document"] == "fee_receipt" and fee["components"] == {"state_fee": 200_000}
    assert fee["issuer_code"] == CENTRE and fee["series"] == f"{CENTRE}-26" and fee["vat"] == {}
    # The commercial fees, sold by the agent organisation, with the VAT inside each (8% in 2026).
    assert invoice["document"] == "service_invoice" and invoice["issuer_code"] == AGENT
    assert invoice["series"] == f"{AGENT}-26-HD"
    assert invoice["components"] == {"service_fee": 20_000, "courier_fee": paid["courier_fee"]}
    assert paid["courier_fee"] > 0
    for name, line in invoice["vat"].items():
        assert line["rate"] == "8%" and line["before_vat_vnd"] + line["vat_vnd"] == invoice["components"][name]
    assert invoice["vat"]["service_fee"] == {"rate": "8%", "before_vat_vnd": 18_519, "vat_vnd": 1_481}
    # Split, nothing lost or counted twice.
    assert fee["total_vnd"] + invoice["total_vnd"] == paid["amount_vnd"]
    assert fee["payment_reference"] == invoice["payment_reference"] and fee["number"] == invoice["number"] == 1

    # Both verify offline with the standalone tool and the published key; a forged VAT line does not.
    key = tmp_path / "key.pem"
    key.write_bytes(client.get("/receipts/public-key.pem").data)
    for name, doc in (("fee", fee_doc), ("invoice", invoice_doc)):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        done = subprocess.run([sys.executable, "-I", str(ROOT / "tools" / "verify_receipt.py"), str(path), str(key)],
                              capture_output=True, text=True, encoding="utf-8", check=False)
        assert done.returncode == 0 and done.stdout.startswith("HỢP LỆ / VALID"), done.stderr
    assert "State fee receipt" in subprocess.run(
        [sys.executable, "-I", str(ROOT / "tools" / "verify_receipt.py"), str(tmp_path / "fee.json"), str(key)],
        capture_output=True, text=True, encoding="utf-8", check=False).stdout
    invoice_doc["receipt"]["vat"]["service_fee"] = {"rate": "KCT", "before_vat_vnd": 20_000, "vat_vnd": 0}
    (tmp_path / "forged.json").write_text(json.dumps(invoice_doc, ensure_ascii=False), encoding="utf-8")
    forged = subprocess.run([sys.executable, "-I", str(ROOT / "tools" / "verify_receipt.py"),
                             str(tmp_path / "forged.json"), str(key)], capture_output=True, check=False)
    assert forged.returncode == 1


def test_each_document_is_numbered_without_gaps_in_its_own_series(app, client, agent_key, service_fee, clock):
    card_payments = [_paid_by_card(client, agent_key, _courier_dossier(client, agent_key)) for _ in range(2)]
    cash_number = _courier_dossier(client, agent_key)
    cash = client.post(f"/api/v1/dossiers/{cash_number}/payment/cash", headers=auth(agent_key)).get_json()
    free = _paid_by_card(client, agent_key, _courier_dossier(client, agent_key, "HN-HT-201"))  # no state fee

    series = {}
    for body in [*card_payments, cash, free]:
        for r in body["receipts"]:
            series.setdefault(r["series"], []).append(r["number"])
    assert series == {
        f"{CENTRE}-26": [1, 2],  # the centre's fee receipts (card)
        f"{AGENT}-26": [1],  # the fee receipt of the cash the agent took
        f"{AGENT}-26-HD": [1, 2, 3, 4],  # the agent's invoices, whoever collected the money
    }
    # A payment with no state fee has no fee receipt, only the invoice.
    assert [r["document"] for r in free["receipts"]] == ["service_invoice"]
    with app.app_context():
        counters = dict(db.session.execute(db.text("SELECT series, last_number FROM receipt_counters")).all())
    assert counters == {k: max(v) for k, v in series.items()}


def test_a_payment_with_no_service_or_courier_fee_has_no_invoice(client, agent_key, dossier):
    paid = _paid_by_card(client, agent_key, dossier["number"])
    assert paid["service_fee"] == paid["courier_fee"] == 0
    assert [(r["document"], r["kind"]) for r in paid["receipts"]] == [("fee_receipt", "payment")]
    assert _document(client, paid["receipts"][0])["receipt"]["components"] == {"state_fee": paid["amount_vnd"]}


def test_a_refund_reverses_each_document_in_its_own_refund_series(app, client, agent_key, finance_key, service_fee,
                                                                  clock):
    number = _courier_dossier(client, agent_key)
    paid = _paid_by_card(client, agent_key, number)
    originals = _by_document(paid["receipts"])
    part = client.post(f"/api/v1/dossiers/{number}/refunds", json={"reason": "Thu thừa", "amount_vnd": 50_000},
                       headers=auth(finance_key, **{"Idempotency-Key": "split-1"}))
    assert part.status_code == 201 and part.get_json()["status"] == "succeeded", part.get_json()
    rest = client.post(f"/api/v1/dossiers/{number}/refunds", json={"reason": "Không thực hiện"},
                       headers=auth(finance_key, **{"Idempotency-Key": "split-2"}))
    assert rest.status_code == 201, rest.get_json()
    payment = client.get(f"/api/v1/dossiers/{number}/payment", headers=auth(finance_key)).get_json()
    assert payment["status"] == "refunded"

    refunds = [r for r in payment["receipts"] if r["kind"] == "refund"]
    docs = [_document(client, r)["receipt"] for r in refunds]
    by_series: dict[str, list[int]] = {}
    for doc in docs:
        by_series.setdefault(doc["series"], []).append(doc["number"])
        original = originals[doc["document"]]
        assert doc["original_receipt"] == f"{original['series']}/{original['number']:07d}"
    assert by_series == {f"{CENTRE}-26-HT": [1, 2], f"{AGENT}-26-HD-HT": [1, 2]}
    # Each refund's documents add up to the refund; all of them to what was paid, per component.
    with app.app_context():
        rows = db.session.execute(db.text("SELECT source_reference, canonical FROM receipts WHERE kind = 'refund'"))
        per_refund: dict[str, int] = {}
        for source, canonical in rows:
            per_refund[source] = per_refund.get(source, 0) + json.loads(canonical)["total_vnd"]
    assert per_refund == {f"refund-{r['id']}": r["amount_vnd"] for r in (part.get_json(), rest.get_json())}
    returned = {}
    for doc in docs:
        for name, amount in doc["components"].items():
            returned[name] = returned.get(name, 0) + amount
    assert returned == {k: paid[k] for k in ("state_fee", "service_fee", "courier_fee")}
    for doc in docs:
        if doc["document"] == "service_invoice":
            assert doc["components"].keys() == doc["vat"].keys() and all(
                line["rate"] == "8%" for line in doc["vat"].values())
        else:
            assert set(doc["components"]) == {"state_fee"}


def test_the_pages_show_both_documents(app, client, agent_key, service_fee, clock):
    with app.app_context():
        factories.create_user("agent", email="lan@test.vn", org=factories.create_org())
    number = _courier_dossier(client, agent_key)
    paid = _paid_by_card(client, agent_key, number)
    docs = _by_document(paid["receipts"])
    fee_label = f"{docs['fee_receipt']['series']}/0000001"
    invoice_label = f"{docs['service_invoice']['series']}/0000001"

    # The citizen's tracking page: both links, each named, Vietnamese first.
    from tracking import service as tracking

    with app.app_context():
        dossier_id = db.session.execute(db.text("SELECT id FROM dossiers WHERE number = :n"),
                                        {"n": number}).scalar_one()
        token = tracking.share_link(dossier_id, "sms").rsplit("/", 1)[1]
    page = client.get(f"/t/{token}").get_data(as_text=True)
    assert "Biên lai thu phí, lệ phí" in page and "Hóa đơn dịch vụ (GTGT)" in page
    assert fee_label in page and invoice_label in page
    assert _path(docs["fee_receipt"]["url"]) in page and _path(docs["service_invoice"]["url"]) in page
    english = client.get(f"/t/{token}?lang=en").get_data(as_text=True)
    assert "State fee receipt" in english and "Service invoice (VAT)" in english
    listed = client.get(f"/t/{token}.json?lang=vi").get_json()["payment"]["receipts"]
    assert [(r["document"]["code"], r["document"]["label"]) for r in listed] == [
        ("fee_receipt", "Biên lai thu phí, lệ phí"), ("service_invoice", "Hóa đơn dịch vụ (GTGT)")]

    # The verification pages: which document, who issued it, the VAT on the invoice only.
    fee_page = client.get(_path(docs["fee_receipt"]["url"])).get_data(as_text=True)
    assert "chữ ký số hợp lệ" in fee_page.lower() and "Biên lai thu phí, lệ phí" in fee_page
    assert "Thuế GTGT" not in fee_page
    invoice_page = client.get(_path(docs["service_invoice"]["url"])).get_data(as_text=True)
    assert "chữ ký số hợp lệ" in invoice_page.lower() and "Hóa đơn dịch vụ (GTGT)" in invoice_page
    assert "Đơn vị bán hàng" in invoice_page and "8%" in invoice_page and "1.481\xa0₫" in invoice_page
    printed = client.get(_path(docs["service_invoice"]["url"]) + "/print").get_data(as_text=True)
    assert "Thành tiền chưa thuế" in printed and "18.519\xa0₫" in printed
    pdf = client.get(_path(docs["service_invoice"]["url"]) + ".pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert f"hoa-don-{docs['service_invoice']['series']}-0000001.pdf" in pdf.headers["Content-Disposition"]
    assert "bien-lai-" in client.get(_path(docs["fee_receipt"]["url"]) + ".pdf").headers["Content-Disposition"]

    # The receipt the agent prints at the counter names both documents.
    portal = app.test_client()
    sign_in(portal, "lan@test.vn")
    counter = portal.get(f"/portal/dossiers/{number}/receipt").get_data(as_text=True)
    assert "Biên lai thu phí, lệ phí" in counter and "Hóa đơn dịch vụ (GTGT)" in counter
    assert fee_label in counter and invoice_label in counter


def test_a_receipt_of_before_the_split_stays_genuine_and_is_shown_as_a_receipt(app, client, agent_key, finance_key,
                                                                              dossier):
    """A v1 receipt (every component on one document), stored as migration 0022 keeps it."""
    paid = _paid_by_card(client, agent_key, dossier["number"])
    with app.app_context():
        row = receipting.repository.receipt_by_token(_path(paid["receipts"][0]["url"]).rsplit("/", 1)[1])
        current = receipting.signed_receipt(row).data
        legacy = receipts.ReceiptData(**{**{name: getattr(current, name) for name in receipts._FIELDS_V1},
                                         "version": 1, "document": "combined",
                                         "components": {"state_fee": 200_000, "service_fee": 0, "courier_fee": 0},
                                         "total_vnd": 200_000})
        signed = receipts.sign(legacy, receipting.signing_key())
        row.canonical, row.signature, row.document = (receipts.canonical_bytes(legacy).decode(), signed.signature_b64,
                                                      "combined")
        db.session.commit()
    path = _path(paid["receipts"][0]["url"])
    page = client.get(path).get_data(as_text=True)
    assert "chữ ký số hợp lệ" in page.lower() and "Biên lai" in page
    document = client.get(path + ".json").get_json()
    assert document["receipt"]["v"] == 1 and "document" not in document["receipt"]
    assert client.get(path + ".pdf").data.startswith(b"%PDF")
    combined = f"{paid['receipts'][0]['series']}/{paid['receipts'][0]['number']:07d}"
    tracking_label = client.get(f"/api/v1/dossiers/{dossier['number']}/payment", headers=auth(agent_key)).get_json()
    assert [r["document"] for r in tracking_label["receipts"]] == ["combined"]

    # Refunded after the split: the refund is a state fee refund receipt naming the combined receipt.
    refund = client.post(f"/api/v1/dossiers/{dossier['number']}/refunds", json={"reason": "Không thực hiện"},
                         headers=auth(finance_key, **{"Idempotency-Key": "legacy-1"}))
    assert refund.status_code == 201, refund.get_json()
    links = client.get(f"/api/v1/dossiers/{dossier['number']}/payment", headers=auth(finance_key)).get_json()
    (back,) = [r for r in links["receipts"] if r["kind"] == "refund"]
    reversed_doc = _document(client, back)["receipt"]
    assert back["document"] == "fee_receipt" and reversed_doc["original_receipt"] == combined
    assert reversed_doc["components"] == {"state_fee": 200_000} and reversed_doc["series"].endswith("-HT")


def test_the_vat_rate_follows_the_law_and_the_setting(app, client, agent_key, service_fee, clock):
    assert receipting.legal_vat_rate(date(2026, 12, 31)) == 8
    assert receipting.legal_vat_rate(date(2027, 1, 1)) == 10  # the reduction ends with 2026
    assert receipting.legal_vat_rate(date(2023, 3, 1)) == 10  # Jan–Jun 2023: no reduction
    clock.set(datetime(2027, 1, 5, 2, 0, tzinfo=timezone.utc))
    paid = _paid_by_card(client, agent_key, _courier_dossier(client, agent_key))
    invoice = _document(client, _by_document(paid["receipts"])["service_invoice"])["receipt"]
    assert invoice["series"] == f"{AGENT}-27-HD" and invoice["number"] == 1
    assert invoice["vat"]["service_fee"] == {"rate": "10%", "before_vat_vnd": 18_182, "vat_vnd": 1_818}
    app.config["SERVICE_INVOICE_VAT_RATE"] = "KCT"
    try:
        paid = _paid_by_card(client, agent_key, _courier_dossier(client, agent_key))
    finally:
        app.config["SERVICE_INVOICE_VAT_RATE"] = ""
    invoice = _document(client, _by_document(paid["receipts"])["service_invoice"])["receipt"]
    assert invoice["number"] == 2 and invoice["vat"]["service_fee"] == {"rate": "KCT", "before_vat_vnd": 20_000,
                                                                          "vat_vnd": 0}


@pytest.mark.slow
def test_migration_0022_keeps_the_receipts_it_finds_as_combined_ones(tmp_path):
    """On SQLite (batch mode): a receipt of before 0022 keeps its signed text and is marked combined;
    afterwards one payment may have a fee receipt and an invoice, never two of one document; the
    downgrade never deletes a signed document."""
    import os

    from sqlalchemy import create_engine, exc, text

    url = f"sqlite:///{tmp_path / 'old.db'}"
    env = {**os.environ, "FLASK_APP": "wsgi", "DATABASE_URL": url, "INSTANCE_DIR": str(tmp_path)}

    def flask(*args):
        subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env, check=True, capture_output=True)

    flask("db", "upgrade", "0016")
    engine = create_engine(url)
    insert = text("INSERT INTO receipts (series, number, kind, {extra}source_reference, payment_id, dossier_id, "
                  "issued_at, canonical, signature, key_id, verify_token) VALUES (:series, :number, 'payment', "
                  "{value}'payment-1', 1, 1, '2026-03-05 02:07:09', :canonical, 'sig', 'kid', :token)")
    with engine.begin() as conn:
        conn.execute(text(insert.text.format(extra="", value="")),
                     {"series": "TTPVHCC-HN-26", "number": 1, "canonical": '{"v":1}', "token": "t" * 24})
    flask("db", "upgrade", "0022")
    with engine.begin() as conn:
        assert conn.execute(text("SELECT document, canonical FROM receipts")).all() == [("combined", '{"v":1}')]
        conn.execute(text(insert.text.format(extra="document, ", value="'service_invoice', ")),
                     {"series": "VNPOST-HN-26-HD", "number": 1, "canonical": "{}", "token": "u" * 24})
    with pytest.raises(exc.IntegrityError), engine.begin() as conn:
        conn.execute(text(insert.text.format(extra="document, ", value="'service_invoice', ")),
                     {"series": "VNPOST-HN-26-HD", "number": 2, "canonical": "{}", "token": "v" * 24})

    # Going back would lose a signed document: refused while a payment has both; fine once it has one.
    refused = subprocess.run([sys.executable, "-m", "flask", "db", "downgrade", "0016"], cwd=ROOT, env=env,
                             capture_output=True, text=True, check=False)
    assert refused.returncode != 0 and "cannot be downgraded" in refused.stderr
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM receipts WHERE document = 'service_invoice'"))
    flask("db", "downgrade", "0016")
    with engine.connect() as conn:
        assert "document" not in [row[1] for row in conn.execute(text("PRAGMA table_info(receipts)"))]
        assert conn.execute(text("SELECT canonical FROM receipts")).scalar_one() == '{"v":1}'
