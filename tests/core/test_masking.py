"""One phone mask everywhere: the agents' pages, the receipt, the citizen's page and its JSON."""

from __future__ import annotations

import re

import pytest

from core.masking import mask_phone
from tests import factories
from tests.factories import create_dossier, sign_in

pytestmark = pytest.mark.smoke
MASKED = "091****678"


def test_the_mask_takes_either_form_to_the_local_one():
    assert mask_phone("+84912345678") == mask_phone("0912345678") == mask_phone("091 234 5678") == MASKED
    assert mask_phone("") == mask_phone(None) == "—"
    assert mask_phone("12345") == "*****"


def test_every_page_and_dump_masks_the_phone_the_same_way(app, client, agent_key):
    from tracking import service as tracking

    with app.app_context():
        factories.create_user("agent", email="lan@test.vn", org=factories.create_org())
    created = create_dossier(client, agent_key)
    with app.app_context():
        from sqlalchemy import select

        from core.extensions import db
        from dossiers.models import Dossier
        dossier_id = db.session.scalar(select(Dossier.id).where(Dossier.number == created["number"]))
        token = tracking.share_link(dossier_id, "sms").rsplit("/", 1)[1]
    sign_in(client, "lan@test.vn")
    pages = {
        "portal": client.get("/portal").get_data(as_text=True),
        "receipt": client.get(f"/portal/dossiers/{created['number']}/receipt").get_data(as_text=True),
        "tracking": client.get(f"/t/{token}").get_data(as_text=True),
        "tracking.json": client.get(f"/t/{token}.json").get_data(as_text=True),
    }
    for name, text in pages.items():
        shown = set(re.findall(r"\+?\d{2,5}\*{3,}\d{2,3}", text)) - {"001******345"}  # the CCCD
        assert shown == {MASKED}, (name, shown)
