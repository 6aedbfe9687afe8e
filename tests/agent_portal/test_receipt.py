"""The printed receipt: what it says, the QR code of the tracking link, both paper sizes."""

from __future__ import annotations

import re

import pytest

from tests import factories
from tests.factories import create_dossier, sign_in


@pytest.fixture
def signed_in(app, client):
    with app.app_context():
        factories.create_user("agent", email="lan@test.vn", org=factories.create_org())
    sign_in(client, "lan@test.vn")
    return client


def test_receipt_shows_the_appointment_and_a_qr_of_the_tracking_link(app, signed_in, agent_key):
    created = create_dossier(signed_in, agent_key, procedure_code="HN-TP-001",
                             delivery={"method": "courier", "address": "5 Lý Thái Tổ, Hoàn Kiếm"})
    page = signed_in.get(f"/portal/dossiers/{created['number']}/receipt").get_data(as_text=True)
    assert created["number"] in page
    assert "Cấp Phiếu lý lịch tư pháp" in page
    assert "001******345" in page and "001090012345" not in page
    assert "200.000\xa0₫" in page  # the state fee, Vietnamese money format
    assert "5 Lý Thái Tổ" in page
    assert "size: A5" in page and "<svg" in page
    link = re.search(r'class="url">([^<]+)<', page).group(1)
    # PUBLIC_BASE_URL, never the Host header the request came with (here the test client's "localhost").
    assert link.startswith(app.config["PUBLIC_BASE_URL"].rstrip("/") + "/t/") and "localhost" not in link
    thermal = signed_in.get(f"/portal/dossiers/{created['number']}/receipt?format=thermal").get_data(as_text=True)
    assert "size: 80mm" in thermal


def test_qr_code_decodes_to_the_tracking_link(app, signed_in, agent_key):
    import segno

    created = create_dossier(signed_in, agent_key)
    page = signed_in.get(f"/portal/dossiers/{created['number']}/receipt").get_data(as_text=True)
    link = re.search(r'class="url">([^<]+)<', page).group(1)
    expected = segno.make(link, error="m").svg_inline(scale=4, border=2, omitsize=True)
    assert expected in page


def test_another_organisations_receipt_is_not_found(app, signed_in, other_agent_key):
    theirs = create_dossier(signed_in, other_agent_key)
    assert signed_in.get(f"/portal/dossiers/{theirs['number']}/receipt").status_code == 404


def _fee_rule(app, flat_vnd: int) -> None:
    from datetime import date

    from payments import service as payments
    with app.app_context():
        payments.ensure_fee_rule("VNPOST-HN", {"effective_from": date(2020, 1, 1), "flat_vnd": flat_vnd}, "test")


def _fees_section(page: str) -> str:
    return re.search(r'<section class="fees".*?</section>', page, re.S).group(0)


def test_an_unpaid_receipt_shows_the_quote_and_says_not_collected(app, signed_in, agent_key):
    _fee_rule(app, 37_000)
    created = create_dossier(signed_in, agent_key)  # Đăng ký khai sinh: no state fee
    fees = _fees_section(signed_in.get(f"/portal/dossiers/{created['number']}/receipt").get_data(as_text=True))
    assert "Phí dịch vụ" in fees and "37.000\xa0₫" in fees
    assert "chưa thu" in fees


def test_a_paid_receipt_shows_what_was_paid_how_and_the_e_receipt_number(app, signed_in, agent_key):
    from tests.factories import auth
    from tests.payments.conftest import run_outbox

    _fee_rule(app, 37_000)
    created = create_dossier(signed_in, agent_key)
    paid = signed_in.post(f"/api/v1/dossiers/{created['number']}/payment/cash", headers=auth(agent_key))
    assert paid.status_code == 200
    run_outbox(app)
    receipt = paid.get_json()["receipts"] or signed_in.get(
        f"/api/v1/dossiers/{created['number']}/payment", headers=auth(agent_key)).get_json()["receipts"]
    fees = _fees_section(signed_in.get(f"/portal/dossiers/{created['number']}/receipt").get_data(as_text=True))
    assert "Tổng cộng" in fees and "37.000\xa0₫" in fees
    paid_line = re.search(r'<dd class="paid">([^<]+)', fees).group(1)
    assert "37.000\xa0₫" in paid_line and "Tiền mặt" in paid_line
    assert "chưa thu" not in fees
    # No state fee, so no fee receipt: the service fee is invoiced by the agent, and the receipt says so.
    assert [(r["document"], r["kind"]) for r in receipt] == [("service_invoice", "payment")]
    assert receipt[0]["series"].endswith("-HD")
    assert f"{receipt[0]['series']}/{receipt[0]['number']:07d}" in fees
    assert "Hóa đơn dịch vụ (GTGT)" in fees and "Biên lai thu phí" not in fees
