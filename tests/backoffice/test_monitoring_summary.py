"""The monitoring's daily summary (``monitoring_daily``, kept by PostgreSQL triggers, migration 0025) agrees
with the raw rows after registrations, moves, resolutions, a transfer to another point, ratings and a
procedure's change of level: the figures read from it equal the figures computed from the dossiers, their
resolutions and the ratings, for every grouping, and the table equals its own rebuild from the raw rows."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select, text

from backoffice import monitoring
from core.extensions import db
from core.timeutil import LOCAL_TZ
from dossiers.models import Dossier
from tests import factories
from tests.backoffice.conftest import move
from tests.backoffice.test_workspace_actions import post

PROCEDURE = "HN-TP-001"  # province level, 10 working days
COMMUNE_PROCEDURE = "HN-HT-201"  # commune level
LONG_BIEN = {"lat": 21.0447, "lon": 105.8899}
MARCH = monitoring.Period(date(2026, 3, 1), date(2026, 3, 31))
PERIODS = (MARCH, monitoring.Period(date(2026, 3, 10), date(2026, 3, 10)),
           monitoring.Period(date(2026, 3, 11), date(2026, 3, 25)))


@pytest.fixture(autouse=True)
def _postgres_only(app):
    with app.app_context():
        if not monitoring.summarised():
            pytest.skip("the summary is kept by PostgreSQL triggers; SQLite computes from the raw rows")


def _resolve(client, key, number, *then):
    for target in ("accepted", "processing", "result_ready", *then):
        move(client, key, number, target)


@pytest.fixture
def activity(app, client, clock, branch, officer_key, other_agent_key):
    """March 2026 at two points and two organisations: the branch fixture's dossier (10/03) transferred to
    another point, dossiers resolved early, on their day, late (the birth registration of one working day, on its
    third) and not at all, collected and rated."""
    from tracking import service as tracking

    numbers = {"transferred": branch.number}
    clock.set(datetime(2026, 3, 10, 9, 30, tzinfo=LOCAL_TZ))
    numbers["early"] = factories.create_dossier(client, branch.agent_key, procedure_code=PROCEDURE)["number"]
    numbers["commune"] = factories.create_dossier(client, branch.agent_key, procedure_code=COMMUNE_PROCEDURE)["number"]
    numbers["elsewhere"] = factories.create_dossier(client, other_agent_key, procedure_code=PROCEDURE,
                                                    location={**LONG_BIEN, "source": "gps"})["number"]
    clock.set(datetime(2026, 3, 11, 10, 0, tzinfo=LOCAL_TZ))
    numbers["late"] = factories.create_dossier(client, other_agent_key, procedure_code=PROCEDURE)["number"]
    numbers["open"] = factories.create_dossier(client, branch.agent_key, procedure_code=PROCEDURE)["number"]
    with app.app_context():
        from geo import service as geo

        target = next(p.code for p in geo.list_points() if p.code != branch.point_code)
    assert post(client, branch.number, "transfer", point=target, reason="Đúng địa bàn").status_code == 303
    clock.set(datetime(2026, 3, 12, 15, 0, tzinfo=LOCAL_TZ))
    _resolve(client, officer_key, numbers["early"], "collected")
    _resolve(client, officer_key, numbers["commune"], "collected")
    _resolve(client, officer_key, numbers["transferred"], "collected")
    clock.set(datetime(2026, 3, 24, 11, 0, tzinfo=LOCAL_TZ))
    _resolve(client, officer_key, numbers["elsewhere"], "collected")
    clock.set(datetime(2026, 3, 26, 9, 0, tzinfo=LOCAL_TZ))
    _resolve(client, officer_key, numbers["late"], "collected")
    clock.set(datetime(2026, 3, 26, 16, 0, tzinfo=LOCAL_TZ))
    with app.app_context():
        ids = dict(db.session.execute(select(Dossier.number, Dossier.id)).all())
    for name, rating in (("early", 5), ("commune", 4), ("transferred", 2), ("elsewhere", 5), ("late", 1)):
        with app.app_context():
            tracking.give_feedback(ids[numbers[name]], rating, "Nhận xét" if rating < 3 else None)
    clock.set(datetime(2026, 3, 27, 10, 0, tzinfo=LOCAL_TZ))
    return numbers


def _summary_rows() -> list[tuple]:
    return [tuple(r) for r in db.session.execute(text(
        "SELECT day, service_point_id, organisation_id, level, received, outside_radius, resolved, early, on_time, "
        "late, working_days::jsonb, rated_1, rated_2, rated_3, rated_4, rated_5 FROM monitoring_daily "
        "WHERE received <> 0 OR resolved <> 0 OR rated_1 + rated_2 + rated_3 + rated_4 + rated_5 <> 0 "
        "ORDER BY 1, 2, 3, 4"))]


def _assert_summary_agrees(now) -> None:
    for when in PERIODS:
        for by in monitoring.DIMENSIONS:
            assert monitoring.overview(when, by, now) == monitoring.overview(when, by, now, raw=True), (when, by)
        assert monitoring.daily_series(when) == monitoring.daily_series(when, raw=True)


def test_the_summary_agrees_with_the_raw_rows(app, activity, clock):
    with app.app_context():
        assert monitoring.summarised()
        figures = monitoring.overview(MARCH, "point", clock.now())
        total = figures["total"]
        # Late: the birth registration (one working day) and "late".
        assert (total["received"], total["resolved"], total["late"], total["ratings"]) == (6, 5, 2, 5)
        assert figures["distribution"] == {1: 1, 2: 1, 3: 0, 4: 1, 5: 2}
        # The transferred dossier counts at its new point, as received and as rated; its resolution too.
        point = db.session.scalar(select(Dossier.service_point_id).where(Dossier.number == activity["transferred"]))
        assert figures["rows"][point]["received"] >= 1 and figures["rows"][point]["ratings"] >= 1
        _assert_summary_agrees(clock.now())
        kept = _summary_rows()
        assert kept, "the triggers wrote the summary"
        db.session.execute(text("SELECT monitoring_daily_rebuild()"))
        assert _summary_rows() == kept
        db.session.rollback()


def test_a_transfer_moves_the_received_dossier_and_its_rating(app, activity, clock):
    with app.app_context():
        dossier = db.session.scalar(select(Dossier).where(Dossier.number == activity["early"]))
        before = monitoring.overview(MARCH, "point", clock.now())["rows"]
        old, new = dossier.service_point_id, next(k for k in before if k != dossier.service_point_id)
        # The platform only transfers open dossiers; the triggers follow any change of the point all the same.
        db.session.execute(text("UPDATE dossiers SET service_point_id = :new WHERE id = :id"),
                           {"new": new, "id": dossier.id})
        after = monitoring.overview(MARCH, "point", clock.now())["rows"]
        assert after[new]["received"] == before[new]["received"] + 1
        assert after[new]["ratings"] == before[new]["ratings"] + 1
        assert after.get(old, {"received": 0})["received"] == before[old]["received"] - 1
        _assert_summary_agrees(clock.now())
        db.session.rollback()


def test_a_procedure_changing_level_regroups_the_summary(app, activity, clock):
    with app.app_context():
        before = monitoring.overview(MARCH, "level", clock.now())["rows"]
        assert before["province"]["received"] == 5 and before["commune"]["received"] == 1
        db.session.execute(text("UPDATE procedures SET level = 'commune' WHERE code = :code"), {"code": PROCEDURE})
        after = monitoring.overview(MARCH, "level", clock.now())["rows"]
        assert after["commune"]["received"] == 6
        assert after.get("province", {}).get("received", 0) == 0  # its resolutions keep the level they recorded
        _assert_summary_agrees(clock.now())
        kept = _summary_rows()
        db.session.execute(text("SELECT monitoring_daily_rebuild()"))
        assert _summary_rows() == kept
        db.session.rollback()  # the catalogue is reference data: left as it was


def test_the_map_counts_today_from_the_summary(app, client, clock, branch):
    factories.create_dossier(client, branch.agent_key, procedure_code=PROCEDURE)  # the same day as branch's
    with app.app_context():
        loads = {p["code"]: p["load"] for p in monitoring.network_today(clock.now())}
        today = clock.now().astimezone(LOCAL_TZ).date()
        received = db.session.execute(text(
            "SELECT count(*) FROM dossiers WHERE (received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date = :day"),
            {"day": today}).scalar_one()
    assert received == 2 and loads[branch.point_code] == 2 and sum(loads.values()) == 2


def _waiting_on_a_lock(pids: set[int]) -> bool:
    with db.engine.connect() as conn:
        waiting = set(conn.execute(text("SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock'")).scalars())
    return pids <= waiting


def test_two_opposite_transfers_at_once_both_complete(app, client, clock, agent_key):
    """Two dossiers cross between two points at the same moment, while a third transaction holds one of their
    summary rows. Each transfer touches both rows; taken in the table's key order, the second transfer queues
    behind the first instead of holding the row the first needs next (PostgreSQL would end one as a deadlock)."""
    import threading
    import time

    clock.set(datetime(2026, 3, 10, 9, 30, tzinfo=LOCAL_TZ))
    numbers = [factories.create_dossier(client, agent_key, procedure_code=PROCEDURE)["number"] for _ in range(2)]
    with app.app_context():
        first = db.session.scalar(select(Dossier).where(Dossier.number == numbers[0]))
        other = db.session.execute(text("SELECT id FROM service_points WHERE id <> :id ORDER BY id LIMIT 1"),
                                   {"id": first.service_point_id}).scalar_one()
        db.session.execute(text("UPDATE dossiers SET service_point_id = :other WHERE number = :number"),
                           {"other": other, "number": numbers[1]})
        db.session.commit()
        at = dict(db.session.execute(select(Dossier.service_point_id, Dossier.id)).all())  # point -> its dossier
        low, high = sorted(at)
        key = db.session.execute(text("SELECT day, organisation_id, level FROM monitoring_daily "
                                      "WHERE service_point_id = :p AND received = 1"), {"p": high}).one()
        db.session.remove()
        engine = db.engine  # the threads have no application context
        errors: list[BaseException] = []
        pids: set[int] = set()

        def transfer(dossier_id: int, to: int) -> None:
            try:
                with engine.begin() as conn:
                    pids.add(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
                    conn.execute(text("UPDATE dossiers SET service_point_id = :to WHERE id = :id"),
                                 {"to": to, "id": dossier_id})
            except BaseException as exc:  # noqa: BLE001 - reported by the test below
                errors.append(exc)

        with db.engine.connect() as holder:  # someone holds the high point's row for now
            held = holder.execute(text("SELECT 1 FROM monitoring_daily WHERE day = :day AND service_point_id = :p "
                                       "AND organisation_id = :org AND level = :level FOR UPDATE"),
                                  {"day": key.day, "p": high, "org": key.organisation_id, "level": key.level}).all()
            assert held == [(1,)]
            threads = [threading.Thread(target=transfer, args=(at[high], low)),
                       threading.Thread(target=transfer, args=(at[low], high))]
            for thread in threads:
                thread.start()
                deadline = time.monotonic() + 10
                while not (len(pids) == threads.index(thread) + 1 and _waiting_on_a_lock(set(pids))):
                    assert time.monotonic() < deadline, ("the transfer never queued for its row", errors, pids)
                    time.sleep(0.02)
            holder.rollback()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        assert dict(db.session.execute(select(Dossier.id, Dossier.service_point_id)).all()) == \
            {at[high]: low, at[low]: high}
        _assert_summary_agrees(clock.now())
