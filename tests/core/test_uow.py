"""One transaction per use case: committed once, rolled back whole, never by the services themselves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from core import accounts, outbox, uow
from core.errors import Conflict
from core.extensions import db
from core.messages import Text
from core.models import ApiKey, Organisation
from core.roles import OrganisationKind
from core.uow import commit_point, unit_of_work
from dossiers.models import Dossier, DossierEvent, Status
from payments import service as payments
from payments.models import Payment
from tests import factories
from tests.factories import auth

ROOT = Path(__file__).resolve().parents[2]
DIRECT = re.compile(r"\bsession(?:\(\))?\.(commit|rollback)\(")
SKIPPED_DIRS = {".venv", "tests", "migrations", "bench", "node_modules", ".git"}
# Where a direct commit or rollback is right, and why (everything else goes through core.uow).
ALLOWED = {
    "core/uow.py": "the unit of work itself",
    "core/outbox.py": "the outbox runner: each claim, and each handler's result, is its own committed statement",
    "core/jobs.py": "the relay commits its claim only after Redis took every job, and rolls it back otherwise",
    "core/jobs_admin.py": "flask jobs requeue puts failed messages back in one statement of its own",
    "core/health.py": "the health check rolls back the failed probe so the pooled connection is reusable",
    "core/errors.py": "the 503 for a lost database connection rolls back the session the connection died under",
    "sandboxes/": "the dev sandboxes: stand-ins for external services (a gateway, a courier), each API call "
                  "its own transaction as a real peer's is",
}


def _sources() -> list[Path]:
    return [p for p in ROOT.rglob("*.py") if not SKIPPED_DIRS & set(p.relative_to(ROOT).parts)]


@pytest.mark.smoke
def test_services_commit_and_roll_back_only_through_the_unit_of_work():
    found = []
    for path in _sources():
        name = path.relative_to(ROOT).as_posix()
        if any(name == allowed or (allowed.endswith("/") and name.startswith(allowed)) for allowed in ALLOWED):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if DIRECT.search(line):
                found.append(f"{name}:{number}: {line.strip()}")
    assert found == [], "commit or roll back through core.uow (unit_of_work / commit_point):\n" + "\n".join(found)


@pytest.mark.smoke
def test_the_scan_sees_a_direct_commit():
    assert DIRECT.search("    db.session.commit()") and DIRECT.search("session.rollback()")
    assert not DIRECT.search("commit_point('x')")


@pytest.mark.smoke
def test_every_commit_point_is_named_in_one_place_and_used():
    used = set()
    for path in _sources():
        used |= set(re.findall(r"commit_point\(\"([a-z_.]+)\"\)", path.read_text(encoding="utf-8")))
    assert used == set(uow.COMMIT_POINTS)  # no undocumented point, no stale entry
    with pytest.raises(LookupError):
        commit_point("nobody.said_so")


def _commits(app) -> list[int]:
    seen: list[int] = []
    event.listen(db.session(), "after_commit", lambda session: seen.append(1))
    return seen


@pytest.mark.smoke
def test_a_use_case_failing_half_way_leaves_nothing_written(app, client, agent_key, officer_key, monkeypatch):
    number = factories.create_dossier(client, agent_key)["number"]

    def broken(*args, **kwargs):  # the status and its event are already changed in the session
        raise RuntimeError("the outbox is full")

    monkeypatch.setattr(outbox, "publish", broken)
    response = client.post(f"/api/v1/dossiers/{number}/transitions", json={"to": "accepted"},
                           headers=auth(officer_key))
    assert response.status_code == 500
    with app.app_context():
        dossier = db.session.scalar(select(Dossier).where(Dossier.number == number))
        assert dossier.status is Status.ROUTED
        moves = db.session.scalars(select(DossierEvent.to_status).where(DossierEvent.dossier_id == dossier.id))
        assert list(moves) == ["received", "routed"]


@pytest.mark.smoke
def test_nested_use_cases_commit_once_and_roll_back_together(app):
    with app.app_context():
        accounts.ensure_organisation("NEST-1", "Nested", OrganisationKind.POSTAL)
        db.session.commit()  # the test's own set-up
        seen = _commits(app)
        with unit_of_work():
            accounts.issue_organisation_key("NEST-1")  # a use case, and its own unit
            accounts.set_organisation_active("NEST-1", False)  # another
            assert seen == []  # nothing committed yet: the outer unit decides
        assert seen == [1]
        with pytest.raises(Conflict), unit_of_work():
            accounts.issue_organisation_key("NEST-1", "second")
            raise Conflict(Text("Thôi.", "The outer use case changed its mind."))
        assert seen == [1]
        names = db.session.scalars(select(ApiKey.name).join(Organisation).where(Organisation.code == "NEST-1"))
        assert list(names) == ["default"]  # the inner use case's key went with the outer rollback
        assert db.session.scalar(select(Organisation.is_active).where(Organisation.code == "NEST-1")) is False


@pytest.mark.smoke
def test_a_savepoint_unit_rolls_back_alone(app):
    with app.app_context():
        with unit_of_work():
            accounts.ensure_organisation("SAVE-1", "Kept", OrganisationKind.POSTAL)
            with pytest.raises(Conflict), unit_of_work(savepoint=True):
                accounts.ensure_organisation("SAVE-2", "Dropped", OrganisationKind.POSTAL)
                raise Conflict(Text("Từ chối.", "Refused."))
        codes = db.session.scalars(select(Organisation.code).where(Organisation.code.like("SAVE-%")))
        assert list(codes) == ["SAVE-1"]


@pytest.mark.smoke
def test_cash_payment_is_one_commit_though_it_starts_the_payment_first(app, client, agent_key):
    number = factories.create_dossier(client, agent_key, procedure_code="HN-TP-001")["number"]
    with app.app_context():
        principal = accounts.authenticate_key(agent_key)
        seen = _commits(app)
        payment = payments.record_cash(principal, number)  # calls payments.start, a use case of its own
        assert seen == [1]
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 1 and payment.status.value == "paid"
