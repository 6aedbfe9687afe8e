"""The centre's live monitoring (/monitoring): who sees it, the period, and the figures checked against
counts computed here from the raw rows (dossiers and their timeline), never from the summary table."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from core.extensions import db
from core.timeutil import LOCAL_TZ, as_utc, to_local
from tests import factories
from tests.factories import auth, sign_in

LEADER = "lanhdao@test.vn"
PROCEDURE = "HN-TP-001"  # 10 working days: received Tue 10/03/2026 09:00, due Tue 24/03/2026 17:00
MONTH = {"from": "2026-03-01", "to": "2026-03-31", "lang": "en"}


def move(client, key: str, number: str, *targets: str) -> None:
    for target in targets:
        response = client.post(f"/api/v1/dossiers/{number}/transitions", json={"to": target, "reason": "test"},
                               headers=auth(key))
        assert response.status_code == 200, response.get_json()


def resolve(client, key, number):
    move(client, key, number, "accepted", "processing", "result_ready")


@pytest.fixture
def leader(app, client):
    with app.app_context():
        factories.create_user("leadership", email=LEADER)
    assert sign_in(client, LEADER).status_code == 302
    return client


@pytest.fixture
def month(app, client, clock, agent_key, officer_key, other_agent_key):
    """Seven dossiers in March 2026: two resolved early (the day they came in), one on its due day, one late,
    one left open past its deadline (overdue now), one open in time; one of the other organisation, resolved
    early. The clock ends on Wed 25/03/2026 10:00."""
    numbers = {}
    for name, key in (("early1", agent_key), ("early2", agent_key), ("due_day", agent_key), ("late", agent_key),
                      ("overdue", agent_key), ("open", agent_key), ("other_org", other_agent_key)):
        if name == "open":
            clock.set(datetime(2026, 3, 20, 9, 0, tzinfo=LOCAL_TZ))
        numbers[name] = factories.create_dossier(client, key, procedure_code=PROCEDURE)["number"]
        clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=LOCAL_TZ))
    for name in ("early1", "early2", "other_org"):
        clock.set(datetime(2026, 3, 10, 15, 0, tzinfo=LOCAL_TZ))
        resolve(client, officer_key, numbers[name])
    clock.set(datetime(2026, 3, 24, 10, 0, tzinfo=LOCAL_TZ))
    resolve(client, officer_key, numbers["due_day"])
    clock.set(datetime(2026, 3, 25, 9, 0, tzinfo=LOCAL_TZ))
    resolve(client, officer_key, numbers["late"])
    clock.set(datetime(2026, 3, 25, 10, 0, tzinfo=LOCAL_TZ))
    return numbers


def raw_counts(app, now: datetime) -> dict:
    """The figures, computed from the dossiers and their timeline alone."""
    with app.app_context():
        rows = db.session.execute(text(
            "SELECT d.number, d.received_at, d.deadline_at, d.status, d.outside_service_radius, "
            "(SELECT MIN(e.at) FROM dossier_events e WHERE e.dossier_id = d.id AND e.to_status = 'result_ready') "
            "FROM dossiers d")).all()
    out = {"received": 0, "resolved": 0, "early": 0, "on_time": 0, "late": 0, "overdue_now": 0, "outside_radius": 0}
    for _number, received, deadline, status, outside, resolved in rows:
        received, deadline = as_utc(_dt(received)), as_utc(_dt(deadline))
        out["received"] += 1
        out["outside_radius"] += bool(outside)
        if resolved is not None:
            resolved = as_utc(_dt(resolved))
            out["resolved"] += 1
            if resolved > deadline:
                out["late"] += 1
            elif to_local(resolved).date() < to_local(deadline).date():
                out["early"] += 1
            else:
                out["on_time"] += 1
        elif status in ("received", "routed", "accepted", "processing", "supplement_requested") and deadline < now:
            out["overdue_now"] += 1
    return out


def _dt(value):
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_only_admin_and_leadership_see_the_monitoring(app, client):
    with app.app_context():
        factories.create_user("branch_officer", email="canbo@test.vn")
        factories.create_user("admin", email="quantri@test.vn")
    assert client.get("/monitoring").status_code in (302, 401)
    sign_in(client, "canbo@test.vn")
    assert client.get("/monitoring").status_code == 403
    assert client.get("/monitoring/export/groups.csv").status_code == 403
    client.post("/logout", data={"csrf_token": factories.csrf_token(client, "/staff")})
    sign_in(client, "quantri@test.vn")
    assert client.get("/monitoring").status_code == 200


def test_leadership_lands_on_the_monitoring(app, client):
    with app.app_context():
        factories.create_user("leadership", email=LEADER)
    response = sign_in(client, LEADER)
    assert response.status_code == 302 and response.headers["Location"].endswith("/monitoring")


def test_a_period_that_ends_before_it_starts_is_refused_in_both_languages(leader):
    vi = leader.get("/monitoring", query_string={"from": "2026-03-31", "to": "2026-03-01"})
    assert vi.status_code == 422
    assert "Kỳ theo dõi kết thúc trước khi bắt đầu" in vi.get_data(as_text=True)
    en = leader.get("/monitoring", query_string={"from": "2026-03-31", "to": "2026-03-01", "lang": "en"})
    assert en.status_code == 422 and "The period ends before it starts" in en.get_data(as_text=True)
    assert leader.get("/monitoring/export/groups.csv",
                      query_string={"from": "2026-03-31", "to": "2026-03-01"}).status_code == 422


def test_the_month_figures_match_the_raw_rows(app, leader, month, clock):
    expected = raw_counts(app, clock.now())
    assert expected == {"received": 7, "resolved": 5, "early": 3, "on_time": 1, "late": 1, "overdue_now": 1,
                        "outside_radius": expected["outside_radius"]}
    rows = _csv(leader.get("/monitoring/export/groups.csv", query_string={**MONTH, "by": "organisation"}))
    header, total = rows[0], rows[-1]
    figures = dict(zip(header, total, strict=True))
    assert int(figures["Received"]) == expected["received"]
    assert int(figures["Resolved"]) == expected["resolved"]
    assert int(figures["Early"]) == expected["early"]
    assert int(figures["On time"]) == expected["on_time"]
    assert int(figures["Late"]) == expected["late"]
    assert int(figures["Overdue now"]) == expected["overdue_now"]
    assert int(figures["Outside the service radius"]) == expected["outside_radius"]
    assert float(figures["On-time rate (%)"]) == 80.0
    # Working days: 0, 0, 0 (same day), 10 (the due day), 11 (a day late): average 4.2, 90th percentile 11.
    assert float(figures["Average (working days)"]) == 4.2
    assert float(figures["90th percentile (working days)"]) == 11.0
    by_org = {r[0].split(" — ")[0]: r for r in rows[1:-1]}
    assert set(by_org) == {"VNPOST-HN", "HNTECH"}
    assert int(by_org["HNTECH"][header.index("Received")]) == 1
    assert int(by_org["VNPOST-HN"][header.index("Late")]) == 1


def test_the_page_shows_the_figures_grouped_and_a_day_before_shows_less(app, leader, month):
    page = leader.get("/monitoring", query_string={**MONTH, "by": "level"}).get_data(as_text=True)
    assert re.search(r'id="kpi-received".*?<span class="v">7</span>', page, re.S)
    assert re.search(r'id="kpi-late".*?<span class="v">1</span>', page, re.S)
    assert "<svg" in page  # the charts, server-side
    # The 10th alone: six received (the seventh came on the 20th), three resolved early that day.
    day = _csv(leader.get("/monitoring/export/groups.csv",
                          query_string={"from": "2026-03-10", "to": "2026-03-10", "lang": "en"}))
    figures = dict(zip(day[0], day[-1], strict=True))
    assert (int(figures["Received"]), int(figures["Resolved"]), int(figures["Early"])) == (6, 3, 3)


def test_every_table_exports_as_csv_and_xlsx(app, leader, month):
    from openpyxl import load_workbook

    for table in ("groups", "payments", "ratings", "sipas", "comments", "alerts"):
        assert _csv(leader.get(f"/monitoring/export/{table}.csv", query_string=MONTH))[0]
        response = leader.get(f"/monitoring/export/{table}.xlsx", query_string=MONTH)
        assert response.status_code == 200
        book = load_workbook(io.BytesIO(response.data))
        assert book.active.max_row >= 2
    book = load_workbook(io.BytesIO(leader.get("/monitoring/export/groups.xlsx", query_string=MONTH).data))
    values = [[c.value for c in row] for row in book.active.iter_rows(min_row=2)]
    assert values[-1][1] == 7  # the total received, a number in the sheet


def test_a_result_ready_again_keeps_the_first_resolution(app, client, clock, agent_key, officer_key):
    number = factories.create_dossier(client, agent_key, procedure_code=PROCEDURE,
                                      delivery={"method": "courier", "address": "12 Hàng Bài, Hà Nội"})["number"]
    resolve(client, officer_key, number)
    first = clock.now()
    clock.advance(hours=2)
    move(client, officer_key, number, "out_for_delivery", "result_ready")  # back after a failed attempt
    with app.app_context():
        from dossiers.models import DossierResolution

        rows = db.session.execute(db.select(DossierResolution)).scalars().all()
        assert len(rows) == 1 and rows[0].outcome == "early"
        assert abs(as_utc(rows[0].resolved_at) - as_utc(first)) < timedelta(seconds=1)
