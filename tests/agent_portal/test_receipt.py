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
    assert link.startswith("http://localhost/t/")
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
