"""Cash at the agent, VietQR transfers confirmed from a bank statement, refunds, fee rules, the ledger."""

from __future__ import annotations

import io

import pytest

from payments import vietqr
from tests import factories
from tests.factories import auth
from tests.payments.conftest import card, ledger_rows, pay, run_outbox

pytestmark = pytest.mark.smoke


def _balances(client, key) -> dict[tuple[str, str | None], int]:
    rows = client.get("/api/v1/finance/balances", headers=auth(key)).get_json()
    return {(r["account"], r["party"]): r["balance_vnd"] for r in rows}


def test_cash_is_owed_by_the_agent_and_receipted_in_the_agents_series(app, client, agent_key, finance_key, dossier):
    number = dossier["number"]
    paid = client.post(f"/api/v1/dossiers/{number}/payment/cash", headers=auth(agent_key))
    body = paid.get_json()
    assert paid.status_code == 200 and body["status"] == "paid" and body["method"] == "cash"
    assert body["receipts"][0]["series"].startswith("VNPOST-HN-") and body["receipts"][0]["number"] == 1
    assert body["receipts"][0]["document"] == "fee_receipt" and not body["receipts"][0]["series"].endswith("-HD")
    again = client.post(f"/api/v1/dossiers/{number}/payment/cash", headers=auth(agent_key))
    assert again.status_code == 200 and len(again.get_json()["receipts"]) == 1
    balances = _balances(client, finance_key)
    assert balances[("cash_at_agents", "VNPOST-HN")] == body["amount_vnd"]
    assert balances[("treasury_payable", None)] == -200_000
    assert sum(balances.values()) == 0
    assert client.post(f"/api/v1/dossiers/{number}/payment/cash", headers=auth(finance_key)).status_code == 403


def _statement(*lines: tuple[str, str, int, str]) -> bytes:
    rows = ["Ngày giao dịch;Số tham chiếu;Ghi nợ;Ghi có;Nội dung"]
    rows += [f"{day};{ref};0;{amount:,};{text}".replace(",", ".") for day, ref, amount, text in lines]
    return ("\ufeff" + "\n".join(rows) + "\n").encode()


def test_vietqr_transfer_is_confirmed_from_the_bank_statement_once(app, client, agent_key, finance_key, client_b=None):


    first = factories.create_dossier(client, agent_key, procedure_code="HN-TP-001")["number"]
    second = factories.create_dossier(client, agent_key, procedure_code="HN-TP-001")["number"]
    shown = pay(client, agent_key, first, "vietqr").get_json()
    assert shown["status"] == "awaiting" and shown["vietqr"]["svg"].lstrip().startswith("<svg")
    fields = vietqr.parse_payload(shown["vietqr"]["payload"])  # CRC checked by the parser
    assert shown["vietqr"]["reference"] in shown["vietqr"]["payload"]
    assert str(shown["amount_vnd"]) == fields["54"]
    pay(client, agent_key, second, "vietqr")
    ref_first = shown["vietqr"]["reference"]
    ref_second = vietqr.reference_for(second)
    statement = _statement(
        ("24/11/2026 09:15:02", "FT26328001", shown["amount_vnd"], f"MBVCB.123.{ref_first}.CT tu 0011 NGUYEN VAN AN"),
        ("24/11/2026 09:20:00", "FT26328002", 1_000, f"{ref_second} thieu tien"),
        ("24/11/2026 10:00:00", "FT26328003", 50_000, "chuyen tien khong ghi noi dung"),
    )
    upload = client.post("/api/v1/finance/bank-statements", headers=auth(finance_key),
                         data={"file": (io.BytesIO(statement), "saoke-24-11.csv")}, content_type="multipart/form-data")
    assert upload.status_code == 201, upload.get_json()
    summary = upload.get_json()["summary"]
    assert (summary["matched"], summary["wrong_amount"], summary["unmatched"]) == (1, 1, 1)
    paid = client.get(f"/api/v1/dossiers/{first}/payment", headers=auth(agent_key)).get_json()
    assert paid["status"] == "paid" and paid["method"] == "vietqr" and paid["vietqr"] is None
    assert client.get(f"/api/v1/dossiers/{second}/payment", headers=auth(agent_key)).get_json()["status"] == \
        "awaiting"

    same = client.post("/api/v1/finance/bank-statements", headers=auth(finance_key),
                       data={"file": (io.BytesIO(statement), "saoke-24-11.csv")}, content_type="multipart/form-data")
    assert same.status_code == 409
    overlapping = statement + b"24/11/2026;FT26328009;0;10;noi dung khac\n"
    later = client.post("/api/v1/finance/bank-statements", headers=auth(finance_key),
                        data={"file": (io.BytesIO(overlapping), "saoke.csv")}, content_type="multipart/form-data")
    assert later.status_code == 201 and later.get_json()["summary"]["already_imported"] == 3
    assert len([r for r in ledger_rows(app) if r[0] == "payment"]) == 1
    assert _balances(client, finance_key)[("bank", None)] == shown["amount_vnd"]

    broken = client.post("/api/v1/finance/bank-statements", headers=auth(finance_key),
                         data={"file": (io.BytesIO(b"a;b\n1;2\n"), "x.csv")}, content_type="multipart/form-data")
    assert broken.status_code == 422 and broken.get_json()["detail"]
    assert client.post("/api/v1/finance/bank-statements", headers=auth(agent_key), data={
        "file": (io.BytesIO(statement), "s.csv")}, content_type="multipart/form-data").status_code == 403


def _refund(client, key, number, idem, **body):
    return client.post(f"/api/v1/dossiers/{number}/refunds", json={"reason": "Không thực hiện chuyển phát", **body},
                       headers=auth(key, **{"Idempotency-Key": idem}))


def test_refunds_partial_then_rest_never_more_reversed_in_the_ledger(app, client, agent_key, finance_key, dossier):
    number = dossier["number"]
    pay(client, agent_key, number)
    total = card(client, agent_key, number).get_json()["amount_vnd"]
    assert _refund(client, agent_key, number, "r-agent", amount_vnd=1000).status_code == 403
    part = _refund(client, finance_key, number, "r-1", amount_vnd=50_000)
    assert part.status_code == 201, part.get_json()
    assert part.get_json()["status"] == "succeeded" and sum(part.get_json()["components"].values()) == 50_000
    replay = _refund(client, finance_key, number, "r-1", amount_vnd=50_000)
    assert replay.get_json()["id"] == part.get_json()["id"]
    too_much = _refund(client, finance_key, number, "r-2", amount_vnd=total)
    assert too_much.status_code == 422 and too_much.get_json()["errors"][0]["remaining_vnd"] == total - 50_000
    assert "tối đa" in too_much.get_json()["detail"]
    rest = _refund(client, finance_key, number, "r-3")
    assert rest.status_code == 201 and rest.get_json()["amount_vnd"] == total - 50_000
    assert _refund(client, finance_key, number, "r-4", amount_vnd=1).status_code == 409
    payment = client.get(f"/api/v1/dossiers/{number}/payment", headers=auth(finance_key)).get_json()
    assert payment["status"] == "refunded" and payment["refunded_vnd"] == total
    assert [r["kind"] for r in payment["receipts"]] == ["payment", "refund", "refund"]
    assert {r["document"] for r in payment["receipts"]} == {"fee_receipt"}  # the state fee alone was paid
    assert payment["receipts"][1]["series"] == payment["receipts"][0]["series"] + "-HT"
    assert [r["number"] for r in payment["receipts"][1:]] == [1, 2]
    run_outbox(app)
    refunds = [r for r in ledger_rows(app) if r[0] == "refund"]
    assert len(refunds) == 2 and all(sum(v for *_, v in entries) == 0 for _, _, entries in refunds)
    balances = _balances(client, finance_key)
    assert balances.get(("treasury_payable", None), 0) == 0  # everything owed onward was reversed
    refunded_at_gateway = client.get("/sandbox-gateway/v1/balance_transactions?type=refund",
                                     headers={"Authorization": "Bearer sk_test_sandbox"}).get_json()["data"]
    assert sorted(-t["amount"] for t in refunded_at_gateway) == sorted([50_000, total - 50_000])


def test_service_fee_rules_are_versioned_per_organisation(app, client, agent_key, finance_key):


    rules = "/api/v1/organisations/VNPOST-HN/fee-rules"
    old = client.post(rules, json={"effective_from": "2026-01-01", "flat_vnd": 20_000}, headers=auth(finance_key))
    assert old.status_code == 201, old.get_json()
    new = client.post(rules, json={"effective_from": "2026-11-01", "percent": "10", "minimum_vnd": 15_000,
                                   "maximum_vnd": 50_000}, headers=auth(finance_key))
    assert new.status_code == 201 and len(new.get_json()["rules"]) == 2
    assert client.post(rules, json={"effective_from": "2026-11-01", "flat_vnd": 1}, headers=auth(finance_key)
                       ).status_code == 409
    bad = client.post(rules, json={"effective_from": "2026-12-01", "minimum_vnd": 9, "maximum_vnd": 1},
                      headers=auth(finance_key))
    assert bad.status_code == 422
    assert client.post(rules, json={"effective_from": "2026-12-01"}, headers=auth(agent_key)).status_code == 403
    number = factories.create_dossier(client, agent_key, procedure_code="HN-TP-001",
                                      delivery={"method": "courier", "address": "5 Lý Thái Tổ, Hoàn Kiếm"})["number"]
    quote = client.get(f"/api/v1/dossiers/{number}/quote", headers=auth(agent_key)).get_json()
    assert quote["service_fee"] == 20_000  # 10% of 200.000 ₫, within 15.000–50.000
    assert quote["courier_fee"] > 0 and quote["delivery_km"] is not None
    assert quote["total_vnd"] == 200_000 + 20_000 + quote["courier_fee"]


def test_the_courier_fee_is_priced_from_the_receiving_point_to_the_delivery_address(client, agent_key):
    """Registered in Hoàn Kiếm (a branch some km away), delivered to Sóc Sơn, 30-odd km away: the courier's
    leg, not the citizen's walk to the point, sets the fee (issue 14.4)."""
    number = factories.create_dossier(client, agent_key, procedure_code="HN-TP-001",
                                      delivery={"method": "courier", "address": "Xã Sóc Sơn, Thành phố Hà Nội"})[
        "number"]
    with client.application.app_context():
        from core.extensions import db
        from dossiers.models import Dossier
        from geo.rules import geodesic_km
        from geo.service import get_point

        dossier = db.session.scalars(db.select(Dossier).where(Dossier.number == number)).one()
        leg, chosen = dossier.routing["delivery"], dossier.routing["chosen"]
        point = get_point(chosen["service_point_code"])
        assert leg["from_service_point_code"] == point.code and leg["precision"] != "registration_location"
        assert leg["distance_km"] == pytest.approx(geodesic_km(point.lat, point.lon, leg["lat"], leg["lon"]), abs=1e-3)
    quote = client.get(f"/api/v1/dossiers/{number}/quote", headers=auth(agent_key)).get_json()
    assert chosen["distance_km"] < 10 < 20 < quote["delivery_km"] == leg["distance_km"]
    near = factories.create_dossier(client, agent_key, procedure_code="HN-TP-001",
                                    delivery={"method": "courier", "address": "5 Lý Thái Tổ, Hoàn Kiếm"})["number"]
    near_quote = client.get(f"/api/v1/dossiers/{near}/quote", headers=auth(agent_key)).get_json()
    assert quote["courier_fee"] > near_quote["courier_fee"] > 0
