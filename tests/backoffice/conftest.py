"""Back-office fixtures: a dossier at a known point, an officer of that point, one of another point."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests import factories
from tests.factories import auth, sign_in

PROCEDURE = "HN-TP-001"  # Phiếu lý lịch tư pháp: 10 working days, so a new date can fall before the deadline
OFFICER = "canbo.diem@test.vn"
OTHER_OFFICER = "canbo.khac@test.vn"


@dataclass
class Branch:
    number: str
    point_code: str
    officer_key: str
    other_key: str
    agent_key: str


def move(client, key: str, number: str, target: str, reason: str | None = None) -> None:
    response = client.post(f"/api/v1/dossiers/{number}/transitions", json={"to": target, "reason": reason},
                           headers=auth(key))
    assert response.status_code == 200, response.get_json()


@pytest.fixture
def branch(app, client, clock, agent_key) -> Branch:
    """A dossier registered on Tuesday 10/03/2026 09:00 (the clock), its point's officer signed in on ``client``."""
    dossier = factories.create_dossier(client, agent_key, procedure_code=PROCEDURE)
    code = dossier["service_point"]["service_point_code"]
    with app.app_context():
        from geo import service as geo

        other = next(p.code for p in geo.list_points() if p.code != code)
        officer = factories.create_user("branch_officer", email=OFFICER, service_point_code=code)
        other_officer = factories.create_user("branch_officer", email=OTHER_OFFICER, service_point_code=other)
        keys = factories.user_key(officer), factories.user_key(other_officer)
    assert sign_in(client, OFFICER).status_code == 302
    return Branch(dossier["number"], code, keys[0], keys[1], agent_key)
