"""The demo month (app/demo_month.py): every screen gets something, through the platform's use cases, once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.demo import load_demo
from app.demo_agents import AGENT_POINTS
from app.demo_month import MARKER, generate
from core.extensions import db
from core.models import AgentPoint
from core.outbox import OutboxMessage
from core.timeutil import as_utc, current_clock, to_local
from dossiers.models import DeliveryMethod, Dossier, DossierEvent, Status
from payments.models import LedgerTransaction, Payment, PaymentStatus, Refund
from tracking.models import Feedback

pytestmark = pytest.mark.smoke

OPEN = [Status.RECEIVED, Status.ROUTED, Status.ACCEPTED, Status.PROCESSING, Status.SUPPLEMENT_REQUESTED]


def _demo():
    return Dossier.agent_reference.like(f"{MARKER}%")


def test_a_month_with_something_on_every_screen_made_once(app, clock):
    with app.app_context():
        load_demo(month=False)
        now = clock.now()
        result = generate(days=30, volume=0.12, now=now)
        assert current_clock() is clock  # the test's clock is back
        assert result["created"] > 60 and result["month_start"] == to_local(now).date() - timedelta(days=30)

        dossiers = db.session.scalars(select(Dossier).where(_demo())).all()
        assert len(dossiers) == result["dossiers"]
        assert len({to_local(as_utc(d.received_at)).date() for d in dossiers}) >= 20
        assert all(as_utc(d.received_at) <= now for d in dossiers)
        assert all([doc.content_type for doc in d.documents] == ["application/pdf"] for d in dossiers)

        methods = set(db.session.scalars(select(Payment.method).where(
            Payment.status.in_((PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)))))
        assert {m.value for m in methods} == {"card", "vietqr", "cash"}
        assert db.session.scalar(select(func.count()).select_from(Refund).where(Refund.status == "succeeded")) >= 1

        ready = dict(db.session.execute(select(DossierEvent.dossier_id, func.min(DossierEvent.at)).where(
            DossierEvent.to_status == Status.RESULT_READY.value).group_by(DossierEvent.dossier_id)).tuples().all())
        late = [d for d in dossiers if d.id in ready and as_utc(ready[d.id]) > as_utc(d.deadline_at)]
        overdue = [d for d in dossiers if d.status in OPEN and as_utc(d.deadline_at) < now]
        assert late and overdue
        assert any(d.outside_service_radius for d in dossiers)

        ratings = set(db.session.scalars(select(Feedback.rating)))
        assert ratings == {1, 2, 3, 4, 5}
        codes = {p.id: p.code for p in db.session.scalars(select(AgentPoint))}
        assert {codes[d.agent_point_id] for d in dossiers} == {p.code for p in AGENT_POINTS}

        # Nothing of the past month is left to run when the app starts, but the bookings of results still
        # waiting for a courier.
        pending = db.session.execute(select(OutboxMessage.topic, OutboxMessage.payload).where(
            OutboxMessage.status == "pending")).all()
        waiting = {d.id for d in dossiers
                   if d.status is Status.RESULT_READY and d.delivery_method is DeliveryMethod.COURIER}
        assert all(topic == "courier@dossiers.status_changed" and payload["dossier_id"] in waiting
                   for topic, payload in pending), pending

        # The gateway paid the card takings out, and the ledger has the payout.
        assert db.session.scalar(select(func.count()).select_from(LedgerTransaction).where(
            LedgerTransaction.kind == "payout")) == 1

        again = generate(days=30, volume=0.12, now=now)
        assert again["created"] == 0
        assert db.session.scalar(select(func.count()).select_from(Dossier).where(_demo())) == len(dossiers)
        assert again["month_start"] >= result["month_start"]  # the first day that has a dossier

    # `flask demo load` a second time: nothing added, the month's summary printed.
    output = app.test_cli_runner().invoke(args=["demo", "load"]).output
    assert "demo month:     0 dossiers created" in output and f"{len(dossiers)} in all" in output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Dossier).where(_demo())) == len(dossiers)


def test_agent_points_and_their_users_are_made_once(app):
    from core import accounts
    from core.errors import Conflict
    from core.models import AgentPointKind
    from core.roles import OrganisationKind, Role

    with app.app_context():
        post = accounts.ensure_organisation("VNPOST-HN", "Bưu điện", OrganisationKind.POSTAL)
        tech = accounts.ensure_organisation("HNTECH", "HNTECH", OrganisationKind.TECHNOLOGY)
        user = accounts.ensure_user("daily@test.vn", "Đại lý", Role.AGENT, "correct horse battery staple", post)
        assert user.agent_point_id is None
        point = accounts.ensure_agent_point(post, "VNPOST-HN-HK", "Bưu điện Hoàn Kiếm", AgentPointKind.POST_OFFICE)
        assert accounts.ensure_agent_point(post, "VNPOST-HN-HK", "other name", AgentPointKind.TABLET).id == point.id
        with pytest.raises(Conflict):
            accounts.ensure_agent_point(tech, "VNPOST-HN-HK", "x", AgentPointKind.ONLINE)
        # An agent made before agent points gets the one named; another organisation's point is not taken.
        other = accounts.ensure_agent_point(tech, "HNTECH-ONLINE", "Online", AgentPointKind.ONLINE)
        assert accounts.ensure_user("daily@test.vn", "x", Role.AGENT, "x", post, agent_point_id=other.id
                                    ).agent_point_id is None
        again = accounts.ensure_user("daily@test.vn", "x", Role.AGENT, "x", post, agent_point_id=point.id)
        assert again.id == user.id and again.agent_point_id == point.id
        assert accounts.principal_for(again).agent_point_id == point.id
        db.session.commit()


def test_the_plan_is_seeded_and_keeps_to_office_hours():
    from datetime import datetime, time

    from app import demo_plan
    from core.models import AgentPointKind
    from core.timeutil import LOCAL_TZ
    from geo.territory import in_hanoi

    procedures = [demo_plan.Procedure("C1", "commune", 1), demo_plan.Procedure("D3", "district", 3),
                  demo_plan.Procedure("P10", "province", 10)]
    now = datetime(2026, 3, 10, 9, 0, tzinfo=LOCAL_TZ)
    plans = demo_plan.plan_month(30, seed=1, volume=0.5, now=now, procedures=procedures)
    again = demo_plan.plan_month(30, seed=1, volume=0.5, now=now, procedures=procedures)
    assert [(p.received_at, p.point.code, p.body) for p in plans] == [(p.received_at, p.point.code, p.body)
                                                                      for p in again]
    assert {p.point.code for p in plans} == {p.code for p in AGENT_POINTS}
    assert all(in_hanoi(p.body["location"]["lat"], p.body["location"]["lon"]) for p in plans)
    for plan in plans:
        moment = to_local(plan.received_at)
        if plan.point.kind is not AgentPointKind.ONLINE:
            assert moment.weekday() < 6 and time(7, 30) <= moment.time() < time(17, 0)
    assert {p.outcome for p in plans} >= {"early", "on_time", "late", "stuck", "rejected", "cancelled"}
    assert {p.rating for p in plans} >= {1, 2, 3, 4, 5}

    # Office time: 08:00–17:00 on working days (Saturday 14 March 2026 and Sunday are not).
    friday_late = datetime(2026, 3, 13, 16, 30, tzinfo=LOCAL_TZ)
    assert to_local(demo_plan.next_work_time(friday_late, 60)) == datetime(2026, 3, 16, 8, 30, tzinfo=LOCAL_TZ)
    assert to_local(demo_plan.waking(datetime(2026, 3, 13, 23, 10, tzinfo=LOCAL_TZ))) == datetime(
        2026, 3, 14, 7, 10, tzinfo=LOCAL_TZ)
