"""Each event's message: paid with its amount, result ready with the point, courier events once per attempt."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.extensions import db
from core.timeutil import utcnow
from dossiers.models import Dossier
from notify import service
from notify.templates import SEGMENT_SEPTETS, format_slot, septets
from tests import factories
from tests.factories import auth
from tests.notify.conftest import run_outbox, sms_rows

PAID_PROCEDURE = "HN-TP-001"  # Phiếu lý lịch tư pháp: a state fee


def move(client, officer_key, number: str, *targets: str) -> None:
    for target in targets:
        response = client.post(f"/api/v1/dossiers/{number}/transitions", json={"to": target},
                               headers=auth(officer_key))
        assert response.status_code == 200, response.get_json()


def test_paid_and_result_ready_messages(app, client, agent_key, officer_key):
    dossier = factories.create_dossier(client, agent_key, procedure_code=PAID_PROCEDURE)
    number = dossier["number"]
    paid = client.post(f"/api/v1/dossiers/{number}/payment", json={"method": "cash"}, headers=auth(agent_key))
    assert paid.status_code == 200, paid.get_json()
    cash = client.post(f"/api/v1/dossiers/{number}/payment/cash", headers=auth(agent_key))
    assert cash.status_code == 200 and cash.get_json()["status"] == "paid"
    amount = cash.get_json()["amount_vnd"]
    move(client, officer_key, number, "accepted", "processing", "result_ready")
    run_outbox(app)
    by_event = {s.event: s for s in sms_rows(app)}
    assert set(by_event) == {"received", "paid", "result_ready"}
    assert f"da thanh toan {amount:,}d".replace(",", ".") in by_event["paid"].body
    with app.app_context():
        point = service.dossiers.receiving_point(db.session.scalar(select(Dossier).where(Dossier.number == number)))
        short = service.templates.short_point(point.name)
    assert by_event["result_ready"].body.startswith(f"Ho so {number} da co ket qua, moi nhan tai {short[:10]}")
    for sms in by_event.values():
        assert sms.body.isascii() and septets(sms.body) <= SEGMENT_SEPTETS and "/t/" in sms.body
    assert len({s.body.rsplit("/t/", 1)[1] for s in by_event.values()}) == 3  # a new link in each SMS


def test_courier_events_once_per_attempt(app, client, agent_key):
    dossier = factories.create_dossier(client, agent_key)
    run_outbox(app)
    slot = (utcnow() + timedelta(days=1)).replace(second=0, microsecond=0)
    with app.app_context():
        ident = db.session.scalar(select(Dossier.id).where(Dossier.number == dossier["number"]))
        first = service.dossier_event(ident, "attempt_failed", attempt=1, reason="Không liên lạc được",
                                      slot=slot.isoformat())
        assert service.dossier_event(ident, "attempt_failed", attempt=1) == first
        second = service.dossier_event(ident, "attempt_failed", attempt=2)
        returned = service.dossier_event(ident, "returned_to_branch", attempts=2)
        assert service.dossier_event(ident, "returned_to_branch") == returned
        assert service.dossier_event(ident, "no_such_event") is None
    rows = {s.id: s for s in sms_rows(app)}
    assert len(rows) == 4 and first != second
    assert f"giao chua duoc, hen {format_slot(slot)}. Doi lich: http" in rows[first].body
    assert "giao chua duoc. Chon lich giao lai: http" in rows[second].body  # no slot known: the other variant
    assert rows[returned].body.startswith(f"Giao ho so {dossier['number']} that bai, moi nhan tai ")
    assert [rows[i].dedupe_key.split(":", 1)[1] for i in (first, second, returned)] == [
        "attempt_failed:1", "attempt_failed:2", "returned_to_branch"]
