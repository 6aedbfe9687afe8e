"""The centre's live monitoring (/monitoring) in Chromium, as leadership, on the tests' database (PostgreSQL
when reachable). The figures the page shows for today and for the month are checked against figures this
test computes from the raw rows it created (the dossiers, their timeline and the ratings), never from the
summary table; the charts render; the map colours a full point; an alert raised by the job (run here, not
on page load) is acknowledged with a note; the CSV and XLSX exports download and parse; an agent and a
branch officer are refused.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import select, text

from backoffice.alert_jobs import TOPIC
from backoffice.models import QualityAlert
from core import outbox, periodic
from core.extensions import db
from core.timeutil import LOCAL_TZ, as_utc, to_local
from dossiers.models import Dossier
from geo.models import ServicePoint
from tests import factories
from tests.e2e.test_csp_pages import _watch
from tests.factories import auth

pytestmark = pytest.mark.smoke
PASSWORD = "correct horse battery staple"
LEADER = "lanhdao.e2e@test.vn"
PROCEDURE = "HN-CU-201"  # 7 working days: received Tue 10/03/2026 09:00, due Thu 19/03/2026 17:00
NOW = datetime(2026, 3, 20, 10, 0, tzinfo=LOCAL_TZ)  # Friday: "today"
MONTH = (date(2026, 3, 1), date(2026, 3, 31))
TODAY = (NOW.date(), NOW.date())
KPIS = ("received", "resolved", "early", "on_time", "late", "overdue_now", "on_time_rate", "outside_radius",
        "rating_avg")
OPEN = ("received", "routed", "accepted", "processing", "supplement_requested")


def _move(client, key: str, number: str, *targets: str) -> None:
    for target in targets:
        response = client.post(f"/api/v1/dossiers/{number}/transitions", json={"to": target, "reason": "e2e"},
                               headers=auth(key))
        assert response.status_code == 200, response.get_json()


def _rate(app, number: str, rating: int, comment: str) -> None:
    from tracking import service as tracking

    with app.app_context():
        tracking.give_feedback(db.session.scalar(select(Dossier.id).where(Dossier.number == number)), rating, comment)


@pytest.fixture
def month(app, client, clock, agent_key, officer_key):
    """March 2026. On Tue 10/03 09:00: six dossiers, one of them registered from outside Hanoi (outside the
    service radius); two resolved that afternoon (early), collected and rated 5 and 4; one resolved on its due
    day (19/03), one a day late (20/03 09:00), collected and rated 2 that morning; two left open past their
    deadline. On Fri 20/03 09:30: two more at Hoàn Kiếm. The clock ends on Fri 20/03/2026 10:00."""
    numbers = {}
    for name in ("early1", "early2", "due_day", "late", "overdue"):
        numbers[name] = factories.create_dossier(client, agent_key, procedure_code=PROCEDURE)["number"]
    numbers["outside"] = factories.create_dossier(
        client, agent_key, procedure_code=PROCEDURE, location={"lat": 10.7769, "lon": 106.7009, "source": "gps"},
        outside_hanoi_reason="Công dân tạm trú tại Hà Nội, nộp hộ")["number"]
    clock.set(datetime(2026, 3, 10, 15, 0, tzinfo=LOCAL_TZ))
    for name, rating in (("early1", 5), ("early2", 4)):
        _move(client, officer_key, numbers[name], "accepted", "processing", "result_ready", "collected")
        _rate(app, numbers[name], rating, "Nhanh, chu đáo" if rating == 5 else None)
    clock.set(datetime(2026, 3, 19, 10, 0, tzinfo=LOCAL_TZ))
    _move(client, officer_key, numbers["due_day"], "accepted", "processing", "result_ready")
    clock.set(datetime(2026, 3, 20, 9, 0, tzinfo=LOCAL_TZ))
    _move(client, officer_key, numbers["late"], "accepted", "processing", "result_ready", "collected")
    _rate(app, numbers["late"], 2, "Trả kết quả chậm một ngày")
    clock.set(datetime(2026, 3, 20, 9, 30, tzinfo=LOCAL_TZ))
    for name in ("today1", "today2"):
        numbers[name] = factories.create_dossier(client, agent_key, procedure_code=PROCEDURE)["number"]
    clock.set(NOW)
    with app.app_context():
        factories.create_user("leadership", email=LEADER)
    return numbers


def _utc(value) -> datetime:
    return as_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


def raw_figures(app, first: date, last: date, now: datetime) -> dict:
    """The page's key figures for the local days ``first``..``last``, from the dossiers, their timeline and the
    ratings alone."""
    with app.app_context():
        dossiers = db.session.execute(text(
            "SELECT d.received_at, d.deadline_at, d.status, d.outside_service_radius, "
            "(SELECT MIN(e.at) FROM dossier_events e WHERE e.dossier_id = d.id AND e.to_status = 'result_ready') "
            "FROM dossiers d")).all()
        ratings = db.session.execute(text("SELECT rating, created_at FROM feedback")).all()

    def within(moment) -> bool:
        return first <= to_local(_utc(moment)).date() <= last

    out = dict.fromkeys(("received", "resolved", "early", "on_time", "late", "overdue_now", "outside_radius"), 0)
    for received, deadline, status, outside, resolved in dossiers:
        deadline = _utc(deadline)
        if within(received):
            out["received"] += 1
            out["outside_radius"] += bool(outside)
        if resolved is not None and within(resolved):
            resolved = _utc(resolved)
            out["resolved"] += 1
            if resolved > deadline:
                out["late"] += 1
            elif to_local(resolved).date() < to_local(deadline).date():
                out["early"] += 1
            else:
                out["on_time"] += 1
        if status in OPEN and deadline < as_utc(now):  # overdue now, whatever the period
            out["overdue_now"] += 1
    out["on_time_rate"] = (100 * (out["early"] + out["on_time"]) / out["resolved"]) if out["resolved"] else None
    rated = [rating for rating, at in ratings if within(at)]
    out["rating_avg"] = sum(rated) / len(rated) if rated else None
    return out


DECIMALS = {"on_time_rate": 1, "rating_avg": 2}  # the precision the figures are given to


def shown(key: str, value) -> str:
    """A figure as the Vietnamese page writes it: counts as they are, the rate (to 0.1) and the average (to
    0.01) with two decimals and a decimal comma, nothing as a dash."""
    if value is None:
        return "—"
    if key in DECIMALS:
        return f"{round(value, DECIMALS[key]):.2f}".replace(".", ",")
    return str(value)


def _signed_in(browser, live_server, email: str, landing: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN", accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"**{landing}")
    return context, page


def _kpis(page) -> dict[str, str]:
    return {key: page.locator(f"#kpi-{key} .v").inner_text().strip() for key in KPIS}


def _download(page, link) -> bytes:
    with page.expect_download(timeout=60_000) as info:  # the machine may be busy: no timing is asserted
        link.click()
    with open(info.value.path(), "rb") as handle:
        return handle.read()


def test_the_figures_for_today_and_the_month_match_the_raw_rows(app, browser, live_server, month, shoot):
    today = raw_figures(app, *TODAY, NOW)
    whole = raw_figures(app, *MONTH, NOW)
    # The scenario as designed, so the comparison below compares something.
    assert (today["received"], today["resolved"], today["late"], today["overdue_now"]) == (2, 1, 1, 2)
    assert (whole["received"], whole["resolved"], whole["early"], whole["on_time"], whole["late"]) == (8, 4, 2, 1, 1)
    assert whole["outside_radius"] == 1 and whole["on_time_rate"] == 75.0 and today["rating_avg"] == 2.0
    context, page = _signed_in(browser, live_server, LEADER, "/monitoring")
    problems = _watch(page)
    try:
        expect(page.get_by_role("heading", name="Giám sát trực tuyến")).to_be_visible()
        expect(page.locator("#period-shown")).to_contain_text("20/03/2026 đến 20/03/2026")
        assert _kpis(page) == {key: shown(key, today[key]) for key in KPIS}

        page.get_by_label("Từ ngày").fill(MONTH[0].isoformat())
        page.get_by_label("Đến ngày").fill(MONTH[1].isoformat())
        page.get_by_role("button", name="Xem").click()
        expect(page.locator("#period-shown")).to_contain_text("01/03/2026 đến 31/03/2026")
        assert _kpis(page) == {key: shown(key, whole[key]) for key in KPIS}
        assert page.locator("#kpi-rating_avg .v").inner_text() == "3,67"  # (5 + 4 + 2) / 3

        # The charts: server-drawn SVG, each with its figures as a table.
        charts = page.locator("figure.chart")
        expect(charts).to_have_count(3)  # per day, outcomes per point, ratings
        for i in range(3):
            expect(charts.nth(i).locator("svg")).to_have_count(1)
            assert charts.nth(i).locator("svg").bounding_box()["height"] > 50
        shoot(page, "monitoring-month")

        # Grouped by agent organisation: one organisation, the whole month on its row.
        page.get_by_label("Nhóm theo").select_option("organisation")
        page.get_by_role("button", name="Xem").click()
        rows = page.locator("#table-groups tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first.locator("th")).to_contain_text("VNPOST-HN")
        assert rows.first.locator("td").first.inner_text() == str(whole["received"])
        assert problems == []
    finally:
        context.close()


def test_exports_download_as_csv_and_xlsx_and_match_the_page(app, browser, live_server, month):
    whole = raw_figures(app, *MONTH, NOW)
    context, page = _signed_in(browser, live_server, LEADER, "/monitoring")
    try:
        page.goto(f"{live_server}/monitoring?from=2026-03-01&to=2026-03-31&by=point&lang=en")
        groups = page.locator("#table-groups").locator("xpath=ancestor::section")
        rows = list(csv.reader(io.StringIO(_download(page, groups.get_by_role("link", name="CSV"))
                                           .decode("utf-8").lstrip("\ufeff"))))
        figures = dict(zip(rows[0], rows[-1], strict=True))
        assert rows[-1][0] == "Total"
        for header, key in (("Received", "received"), ("Resolved", "resolved"), ("Early", "early"),
                            ("On time", "on_time"), ("Late", "late"), ("Overdue now", "overdue_now"),
                            ("Outside the service radius", "outside_radius")):
            assert int(figures[header]) == whole[key], header
        assert float(figures["On-time rate (%)"]) == whole["on_time_rate"]

        book = load_workbook(io.BytesIO(_download(page, groups.get_by_role("link", name="XLSX"))))
        sheet = [[cell.value for cell in row] for row in book.active.iter_rows(min_row=2)]
        assert sheet[0][:3] == ["Service point", "Received", "Resolved"]
        assert sheet[-1][:3] == ["Total", whole["received"], whole["resolved"]]  # numbers, not text

        # Every other table downloads and parses too (a tab of its own each: Chromium holds back a page's
        # downloads after the first ten, as "multiple automatic downloads").
        for table in ("payments", "ratings", "sipas", "comments", "alerts"):
            tab = context.new_page()
            tab.goto(f"{live_server}/monitoring?from=2026-03-01&to=2026-03-31&by=point&lang=en")
            section = tab.locator(f"#table-{table}").locator("xpath=ancestor::section")
            header = next(csv.reader(io.StringIO(_download(tab, section.get_by_role("link", name="CSV"))
                                                 .decode("utf-8-sig"))))
            assert header == [h.inner_text() for h in tab.locator(f"#table-{table} thead th").all()], table
            book = load_workbook(io.BytesIO(_download(tab, section.get_by_role("link", name="XLSX"))))
            rows = list(book.active.iter_rows(min_row=3, values_only=True))
            if table == "ratings":
                counted = {row[0]: row[1] for row in rows}
                assert (counted["5 ★"], counted["4 ★"], counted["2 ★"], counted["1 ★"]) == (1, 1, 1, 0)
            if table == "comments":  # the two ratings written with a comment
                assert sorted(row[4] for row in rows) == ["Nhanh, chu đáo", "Trả kết quả chậm một ngày"]
            tab.close()
    finally:
        context.close()


def test_the_map_colours_a_full_point_and_rings_its_overdue(app, browser, live_server, month, shoot):
    with app.app_context():
        point_id = db.session.scalar(select(Dossier.service_point_id).where(Dossier.number == month["today1"]))
        point = db.session.get(ServicePoint, point_id)
        code, capacity = point.code, point.daily_capacity
        received_today = db.session.scalar(select(db.func.count()).select_from(Dossier).where(
            Dossier.service_point_id == point_id,
            Dossier.received_at >= as_utc(datetime(2026, 3, 20, tzinfo=LOCAL_TZ))))
        overdue = db.session.scalar(select(db.func.count()).select_from(Dossier).where(
            Dossier.service_point_id == point_id, Dossier.status.in_(OPEN), Dossier.deadline_at < as_utc(NOW)))
        points = db.session.scalar(select(db.func.count()).select_from(ServicePoint))
        point.daily_capacity = 2  # two received today: 100 %, above the 90 % band
        db.session.commit()
    assert received_today == 2 and overdue >= 1
    context, page = _signed_in(browser, live_server, LEADER, "/monitoring")
    problems = _watch(page)
    try:
        page.get_by_role("link", name="Bản đồ mạng lưới hôm nay").click()
        network = page.locator("#network-map")
        expect(network).to_have_attribute("data-ready", str(points))
        bands = json.loads(network.get_attribute("data-bands"))
        assert bands["high"] == 1 and sum(bands.values()) == points
        expect(network.locator(".leaflet-overlay-pane canvas, .leaflet-overlay-pane svg").first).to_be_attached()
        row = page.locator(f'#table-network tr[data-code="{code}"]')
        expect(row).to_have_attribute("data-band", "high")
        cells = row.locator("td.num")
        assert [cells.nth(i).inner_text() for i in range(4)] == ["2", "2", "100,00", str(overdue)]
        expect(page.locator('#table-network tr[data-band="high"]')).to_have_count(1)
        page.wait_for_load_state("networkidle")  # the outline drawn and fitted before the full-page shot resizes
        shoot(page, "monitoring-map")
        assert problems == []  # no CSP violation, no script error, every asset found (Leaflet, the outline)
    finally:
        context.close()
        with app.app_context():
            db.session.get(ServicePoint, point_id).daily_capacity = capacity
            db.session.commit()


def _run_alert_job(app, clock, at: datetime) -> int:
    """The quality-alerts job's occurrences due by ``at`` (its topic only), as the worker runs them."""
    clock.set(at)
    with app.app_context():
        periodic.ensure_scheduled(as_utc(at) - timedelta(minutes=15))
        return outbox.run_due(now=as_utc(at), topic=TOPIC)


def test_an_alert_raised_by_the_job_is_acknowledged_with_a_note(app, browser, live_server, month, clock, shoot):
    context, page = _signed_in(browser, live_server, LEADER, "/monitoring")
    try:
        expect(page.locator("#alerts .alert-item")).to_have_count(0)  # the page load raises nothing
        with app.app_context():
            assert db.session.scalar(select(db.func.count()).select_from(QualityAlert)) == 0

        assert _run_alert_job(app, clock, NOW + timedelta(minutes=5)) == 1
        with app.app_context():
            raised = {(a.kind, a.dossier_number): a.id for a in db.session.scalars(select(QualityAlert))}
        low = raised[("low_rating", month["late"])]  # the rating of 2 this morning
        page.reload()
        item = page.locator(f"#alert-{low}")
        expect(item).to_contain_text(month["late"])
        expect(page.locator("#alerts .alert-item")).to_have_count(len(raised))

        item.get_by_label("Việc đã làm (ghi chú)").fill("Đã gọi điện xin lỗi người dân")
        item.get_by_role("button", name="Xác nhận đã xử lý").click()
        expect(page.get_by_role("status")).to_contain_text("Đã xử lý cảnh báo.")
        expect(page.locator(f"#alert-{low}")).to_have_count(0)
        expect(page.locator("#alerts .alert-item")).to_have_count(len(raised) - 1)
        expect(page.locator("#table-alerts")).to_contain_text("Đã gọi điện xin lỗi người dân")
        shoot(page, "monitoring-alert-acknowledged")
        with app.app_context():
            alert = db.session.get(QualityAlert, low)
            assert alert.acknowledged_by == f"user:{LEADER}" and alert.note == "Đã gọi điện xin lỗi người dân"
            assert alert.acknowledged_at is not None
            assert [a.id for a in db.session.scalars(select(QualityAlert).where(
                QualityAlert.acknowledged_at.is_not(None)))] == [low]
    finally:
        context.close()


@pytest.mark.parametrize("role", ["agent", "branch_officer"])
def test_an_agent_or_an_officer_is_refused_the_monitoring(app, browser, live_server, role):
    email = f"{role}.e2e@test.vn"
    with app.app_context():
        org = factories.create_org() if role == "agent" else None
        factories.create_user(role, email=email, org=org)
    context, page = _signed_in(browser, live_server, email, "/portal" if role == "agent" else "/branch")
    try:
        for path in ("/monitoring", "/monitoring/map", "/monitoring/export/groups.csv", "/monitoring/network.json"):
            response = page.goto(f"{live_server}{path}")
            assert response.status == 403, path
        page.goto(f"{live_server}/monitoring")
        expect(page.locator("#kpi-received")).to_have_count(0)
        expect(page.locator("main")).to_contain_text("quyền")
    finally:
        context.close()
