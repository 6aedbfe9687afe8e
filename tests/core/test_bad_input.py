"""Bad input from outside is a 4xx problem, never a 500: numbers past the database's range,
bodies the JSON parser cannot read, text PostgreSQL cannot store, a PATCH without a body,
and a page for people called with a bearer key."""

from __future__ import annotations

import io
import json

import pytest

from tests import factories
from tests.factories import auth, dossier_body

pytestmark = pytest.mark.smoke

PROBLEM = "application/problem+json"
POINTS = "/api/v1/admin/service-points"


@pytest.fixture
def admin_key(app):
    with app.app_context():
        return factories.user_key(factories.create_user("admin", email="admin.bad-input@test.vn"))


@pytest.fixture
def finance_key(app):
    with app.app_context():
        return factories.user_key(factories.create_user("finance", email="finance.bad-input@test.vn"))


def _problem(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status and body["title_vi"] and body["title_en"]
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body
    return body


# --- numbers past what the database holds --------------------------------------------------------

@pytest.mark.parametrize("query", ["page=1191102563866202624", "page=99999999999999999999",
                                   "page=2147483648", "page_size=100000000000000000000000"])
def test_a_page_past_the_databases_range_is_a_422(client, agent_key, query):
    response = client.get(f"/api/v1/dossiers?{query}", headers=auth(agent_key))
    _problem(response, 422, query.split("=")[0])


def test_the_last_page_the_database_can_offset_still_answers(client, agent_key):
    response = client.get("/api/v1/dossiers?page=2147483647&page_size=100", headers=auth(agent_key))
    assert response.status_code == 200 and response.get_json() == []


def test_a_daily_capacity_past_integer_is_a_422(client, admin_key):
    created = client.post(POINTS, headers=auth(admin_key), json={
        "code": "TEST-BIG-CAP", "tier": "commune_point", "name": "Điểm thử", "address": "1 Tràng Tiền, Hoàn Kiếm",
        "lat": 21.0245, "lon": 105.8575, "daily_capacity": 4304951748})
    _problem(created, 422, "daily_capacity")
    changed = client.patch(f"{POINTS}/HN-B01", headers=auth(admin_key), json={"daily_capacity": 4304951748})
    _problem(changed, 422, "daily_capacity")


def test_money_past_bigint_is_a_422(client, finance_key):
    refund = client.post("/api/v1/dossiers/HN-X-1/refunds", json={"amount_vnd": 10**19, "reason": "thử"},
                         headers=auth(finance_key, **{"Idempotency-Key": "big-refund"}))
    _problem(refund, 422, "amount_vnd")
    for field in ("flat_vnd", "minimum_vnd", "maximum_vnd"):
        rule = client.post("/api/v1/organisations/VNPOST-HN/fee-rules", headers=auth(finance_key),
                           json={"effective_from": "2026-12-01", field: 10**19})
        _problem(rule, 422, field)


@pytest.mark.parametrize("amount", ["99999999999999999999", "9" * 5000])
def test_a_bank_statement_amount_past_bigint_is_a_422(client, finance_key, amount):
    statement = ("Ngày giao dịch;Số tham chiếu;Ghi nợ;Ghi có;Nội dung\n"
                 f"24/11/2026;FT1;0;{amount};HSHN12345\n").encode()
    response = client.post("/api/v1/finance/bank-statements", headers=auth(finance_key),
                           data={"file": (io.BytesIO(statement), "saoke.csv")}, content_type="multipart/form-data")
    body = _problem(response, 422)
    assert "BIGINT" not in body["detail_en"] and "larger" in body["detail_en"]


@pytest.mark.parametrize("lat", ["1e400", "9" * 5000, "99999999999999999999"])
def test_coordinates_past_any_range_are_a_422(client, agent_key, lat):
    response = client.get(f"/api/v1/routing?lat={lat}&lon=105.85&procedure=HN-HT-201", headers=auth(agent_key))
    _problem(response, 422, "lat")


# --- bodies the JSON parser cannot read -------------------------------------------------------------

@pytest.mark.parametrize("body", ["[" * 100_000, "{\"a\":" * 5_000, "{" * 5_000,
                                  '{"procedure_code": ' + "1" * 5_000 + "}",
                                  '{"procedure_code": "x", "citizen": {"full_name": "\\ud800'],
                         ids=["deep-array", "deep-object", "braces", "5000-digit-number", "truncated"])
def test_unreadable_json_is_a_400_problem(client, agent_key, body):
    response = client.post("/api/v1/dossiers", data=body, content_type="application/json",
                           headers=auth(agent_key, **{"Idempotency-Key": "bad-json"}))
    _problem(response, 400)


def test_a_5000_digit_number_where_a_number_belongs_is_a_4xx(client, admin_key):
    response = client.patch(f"{POINTS}/HN-B01", data='{"daily_capacity": ' + "7" * 5_000 + "}",
                            content_type="application/json", headers=auth(admin_key))
    assert 400 <= response.status_code < 500 and response.mimetype == PROBLEM


# --- text PostgreSQL cannot store -------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["Nguyễn\x00Văn An", "Nguyễn \ud800 An"], ids=["nul", "lone-surrogate"])
def test_text_the_database_cannot_store_is_a_422_naming_the_field(client, agent_key, bad):
    body = json.dumps(dossier_body(citizen={"full_name": bad}))  # \u0000 and \ud800 escaped, as a client sends
    response = client.post("/api/v1/dossiers", data=body, content_type="application/json",
                           headers=auth(agent_key, **{"Idempotency-Key": f"bad-text-{len(bad)}"}))
    problem = _problem(response, 422, "citizen.full_name")
    assert "NUL" in problem["errors"][0]["message_en"]
    assert client.get("/api/v1/dossiers", headers=auth(agent_key)).get_json() == []  # nothing was stored


def test_a_nul_in_a_query_string_a_header_or_a_form_is_a_422(client, agent_key):
    query = client.get("/api/v1/routing?lat=21.02&lon=105.85&procedure=HN%00", headers=auth(agent_key))
    _problem(query, 422, "procedure")
    header = client.post("/api/v1/dossiers", json=dossier_body(),
                         headers=auth(agent_key, **{"Idempotency-Key": "key\x00"}))
    _problem(header, 422, "Idempotency-Key")
    dossier = factories.create_dossier(client, agent_key)
    form = client.post(f"/api/v1/dossiers/{dossier['number']}/documents", headers=auth(agent_key),
                       data={"kind": "cccd\x00", "file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "a.pdf")},
                       content_type="multipart/form-data")
    _problem(form, 422, "kind")


# --- the contract's edges ----------------------------------------------------------------------------

def test_a_patch_without_a_body_or_without_a_change_is_a_422(client, admin_key):
    before = client.get("/api/v1/service-points", headers=auth(admin_key)).get_json()
    for kwargs in ({}, {"data": "", "content_type": "application/json"}, {"json": {}}):
        response = client.patch(f"{POINTS}/HN-B01", headers=auth(admin_key), **kwargs)
        _problem(response, 422)
    assert client.get("/api/v1/service-points", headers=auth(admin_key)).get_json() == before


def test_a_post_without_its_json_body_is_a_422(client, agent_key):
    response = client.post("/api/v1/dossiers", headers=auth(agent_key, **{"Idempotency-Key": "no-body"}))
    _problem(response, 422)


def test_the_staff_page_answers_a_bearer_key_with_a_401_problem(client, officer_key):
    response = client.get("/staff", headers=auth(officer_key, Accept="application/json"))
    body = _problem(response, 401)
    assert "/api/v1" in body["detail_en"]


def test_the_staff_page_still_welcomes_a_signed_in_officer(app, client):
    with app.app_context():
        factories.create_user("branch_officer", email="canbo.staff@test.vn")
    assert factories.sign_in(client, "canbo.staff@test.vn").status_code == 302
    page = client.get("/staff")
    assert page.status_code == 200 and "Test branch_officer" in page.get_data(as_text=True)


def test_a_signed_webhook_nested_too_deep_is_a_400_problem(app, client):
    from core import signatures

    raw = b"[" * 100_000
    header = signatures.header(raw, app.config["PAYMENT_WEBHOOK_SECRET"], None)
    response = client.post("/api/v1/payments/webhook", data=raw, content_type="application/json",
                           headers={"Stripe-Signature": header})
    _problem(response, 400)


@pytest.mark.parametrize("path", ["/api/v1/finance/statements/99999999999/pdf", "/api/v1/finance/exceptions/2147483648",
                                  "/api/v1/finance/reconciliation/runs/99999999999"])
def test_a_row_id_past_integer_in_the_path_is_a_404_problem(client, finance_key, path):
    _problem(client.get(path, headers=auth(finance_key)), 404)


def test_the_openapi_bounds_every_integer_in_a_path(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    params = [p for item in spec["paths"].values() for p in item.get("parameters", [])]
    params += [p for item in spec["paths"].values() for op in item.values() if isinstance(op, dict)
               for p in op.get("parameters", [])]
    ints = [p["schema"] for p in params if p.get("in") == "path" and p["schema"].get("type") == "integer"]
    assert ints and all(s.get("maximum") == 2**31 - 1 and s.get("minimum") == 0 for s in ints)


def test_a_multipart_part_without_a_value_is_no_500(client, agent_key):
    response = client.post("/api/v1/dossiers", headers=auth(agent_key), content_type="multipart/form-data",
                           data={"payload": (io.BytesIO(b""), "")})
    assert response.status_code < 500
